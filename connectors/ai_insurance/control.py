"""Check a read certificate against the lease: dates cover today, address is the lot's, a holder is insured.

Normalisation rules (shared with the reader and the evaluation):

* **Addresses**: case, accents and punctuation ignored; street-type abbreviations expanded
  (``av.`` → ``avenue``, ``bd`` → ``boulevard``, ``st`` → ``saint``…); building complements
  (``bât. B``, ``appt 34``, ``résidence …``, ``3e étage``) ignored; two addresses match when
  house number (with ``bis``/``ter``), street and postcode agree (the city when a postcode is
  missing on one side).
* **Names**: case, accents, hyphens, civility (``M.``, ``Mme``, ``Monsieur``…) and word order
  ignored; a name matches a lease holder when one's words are all in the other's (so
  ``DUPONT Jean`` matches ``M. Jean Dupont`` and ``Jean-Pierre Martin`` matches
  ``Jean Pierre MARTIN``), with at least a surname and a first name or initial on the shorter side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    """Outcome of :func:`check_certificate` (values of the canonical ``CertificateStatus``)."""

    VALID = "valid"
    EXPIRED = "expired"
    MISMATCH = "mismatch"


def fold(text: str) -> str:
    """Lowercase without accents, apostrophes as spaces, character for character (same length as ``text``)."""
    out = []
    for char in text:
        if char in "'’`´‘":
            out.append(" ")
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c)) or char
        lowered = base.lower()
        out.append(lowered if len(lowered) == 1 else char.lower()[:1] or char)
    return "".join(out)


STREET_TYPES: dict[str, str] = {
    "av": "avenue",
    "ave": "avenue",
    "avn": "avenue",
    "avenue": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "boulevard": "boulevard",
    "r": "rue",
    "rue": "rue",
    "pl": "place",
    "place": "place",
    "all": "allee",
    "allee": "allee",
    "imp": "impasse",
    "impasse": "impasse",
    "ch": "chemin",
    "chem": "chemin",
    "chemin": "chemin",
    "rte": "route",
    "route": "route",
    "sq": "square",
    "square": "square",
    "qu": "quai",
    "quai": "quai",
    "crs": "cours",
    "cours": "cours",
    "fg": "faubourg",
    "fbg": "faubourg",
    "faubourg": "faubourg",
    "pass": "passage",
    "passage": "passage",
    "prom": "promenade",
    "promenade": "promenade",
    "res": "residence",
    "residence": "residence",
    "lot": "lotissement",
    "lotissement": "lotissement",
    "cite": "cite",
    "cte": "cote",
    "hameau": "hameau",
    "ham": "hameau",
    "voie": "voie",
    "sentier": "sentier",
    "esplanade": "esplanade",
    "espl": "esplanade",
    "parvis": "parvis",
    "mail": "mail",
    "villa": "villa",
    "clos": "clos",
    "domaine": "domaine",
    "dom": "domaine",
    "chaussee": "chaussee",
    "chs": "chaussee",
    "rpt": "rond point",
    "ruelle": "ruelle",
    "tsse": "terrasse",
    "terrasse": "terrasse",
    "za": "zone",
    "zac": "zone",
    "zi": "zone",
    "galerie": "galerie",
    "gal": "galerie",
    "carrefour": "carrefour",
    "montee": "montee",
    "mte": "montee",
    "traverse": "traverse",
    "trav": "traverse",
    "port": "port",
}
_WORD_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "gal": "general",
    "gen": "general",
    "mal": "marechal",
    "pdt": "president",
    "pres": "president",
    "dr": "docteur",
    "prof": "professeur",
    "cdt": "commandant",
    "lt": "lieutenant",
    "cne": "capitaine",
    "n": "notre",
    "nd": "notre dame",
    "vx": "vieux",
    "gde": "grande",
    "gd": "grand",
    "pt": "petit",
    "pte": "petite",
    "mgr": "monseigneur",
    "fr": "freres",
}
_STOP = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "et", "en", "sur"})
#: Building complements: ignored when comparing addresses.
_COMPLEMENT = re.compile(
    r"\b(?:bat(?:iment)?|bt|appt?|appartement|apt|esc(?:alier)?|etage|etg|porte|logement|lgt|log|entree|"
    r"residence|res|tour|immeuble|imm|lot|cage|chez|boite|bp|cs|cedex|rdc|rez de chaussee|\d+\s?(?:e"
    r"|er|eme|ere)"
    r" etage)\b"
)
_POSTCODE = re.compile(r"\b(\d{5}|\d{2} \d{3})\b")
_NUMBER = re.compile(r"^(\d+)\s*(bis|ter|quater|b|t|a)?\b")
_CIVILITY = re.compile(
    r"^(?:(?:m|mr|mme|mlle|mrs|ms|dr|me|mm|messieurs|monsieur|madame|mademoiselle|docteur)\b\.?\s*"
    r"(?:(?:et|&)\s*)?)+",
    re.IGNORECASE,
)
_NAME_PARTICLES = frozenset(
    {
        "de",
        "du",
        "des",
        "la",
        "le",
        "d",
        "da",
        "van",
        "von",
        "el",
        "ben",
        "ibn",
        "epouse",
        "nee",
        "ep",
        "veuve",
        "vve",
    }
)


@dataclass(frozen=True)
class ParsedAddress:
    """An address reduced to what identifies it."""

    number: str | None
    street: tuple[str, ...]
    postcode: str | None
    city: tuple[str, ...]


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", fold(text)).split()


def parse_address(text: str) -> ParsedAddress:
    """Reduce a French postal address to number, street words, postcode and city words."""
    folded = fold(text).replace("’", "'")
    postcode_match = None
    for match in _POSTCODE.finditer(folded):
        postcode_match = match  # the last five-digit group is the postcode
    postcode = postcode_match.group(1).replace(" ", "") if postcode_match else None
    before = folded[: postcode_match.start()] if postcode_match else folded
    after = folded[postcode_match.end() :] if postcode_match else ""
    # keep the segment holding the house number and street type; drop complements
    segments = [s.strip() for s in re.split(r"[,;\n]| - | – ", before) if s.strip()]
    street_segment = ""
    for segment in segments:
        words = _words(segment)
        if words and words[0].isdigit() and len(words) > 1:
            street_segment = segment
            break
    if not street_segment:
        for segment in segments:
            words = _words(segment)
            if any(w in STREET_TYPES for w in words) and not _COMPLEMENT.search(" ".join(words[:1])):
                street_segment = segment
                break
    if not street_segment and segments:
        street_segment = segments[-1]
    words = _words(street_segment)
    number = None
    if words and words[0].isdigit():
        number = words.pop(0)
        if words and words[0] in {"bis", "ter", "quater", "b", "t", "a"}:
            suffix = {"b": "bis", "t": "ter", "a": "a"}.get(words[0], words[0])
            number += suffix
            words.pop(0)
    street = []
    for i, word in enumerate(words):
        if i == 0 and word in STREET_TYPES:
            street.extend(STREET_TYPES[word].split())
            continue
        expanded = _WORD_ABBREVIATIONS.get(word, word)
        street.extend(w for w in expanded.split() if w not in _STOP)
    city_words = [w for w in _words(after) if w not in _STOP and w != "cedex" and not w.isdigit()]
    return ParsedAddress(number, tuple(street), postcode, tuple(city_words))


def normalize_address(text: str) -> str:
    """A comparison key: ``"12 avenue jean jaures 69008 lyon"``."""
    parsed = parse_address(text)
    parts = [parsed.number or "", " ".join(parsed.street), parsed.postcode or "", " ".join(parsed.city)]
    return " ".join(p for p in parts if p)


def addresses_match(a: str | None, b: str | None) -> bool:
    """Whether two written addresses designate the same place (see module docstring)."""
    if not a or not b:
        return False
    pa, pb = parse_address(a), parse_address(b)
    if not pa.street or not pb.street:
        return False
    if pa.number and pb.number and pa.number != pb.number:
        return False
    if (pa.number is None) != (pb.number is None):
        return False
    if pa.postcode and pb.postcode:
        if pa.postcode != pb.postcode:
            return False
    elif pa.city and pb.city:
        if set(pa.city) != set(pb.city):
            return False
    else:
        return False
    sa, sb = set(pa.street), set(pb.street)
    if sa == sb:
        return True
    # tolerate one missing street type or a missing first name in "rue (Jean) Jaurès"
    smaller, larger = sorted((sa, sb), key=len)
    return (
        len(smaller) >= 1
        and smaller <= larger
        and len(larger - smaller) <= 1
        and len(smaller) >= len(larger) - 1
    )


def name_tokens(name: str) -> tuple[str, ...]:
    """Words of a person's name without civility, case, accents or hyphens."""
    cleaned = _CIVILITY.sub("", name.strip())
    return tuple(w for w in _words(cleaned.replace("-", " ")) if w not in {"m", "mme", "mlle", "mr"})


def names_match(a: str, b: str) -> bool:
    """Whether two written names designate the same person (see module docstring)."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return False
    sa, sb = set(ta), set(tb)
    if sa == sb:
        return True
    smaller, larger = sorted((sa, sb), key=len)
    core = {w for w in smaller if w not in _NAME_PARTICLES}
    if len(core) >= 2 and core <= larger:
        return True
    # initials: "J. Dupont" against "Jean Dupont"
    initials = {w for w in smaller if len(w) == 1}
    full = smaller - initials
    if initials and full and full <= larger:
        rest = larger - full
        return all(any(r.startswith(i) for r in rest) for i in initials)
    return False


def _get(extracted: Any, key: str) -> Any:
    if isinstance(extracted, Mapping):
        return extracted.get(key)
    return getattr(extracted, key, None)


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def check_certificate(
    extracted: Any, lease_holders: Sequence[str], lot_address: str, today: date
) -> tuple[str, list[str]]:
    """Control a read certificate against the lease it should cover.

    Args:
        extracted: An :class:`~connectors.ai_insurance.reader.ExtractedCertificate` or a mapping
            with the same keys (dates as ``date`` or ISO strings).
        lease_holders: Names of the lease holders, as the ERP has them.
        lot_address: The lot's postal address.
        today: The day the cover must include.

    Returns:
        ``(status, reasons)``: status is ``valid``, ``expired`` (the dates do not cover ``today``
        or are missing) or ``mismatch`` (the address is not the lot's or no insured person is a
        lease holder; mismatch wins over expired: such a document is not this lease's at all).
        ``reasons`` says what failed, or what matched when valid.

    """
    problems: list[str] = []
    mismatch = False
    address = _get(extracted, "address")
    if not address:
        mismatch = True
        problems.append("no covered address found on the certificate")
    elif not addresses_match(address, lot_address):
        mismatch = True
        problems.append(f"covered address « {address} » is not the lot's address « {lot_address} »")
    names = list(_get(extracted, "insured_names") or [])
    matched = [(n, h) for n in names for h in lease_holders if names_match(n, h)]
    if not names:
        mismatch = True
        problems.append("no insured person found on the certificate")
    elif not matched:
        mismatch = True
        problems.append(
            f"no insured person ({', '.join(names)}) is a lease holder ({', '.join(lease_holders)})"
        )
    valid_from, valid_to = _as_date(_get(extracted, "valid_from")), _as_date(_get(extracted, "valid_to"))
    expired = False
    if valid_to is None:
        expired = True
        problems.append("no end of cover found on the certificate")
    elif valid_to < today:
        expired = True
        problems.append(f"cover ended on {valid_to.isoformat()}, before {today.isoformat()}")
    if valid_from is not None and valid_from > today:
        expired = True
        problems.append(f"cover starts on {valid_from.isoformat()}, after {today.isoformat()}")
    if mismatch:
        return CheckStatus.MISMATCH.value, problems
    if expired:
        return CheckStatus.EXPIRED.value, problems
    reasons = [
        f"cover {valid_from.isoformat() if valid_from else '?'} → {valid_to.isoformat() if valid_to else '?'}"
        f" includes {today.isoformat()}",
        f"covered address matches the lot « {lot_address} »",
        f"insured « {matched[0][0]} » is lease holder « {matched[0][1]} »",
    ]
    return CheckStatus.VALID.value, reasons
