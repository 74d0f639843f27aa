"""Read a French home-insurance certificate (attestation d'assurance habitation), offline.

Input: a PDF with a text layer (read with pdfplumber, words regrouped into lines and cells so
label–value tables and two-column layouts keep their structure), a text file, or the text
itself. Output: :class:`ExtractedCertificate` — insurer, policy number, insured names, covered
address, validity start and end, and a confidence.

How each field is found, in order of trust:

* **insurer** — an ``Assureur :`` label, else the first known insurer name or brand in the
  document (MAIF, MACIF, Pacifica / Crédit Agricole Assurances, Sogessur / Société Générale
  Assurances…), else the first header line naming an insurance company or mutual;
* **policy number** — after a contract label (``N° de contrat``, ``Contrat … n°``, ``Numéro
  de police``, ``Référence du contrat``, ``sous le numéro``), never after a member, client,
  SIREN or ORIAS label;
* **insured names** — labels (``Assuré(s)``, ``Souscripteur``, ``Co-assuré``, ``Preneur
  d'assurance``, ``Titulaire(s)``, ``Sociétaire``, ``Nom de l'assuré``), else the sentence
  ``… atteste/certifie que M. X et Mme Y …``; civilities removed;
* **address** — a risk label (``Adresse du risque``, ``Lieu du risque``, ``Situation du
  risque``, ``Adresse assurée``, ``Logement assuré``, ``locaux situés``…), continued on the next
  lines of the same column until a postcode; complements (bâtiment, appartement) dropped;
* **dates** — a validity range (``du … au …``, ``… - …``, ``à compter du … jusqu'au …``),
  else dates labelled as start (``date d'effet``, ``prise d'effet``, ``début``) and end
  (``échéance``, ``expiration``, ``fin``, ``jusqu'au``); issue, subscription and birth dates are
  ignored. Figures (``01/02/2025``, ``01.02.2025``, ``2025-02-01``) and words
  (``1er février 2025``) are understood.

:func:`read_certificate` is pure and thread-safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connectors.ai_insurance.control import STREET_TYPES, fold
from pivot.errors import RejectedError

READER_VERSION = "pivot-certificate-reader-1.0.0"


class CertificateReadError(RejectedError):
    """The document cannot be read (missing, not a PDF or text, no text layer)."""

    kind = "unreadable_document"


class ExtractedCertificate(BaseModel):
    """What was read on a certificate; every field is ``None`` (or empty) when not found."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insurer: str | None = None
    """Insurer (canonical name for known insurers, e.g. ``Crédit Agricole Assurances (Pacifica)``)."""
    policy_number: str | None = None
    """Policy (contract) number as printed."""
    insured_names: list[str] = Field(default_factory=list)
    """Insured persons as printed, civility removed."""
    address: str | None = None
    """Covered address, ``"<number> <street>, <postcode> <city>"``."""
    valid_from: date | None = None
    """First day of cover."""
    valid_to: date | None = None
    """Last day of cover."""
    confidence: float = Field(default=0.0, ge=0, le=1)
    """Confidence of the reading, 0 to 1 (share of fields found, weighted by how they were found)."""
    reader_version: str = READER_VERSION
    """Version of the reader that produced this."""

    def public(self) -> dict[str, Any]:
        """The JSON object printed by ``pivot ai read-certificate`` (dates ISO, ``None`` when absent)."""
        return {
            "insurer": self.insurer,
            "policy_number": self.policy_number,
            "insured_names": list(self.insured_names),
            "address": self.address,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "confidence": self.confidence,
        }


# --- document model: lines of cells ----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A run of words on one line, separated from its neighbours by a wide gap."""

    x: float
    """Left position in character widths (PDF points / 5, or the column in plain text)."""
    text: str


Line = list[Cell]


def _pdf_lines(path: Path) -> list[Line]:
    try:
        import pdfplumber
        from pdfminer.pdfparser import PDFSyntaxError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise CertificateReadError("pdfplumber is not installed") from exc
    lines: list[Line] = []
    try:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                words = page.extract_words(x_tolerance=2, y_tolerance=3, extra_attrs=["size"])
                rows: list[list[dict[str, Any]]] = []
                for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
                    if rows and abs(rows[-1][0]["top"] - word["top"]) <= 3:
                        rows[-1].append(word)
                    else:
                        rows.append([word])
                for row in rows:
                    row.sort(key=lambda w: w["x0"])
                    cells: Line = []
                    current: list[str] = []
                    start = row[0]["x0"]
                    previous: dict[str, Any] | None = None
                    for word in row:
                        if previous is not None and word["x0"] - previous["x1"] > 1.2 * max(
                            word["size"], previous["size"]
                        ):
                            cells.append(Cell(start / 5, " ".join(current)))
                            current, start = [], word["x0"]
                        current.append(word["text"])
                        previous = word
                    cells.append(Cell(start / 5, " ".join(current)))
                    lines.append(cells)
    except (PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise CertificateReadError(f"{path.name}: not a readable PDF ({exc.__class__.__name__})") from exc
    except Exception as exc:
        if exc.__class__.__name__ in {"PdfminerException", "PSEOF", "PSSyntaxError", "PDFPasswordIncorrect"}:
            raise CertificateReadError(f"{path.name}: not a readable PDF ({exc.__class__.__name__})") from exc
        raise
    if not any(cell.text.strip() for line in lines for cell in line):
        raise CertificateReadError(f"{path.name}: the PDF has no text layer (scanned image?); OCR it first")
    return lines


def _text_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        raw = raw.expandtabs(8).rstrip()
        if not raw.strip():
            continue
        cells = [Cell(m.start(), m.group(0).strip()) for m in re.finditer(r"\S+(?: \S+)*", raw)]
        lines.append(cells)
    return lines


def _load(path_or_text: str | Path | bytes) -> list[Line]:
    if isinstance(path_or_text, bytes):
        if path_or_text.startswith(b"%PDF"):
            import tempfile

            with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
                tmp.write(path_or_text)
                tmp.flush()
                return _pdf_lines(Path(tmp.name))
        try:
            return _text_lines(path_or_text.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CertificateReadError("bytes are neither a PDF nor UTF-8 text") from exc
    if isinstance(path_or_text, Path) or (
        "\n" not in path_or_text
        and len(path_or_text) < 4096
        and Path(path_or_text).suffix.lower() in {".pdf", ".txt", ".text", ""}
        and Path(path_or_text).exists()
    ):
        path = Path(path_or_text)
        if not path.exists():
            raise CertificateReadError(f"{path}: no such file")
        if path.is_dir():
            raise CertificateReadError(f"{path}: is a directory, not a certificate")
        head = path.read_bytes()[:5]
        if head.startswith(b"%PDF"):
            return _pdf_lines(path)
        if path.suffix.lower() == ".pdf":
            raise CertificateReadError(f"{path.name}: not a PDF (no %PDF header)")
        try:
            return _text_lines(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise CertificateReadError(f"{path.name}: neither a PDF nor UTF-8 text") from exc
    return _text_lines(str(path_or_text))


# --- vocabulary -------------------------------------------------------------------------------

#: Known insurers: folded regular expression → canonical name (first match in the text wins).
INSURERS: list[tuple[str, str]] = [
    (r"pacifica|credit agricole assurances?|credit agricole", "Crédit Agricole Assurances (Pacifica)"),
    (r"sogessur|societe generale assurances?|societe generale|sg assurances", "Société Générale Assurances"),
    (r"garantie mutuelle des fonctionnaires|gmf", "GMF"),
    (r"maif|filia maif", "MAIF"),
    (r"macif|mutuelle assurance des commercants et industriels", "MACIF"),
    (r"maaf", "MAAF"),
    (r"matmut", "Matmut"),
    (r"axa", "AXA"),
    (r"allianz", "Allianz"),
    (r"groupama", "Groupama"),
    (r"gan assurances|gan", "Gan Assurances"),
    (r"mma|mutuelles du mans", "MMA"),
    (r"generali", "Generali"),
    (r"macsf", "MACSF"),
    (r"mae|mutuelle assurance de l education", "MAE"),
    (r"swiss ?life", "Swiss Life"),
    (r"abeille assurances|aviva", "Abeille Assurances"),
    (r"direct assurance", "Direct Assurance"),
    (r"bpce assurances?|bpce iard|caisse d epargne|banque populaire", "BPCE Assurances"),
    (r"assurances du credit mutuel|credit mutuel|acm iard|cic", "Assurances du Crédit Mutuel"),
    (r"la banque postale(?: assurances?)?(?: iard)?", "La Banque Postale Assurances"),
    (r"lcl", "LCL (Pacifica)"),
    (r"thelem", "Thélem assurances"),
    (r"mutuelle de poitiers", "Mutuelle de Poitiers Assurances"),
    (r"smacl", "SMACL Assurances"),
    (r"luko", "Luko"),
    (r"leocare", "Leocare"),
    (r"lovys", "Lovys"),
    (r"hiscox", "Hiscox"),
    (r"l olivier assurances?", "L'olivier Assurance"),
    (r"april", "April"),
    (r"ag2r", "AG2R La Mondiale"),
    (r"hello bank|bnp paribas cardif|cardif|bnp paribas", "BNP Paribas Cardif"),
    (r"ageas", "Ageas"),
    (r"euro ?assurance", "Euro-Assurance"),
]
_INSURER_RE = [(re.compile(r"\b(?:" + rx + r")\b"), name) for rx, name in INSURERS]

_MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "mar": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
_DATE_RE = re.compile(
    r"\b(?:(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})"
    r"|(?P<d2>\d{1,2})\s?[/.\-]\s?(?P<m2>\d{1,2})\s?[/.\-]\s?(?P<y2>\d{4}|\d{2})"
    r"|(?P<d3>1er|\d{1,2})\s+(?P<m3>"
    + "|".join(sorted(_MONTHS, key=len, reverse=True))
    + r")\.?\s+(?P<y3>\d{4}))\b"
)
_RANGE_JOIN = re.compile(
    r"^\s*(?:,?\s*(?:au|a|jusqu au|jusqu a|et le|et|-|–|—|>|→|to)\s*(?:le|l)?\s*|\s*-\s*)$"
)
_LABEL_SUFFIX = (
    r"(?:\s+(?:de|du|d|des)\s+(?:la\s+|l\s+)?(?:validite|garantie|garanties|couverture|contrat|periode"
    r"|attestation|assurance|police|cotisation))?"
)
_START_LABEL = re.compile(
    r"(?:date d effet|prise d effet|pris effet|prend effet|effet|debut|date de debut|commencement"
    r"|a compter du"
    r"|a partir du|a compter de|valable du|valide du|garantie du|periode du|du)"
    + _LABEL_SUFFIX
    + r"\W*(?:le\W*)?$"
)
_END_LABEL = re.compile(
    r"(?:echeance|date d echeance|date de fin|fin|expiration|expire le|expire|jusqu au|jusqu a|terme"
    r"|au|valable"
    r" jusqu au|fin de validite|fin de garantie|date limite)" + _LABEL_SUFFIX + r"\W*(?:le\W*)?$"
)
_IGNORED_DATE = re.compile(
    r"(?:souscri\w*|emis\w*|emission|edite\w*|edition|etabli\w*|fait a [\w\- ]+|fait le|imprime\w*"
    r"|ne le|nee le"
    r"|naissance|signe\w*|delivre\w*|depuis le|depuis|adhesion|cree\w* le|mise a jour|^le|, le"
    r"|^[\w\- ]+, le)\W*$"
)
_VALIDITY_CONTEXT = re.compile(r"valab|validit|periode|garanti|couvert|assur|effet|attestation|contrat|du\b")

_POLICY_LABELS = re.compile(
    r"(?:(?:n[°o]|num(?:ero)?|no|ref(?:erence)?)\.?\s*(?:de |du |d )?(?:votre )?(?:contrat|police"
    r"|adhesion au contrat)"
    r"(?: d assurance)?(?: habitation)?"
    r"|(?:contrat|police)(?:\s+[a-z0-9\-]+){0,3}?\s*(?:n[°o]|numero|no|num)\.?"
    r"|reference(?: du| de| de votre)? contrat|ref\.? contrat|numero de police|sous le numero|sous le n[°o]"
    r"|(?:contrat|police|reference)\s*(?=:))\s*:?\s*"
)
_BAD_POLICY_CONTEXT = re.compile(
    r"(?:societaire|adherent|client|siren|siret|orias|rcs|tva|telephone|tel|sinistre"
    r"|compte|iban|bic|capital)\W*$"
)
_POLICY_TOKEN = re.compile(r"^[A-Z0-9][A-Z0-9\-/\.]*$")

_NAME_LABELS = re.compile(
    r"^(?:noms? (?:et prenoms? )?(?:de l |des |du )?(?:assure(?!ur)s?|souscripteurs?|titulaires?"
    r"|preneurs?)(?:\(s\))?"
    r"|(?:co-? ?)?assure(?!ur)(?:\(e\))?(?:\(s\)|s)?(?: principal| \(e\)s?)?|souscripteurs?(?:\(s\))?"
    r"|co-? ?souscripteurs?|autres? assure(?!ur)s?|conjoint(?: assure)?|preneurs? d assurance"
    r"|titulaires?(?:\(s\))?(?: du contrat)?|societaires?|adherent(?:\(e\))?|beneficiaires?(?:\(s\))?"
    r"|nom(?:\(s\))?(?= *:)|noms? et prenoms?|identite de l assure"
    r"|locataires?(?: assures?)?)\s*:?\s*(?![a-z])"
)
_NAME_SENTENCE = re.compile(
    r"(?:attest\w*|certifi\w*|confirm\w*|declar\w*)(?: par la presente)? que\s*:?\s+(?P<who>.+?)"
    r"(?=\s+(?:est|sont|a|ont|demeurant|domicilie\w*|residant|habitant|beneficie\w*|dispose\w*|titulaire\w*"
    r"|assure\w*|ne|nee)\b|[,;\n(]|$)"
)
_NAME_SUBJECT = re.compile(
    r"(?:^|\n|[.:] )\s*(?P<who>(?:m|mr|mme|mlle|monsieur|madame|mademoiselle)\.?\s[^\n]{2,90}?)\s+(?:est"
    r"|sont)\s+"
    r"(?:bien )?(?:titulaire|assure|couvert|souscripteur|beneficiaire|garanti)"
)
_FIRST_NAME_LABEL = re.compile(r"^prenoms?\s*:?\s*")
_LAST_NAME_LABEL = re.compile(r"^nom(?: de famille| d usage)?\s*:?\s*(?![a-z])")
_CIVILITY_WORDS = r"(?:m|mr|mme|mlle|mrs|dr|monsieur|madame|mademoiselle|messieurs|mesdames|mm)\.?"
_CIVILITY = re.compile(r"^\s*(?:" + _CIVILITY_WORDS + r"\s+(?:(?:et|&)\s+)?)+", re.IGNORECASE)
_COUPLE = re.compile(
    r"^\s*"
    + _CIVILITY_WORDS
    + r"\s+(?:et|&)\s+"
    + _CIVILITY_WORDS
    + r"\s+(?P<a>[^\W\d_][\w'\-]*)\s+(?:et|&)\s+(?P<b>[^\W\d_][\w'\-]*)\s+(?P<surname>.+)$",
    re.IGNORECASE,
)
_PARTICLES = {
    "de",
    "du",
    "des",
    "la",
    "le",
    "d'",
    "da",
    "van",
    "von",
    "el",
    "ben",
    "ibn",
    "dos",
    "di",
    "epouse",
    "épouse",
    "née",
    "nee",
    "ép.",
    "ep.",
    "veuve",
    "vve",
}

_ADDRESS_LABELS = re.compile(
    r"(?:adresse (?:du |de l |des |de la )?(?:risque|bien assure|biens assures|locaux assures"
    r"|logement(?: assure)?"
    r"|habitation(?: assuree)?|domicile assure|lieu assure|location|residence assuree|local assure)"
    r"|adresse (?:assuree|garantie|couverte)|lieu (?:du risque|assure|de situation du risque)"
    r"|situation du risque"
    r"|risque assure|logement assure|bien assure|locaux assures|lieu de risque|habitation assuree"
    r"|adresse de risque"
    r"|(?:logement|locaux|local|habitation|appartement|maison|biens?|lieux?|risque)s? (?:situe|sis"
    r"|situee|sise)s?"
    r"(?: au| a l adresse| a)?|situee? au|domicilie\w* au|demeurant(?: au| a)?)\s*:?\s*"
)
_STREET_TYPE_RE = (
    r"(?:" + "|".join(sorted({re.escape(k) for k in STREET_TYPES}, key=len, reverse=True)) + r")"
)
_STREET_RE = re.compile(r"\b\d{1,4}\s*(?:bis|ter|quater|[a-d])?\s*,?\s+" + _STREET_TYPE_RE + r"\b\.?")
_POSTCODE_CITY = re.compile(r"\b(\d{5})\s+([^\W\d_][^\n,;()]*)")
_HEAD_OFFICE = re.compile(
    r"cedex|siege|rcs|r\.c\.s|capital|\bcs ?\d|\bbp ?\d|orias|code des assurances|sa au|s\.a\.|"
    r"societe anonyme|mutuelle d assurance|entreprise regie|\bsiren\b"
)
_COMPLEMENT_SEGMENT = re.compile(
    r"^(?:bat(?:iment)?\.?|bt|app(?:ar)?t(?:ement)?\.?|apt|esc(?:alier)?\.?|etage|\d+(?:e|er|eme"
    r"|ere) etage|porte"
    r"|residence|res\.?|tour|immeuble|entree|logement|cite)\b"
)


# --- helpers -------------------------------------------------------------------------------------


def _line_text(line: Line) -> str:
    return "  ".join(cell.text for cell in line)


def _cells(lines: list[Line]) -> Iterator[tuple[int, int, Cell]]:
    for i, line in enumerate(lines):
        for j, cell in enumerate(line):
            yield i, j, cell


def _below(lines: list[Line], i: int, x: float, tolerance: float = 4.0) -> Cell | None:
    """The cell starting at about ``x`` on the line after ``i``."""
    if i + 1 >= len(lines):
        return None
    for cell in lines[i + 1]:
        if abs(cell.x - x) <= tolerance:
            return cell
    return None


def _values_after_label(lines: list[Line], i: int, j: int, end: int) -> list[tuple[str, int, float]]:
    """Candidate values for a label ending at ``end`` in cell (i, j), most likely first.

    Same cell after the label, else the next cell on the line (a table row), then the cell
    below the label (a block whose title is above its content).
    """
    cell = lines[i][j]
    rest = cell.text[end:].strip(" :\t-")
    if rest:
        return [(rest, i, cell.x + end)]
    candidates = []
    if j + 1 < len(lines[i]):
        nxt = lines[i][j + 1]
        candidates.append((nxt.text.strip(" :"), i, nxt.x))
    below = _below(lines, i, cell.x)
    if below is not None and not _is_label(below.text):
        candidates.append((below.text.strip(" :"), i + 1, below.x))
    return candidates


def _value_after_label(lines: list[Line], i: int, j: int, end: int) -> tuple[str, int, float]:
    candidates = _values_after_label(lines, i, j, end)
    return candidates[0] if candidates else ("", i, lines[i][j].x)


_ANY_LABEL = re.compile(
    r"^[^:]{2,40}:\s*\S|^(?:date|n[°o]|numero|contrat|adresse|assure|souscripteur|periode|"
    r"validite|garantie|echeance|expiration|prise d effet|fait|edite|lieu|situation)\b"
)


def _is_label(text: str) -> bool:
    return bool(_ANY_LABEL.match(fold(text).strip()))


def _parse_date(match: re.Match[str]) -> date | None:
    try:
        if match.group("y1"):
            return date(int(match.group("y1")), int(match.group("m1")), int(match.group("d1")))
        if match.group("y2"):
            year = int(match.group("y2"))
            year += 2000 if year < 100 else 0
            return date(year, int(match.group("m2")), int(match.group("d2")))
        day = 1 if match.group("d3") == "1er" else int(match.group("d3"))
        return date(int(match.group("y3")), _MONTHS[match.group("m3")], day)
    except (ValueError, KeyError):
        return None


# --- fields -------------------------------------------------------------------------------------


def find_insurer(lines: list[Line]) -> tuple[str | None, float]:
    """The insurer and how sure the finding is."""
    for i, j, cell in _cells(lines):
        folded = fold(cell.text)
        match = re.match(
            r"^(?:assureur|compagnie(?: d assurances?)?|societe d assurances?|organisme assureur"
            r"|nom de l assureur|assure par|porteur de risque)\s*(?::\s*|$)",
            folded,
        )
        if match:
            value, _, _ = _value_after_label(lines, i, j, match.end())
            if value:
                for regex, name in _INSURER_RE:
                    if regex.search(fold(value)):
                        return name, 1.0
                return value.strip(" .,"), 0.8
    text = fold("\n".join(_line_text(line) for line in lines))
    best: tuple[int, str] | None = None
    for regex, name in _INSURER_RE:
        match = regex.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), name)
    if best is not None:
        return best[1], 1.0
    for line in lines[:6]:
        candidate = _line_text(line)
        if re.search(r"assurances?|mutuelle|insurance", fold(candidate)) and len(candidate) < 60:
            return candidate.strip(" .,"), 0.5
    return None, 0.0


def _clean_policy(value: str) -> str | None:
    tokens = []
    for token in value.replace("\t", " ").split():
        token = token.strip(",;()")
        if token.endswith(".") and not re.search(r"\d\.\d", token):
            token = token[:-1]
        if not token or not _POLICY_TOKEN.match(token) or (token.isalpha() and len(token) > 6):
            break
        tokens.append(token)
        if token.endswith(","):
            break
    while tokens and tokens[-1] in {"-", "/", "."}:
        tokens.pop()
    candidate = " ".join(tokens).strip(" -/.")
    if sum(ch.isdigit() for ch in candidate) < 4:
        return None
    return candidate


def find_policy_number(lines: list[Line]) -> tuple[str | None, float]:
    """The policy number and how sure the finding is."""
    for i, j, cell in _cells(lines):
        folded = fold(cell.text)
        for match in _POLICY_LABELS.finditer(folded):
            if _BAD_POLICY_CONTEXT.search(folded[: match.start()]):
                continue
            if match.end() < len(folded):
                value = _clean_policy(cell.text[match.end() :])
            else:
                value = next(
                    (
                        v
                        for v in (_clean_policy(c[0]) for c in _values_after_label(lines, i, j, match.end()))
                        if v
                    ),
                    None,
                )
            if value:
                return value, 1.0
    return None, 0.0


def _split_names(value: str) -> list[str]:
    value = re.sub(r"\s+", " ", value).strip(" .:;,")
    couple = _COUPLE.match(value)
    if couple:
        surname = couple.group("surname").strip(" .")
        return [f"{couple.group('a')} {surname}", f"{couple.group('b')} {surname}"]
    names: list[str] = []
    for part in re.split(r"\s+(?:et|&)\s+|\s*[,;/+]\s*|\s+-\s+", value):
        part = _CIVILITY.sub("", part).strip(" .:")
        part = re.split(r"\s+(?:ne|nee|né|née)\s+le\b|\s*\(", part)[0].strip()
        if not part or re.search(r"\d", part):
            continue
        words = part.split()
        if not 1 <= len(words) <= 6:
            continue
        if any(
            not (w[0].isupper() or w.lower() in _PARTICLES or w.lower().startswith(("d'", "l'")))
            for w in words
        ):
            continue
        if not any(w[0].isupper() for w in words):
            continue
        names.append(part)
    return names


def find_insured_names(lines: list[Line]) -> tuple[list[str], float]:
    """The insured persons and how sure the finding is."""
    found: list[str] = []
    has_first_name = any(_FIRST_NAME_LABEL.match(fold(cell.text)) for _, _, cell in _cells(lines))
    for i, j, cell in _cells(lines):
        folded = fold(cell.text)
        match = _NAME_LABELS.match(folded)
        if not match or (
            has_first_name and re.match(r"^noms?\b(?!.*(?:assur|titul|souscri|preneur))", folded)
        ):
            continue
        for value, _, _ in _values_after_label(lines, i, j, match.end()):
            names = _split_names(value)
            for name in names:
                if name not in found:
                    found.append(name)
            if names:
                break
    if found:
        return found, 1.0
    # separate "Nom :" and "Prénom :" fields
    last = first = None
    for i, j, cell in _cells(lines):
        folded = fold(cell.text)
        for regex, slot in ((_FIRST_NAME_LABEL, "first"), (_LAST_NAME_LABEL, "last")):
            match = regex.match(folded)
            if match:
                value, _, _ = _value_after_label(lines, i, j, match.end())
                if value and slot == "first" and first is None:
                    first = value.split("  ")[0].strip()
                elif value and slot == "last" and last is None:
                    last = value.split("  ")[0].strip()
    if last:
        names = _split_names(f"{first} {last}" if first else last)
        if names:
            return names, 0.9
    text = "\n".join(_line_text(line) for line in lines)
    joined = re.sub(r"\s*\n\s*", " ", text)
    folded = fold(joined)
    for match in _NAME_SENTENCE.finditer(folded):
        names = _split_names(joined[match.start("who") : match.end("who")])
        if names:
            return names, 0.85
    folded_text = fold(text)
    for match in _NAME_SUBJECT.finditer(folded_text):
        names = _split_names(text[match.start("who") : match.end("who")])
        if names:
            return names, 0.8
    return [], 0.0


def _format_address(text: str) -> str | None:
    """``"<number> <street>, <postcode> <city>"`` from a written address, complements dropped."""
    text = re.sub(r"\s+", " ", text).strip(" .:,-")
    folded = fold(text)
    postcode = None
    for match in _POSTCODE_CITY.finditer(folded):
        if not _HEAD_OFFICE.search(folded[match.start() : match.end()]):
            postcode = match
            break
    street_match = _STREET_RE.search(folded)
    if street_match is None:
        number = re.search(r"\b\d{1,4}\s*(?:bis|ter)?\s+[^\W\d_]", folded)
        if number is None or (postcode is not None and number.start() >= postcode.start()):
            return None
        start = number.start()
    else:
        start = street_match.start()
    end = postcode.start() if postcode is not None and postcode.start() > start else len(text)
    street = text[start:end].strip(" ,-–")
    street = re.sub(r"^(\d+)\s*,\s*", r"\1 ", street)
    # drop trailing complements written after the street ("12 rue X, bât. B")
    segments = [s.strip() for s in re.split(r",| - | – ", street) if s.strip()]
    kept = (
        [segments[0]] + [s for s in segments[1:] if not _COMPLEMENT_SEGMENT.match(fold(s))]
        if segments
        else []
    )
    street = ", ".join(kept)
    if not street:
        return None
    if postcode is None:
        return street
    city = text[postcode.start(2) : postcode.end(2)]
    city = re.split(r"\s+(?:-|–)\s+|\.\s|\.$|\s{2,}", city)[0].strip(" .")
    city = re.sub(r"\s+cedex\b.*$", "", city, flags=re.IGNORECASE)
    return f"{street}, {postcode.group(1)} {city}".strip()


def find_address(lines: list[Line]) -> tuple[str | None, float]:
    """The covered address and how sure the finding is."""
    for i, j, cell in _cells(lines):
        folded = fold(cell.text)
        match = _ADDRESS_LABELS.search(folded)
        if not match or _HEAD_OFFICE.search(folded):
            continue
        value, row, x = _value_after_label(lines, i, j, match.end())
        if not value:
            continue
        parts = [value]
        # continue on the next lines of the same column until a postcode
        k = row
        while not re.search(r"\b\d{5}\b", " ".join(parts)) and k + 1 < len(lines) and len(parts) < 4:
            below = _below(lines, k, x) or _below(lines, k, cell.x)
            if below is None or _is_label(below.text):
                break
            parts.append(below.text)
            k += 1
        formatted = _format_address(", ".join(parts))
        if formatted:
            return formatted, 1.0 if re.search(r"\b\d{5}\b", formatted) else 0.6
    # fallback: the first "<number> <street type> … <postcode> <city>" outside head-office lines
    for i, line in enumerate(lines):
        text = _line_text(line)
        if _HEAD_OFFICE.search(fold(text)) or not _STREET_RE.search(fold(text)):
            continue
        candidate = (
            text
            if re.search(r"\b\d{5}\b", text)
            else text + ", " + (_line_text(lines[i + 1]) if i + 1 < len(lines) else "")
        )
        formatted = _format_address(candidate)
        if formatted and re.search(r"\b\d{5}\b", formatted):
            return formatted, 0.6
    return None, 0.0


@dataclass(frozen=True)
class _Date:
    value: date
    start: int
    end: int
    context: str  # folded text before the date on its line (or the label above)


def _dates(lines: list[Line]) -> tuple[list[_Date], str]:
    text = "\n".join(_line_text(line) for line in lines)
    folded = fold(text)
    found = []
    for match in _DATE_RE.finditer(folded):
        value = _parse_date(match)
        if value is None or not 1990 <= value.year <= 2100:
            continue
        line_start = folded.rfind("\n", 0, match.start()) + 1
        cell_start = max(line_start, folded.rfind("  ", line_start, match.start()))
        context = folded[cell_start : match.start()].strip()
        if not re.search(r"[a-z]", context):
            context = folded[line_start : match.start()].strip()
        if not re.search(r"[a-z]", context):
            previous_start = folded.rfind("\n", 0, max(line_start - 1, 0)) + 1
            context = folded[previous_start : max(line_start - 1, 0)].strip()
        found.append(_Date(value, match.start(), match.end(), context))
    return found, folded


_MONTH_RX = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YEARLESS_RANGE = re.compile(
    r"\bdu\s+(?P<d1>1er|\d{1,2})(?:\s+(?P<m1>" + _MONTH_RX + r")\.?|[/.](?P<n1>\d{1,2}))\s+(?:au|jusqu au)\s+"
    r"(?P<d2>1er|\d{1,2})(?:\s+(?P<m2>" + _MONTH_RX + r")\.?\s+|[/.](?P<n2>\d{1,2})[/.])(?P<y>\d{4})\b"
)


def _yearless_range(folded: str) -> tuple[date, date] | None:
    """``du 1er janvier au 31 décembre 2025``: the start's year is implied by the end's."""
    match = _YEARLESS_RANGE.search(folded)
    if match is None:
        return None
    try:
        m1 = _MONTHS[match.group("m1")] if match.group("m1") else int(match.group("n1"))
        m2 = _MONTHS[match.group("m2")] if match.group("m2") else int(match.group("n2"))
        d1 = 1 if match.group("d1") == "1er" else int(match.group("d1"))
        d2 = 1 if match.group("d2") == "1er" else int(match.group("d2"))
        year = int(match.group("y"))
        end = date(year, m2, d2)
        start = date(year if (m1, d1) < (m2, d2) else year - 1, m1, d1)
    except (KeyError, ValueError):
        return None
    return start, end


def find_validity(lines: list[Line]) -> tuple[date | None, date | None, float]:
    """Validity start and end, and how sure the finding is."""
    dates, folded = _dates(lines)
    yearless = _yearless_range(folded)
    if yearless is not None:
        return yearless[0], yearless[1], 0.9
    usable = [d for d in dates if not _IGNORED_DATE.search(d.context[-40:])]
    ranges = []
    for first, second in pairwise(usable):
        between = folded[first.end : second.start]
        if "\n" in between.strip(" ") and not re.fullmatch(
            r"\s*(?:au|jusqu au|-)?\s*\n?\s*(?:au|jusqu au)?\s*", between
        ):
            continue
        if (
            _RANGE_JOIN.match(re.sub(r"\s+", " ", between))
            and 20 <= (second.value - first.value).days <= 3 * 366
        ):
            score = 2 if _VALIDITY_CONTEXT.search(first.context[-60:]) else 1
            ranges.append((score, first.value, second.value))
    if ranges:
        best = max(ranges, key=lambda r: r[0])
        return best[1], best[2], 1.0

    def is_start(d: _Date) -> bool:
        return bool(_START_LABEL.search(d.context[-40:]))

    def is_end(d: _Date) -> bool:
        return bool(_END_LABEL.search(d.context[-40:]))

    start = next((d.value for d in usable if is_start(d) and not is_end(d)), None) or next(
        (d.value for d in usable if is_start(d)), None
    )
    end = next((d.value for d in usable if is_end(d) and not is_start(d)), None) or next(
        (d.value for d in usable if is_end(d)), None
    )
    if start is not None and end is not None and end <= start:
        end = None
    confidence = 1.0 if start and end else 0.6 if start or end else 0.0
    return start, end, confidence


_WEIGHTS = {
    "insurer": 0.12,
    "policy_number": 0.18,
    "insured_names": 0.2,
    "address": 0.2,
    "valid_from": 0.15,
    "valid_to": 0.15,
}


def read_lines(lines: list[Line]) -> ExtractedCertificate:
    """Extract the fields from a document already split into lines of cells."""
    insurer, c_insurer = find_insurer(lines)
    policy, c_policy = find_policy_number(lines)
    names, c_names = find_insured_names(lines)
    address, c_address = find_address(lines)
    valid_from, valid_to, c_dates = find_validity(lines)
    confidence = (
        _WEIGHTS["insurer"] * c_insurer
        + _WEIGHTS["policy_number"] * c_policy
        + _WEIGHTS["insured_names"] * c_names
        + _WEIGHTS["address"] * c_address
        + _WEIGHTS["valid_from"] * (c_dates if valid_from else 0.0)
        + _WEIGHTS["valid_to"] * (c_dates if valid_to else 0.0)
    )
    return ExtractedCertificate(
        insurer=insurer,
        policy_number=policy,
        insured_names=names,
        address=address,
        valid_from=valid_from,
        valid_to=valid_to,
        confidence=round(min(confidence, 1.0), 3),
    )


def read_certificate(path_or_text: str | Path | bytes) -> ExtractedCertificate:
    """Read a home-insurance certificate.

    Args:
        path_or_text: Path of a PDF (with a text layer) or of a UTF-8 text file; or the PDF bytes;
            or the certificate's text itself.

    Returns:
        The fields found (``None`` / empty when absent) and a confidence.

    Raises:
        CertificateReadError: The file is missing, is not a PDF or text, or has no text layer.

    """
    return read_lines(_load(path_or_text))


def document_text(path_or_text: str | Path | bytes) -> str:
    """The text the reader sees (lines, cells separated by two spaces): for the LLM backend and debugging."""
    return "\n".join(_line_text(line) for line in _load(path_or_text))
