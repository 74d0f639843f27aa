"""Generate the certificate evaluation set: real PDFs with a text layer, deterministic by seed.

Ten layouts modelled on the home-insurance certificates French tenants actually send (MAIF,
MACIF, MAAF, Matmut, AXA, Allianz, Groupama, GMF, Pacifica / Crédit Agricole Assurances,
Société Générale Assurances / Sogessur): label–value tables, sentences ("Nous soussignés…
attestons que…"), two-column blocks, dates in figures or in words, several insured persons,
distractors (member number next to the policy number, the insurer's head-office address, the
issue date, the original subscription date).

``python -m connectors.ai_insurance.make_eval_set`` writes ``data/certificates/*.pdf``, the
hand-written plain-text certificates of ``data/text_certificates.jsonl`` as ``*.txt``, and
``data/certificates/labels.jsonl`` (one line per document: file name, layout, expected fields). The PDFs
are built with reportlab's invariant mode, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data" / "certificates"
LABELS_NAME = "labels.jsonl"
#: Hand-written plain-text certificates (MMA, Generali, Crédit Mutuel, Direct Assurance, La Banque
#: Postale, MACSF, Thélem, AXA, Allianz, MAIF) with their expected fields, copied into the set.
TEXT_SET = Path(__file__).parent / "data" / "text_certificates.jsonl"
SEED = 1789
PER_LAYOUT = 5

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]

FIRST_NAMES = [
    ("M.", "Jean"),
    ("Mme", "Marie"),
    ("M.", "Karim"),
    ("Mme", "Fatima"),
    ("M.", "Mamadou"),
    ("Mme", "Aminata"),
    ("M.", "Nicolas"),
    ("Mme", "Sandrine"),
    ("M.", "Thi Minh"),
    ("Mme", "Nathalie"),
    ("M.", "Rachid"),
    ("Mme", "Yasmina"),
    ("M.", "Sébastien"),
    ("Mme", "Élodie"),
    ("M.", "Jean-Pierre"),
    ("Mme", "Marie-Claire"),
    ("M.", "Mehdi"),
    ("Mme", "Chloé"),
    ("M.", "Olivier"),
    ("Mme", "Inès"),
    ("M.", "Ibrahima"),
    ("Mme", "Océane"),
    ("M.", "Loïc"),
    ("Mme", "Hélène"),
    ("M.", "François"),
    ("Mme", "Agnès"),
    ("M.", "Youssef"),
    ("Mme", "Maëlle"),
]
SURNAMES = [
    "Dupont",
    "Martin",
    "Benali",
    "El Amrani",
    "Diallo",
    "Traoré",
    "Lefèvre",
    "Nguyen",
    "Moreau",
    "Bouchard",
    "Haddad",
    "Rousseau",
    "Fontaine",
    "Da Silva",
    "Lemaire",
    "Girard",
    "Mercier",
    "Kone",
    "Boyer",
    "Chevalier",
    "Ferreira",
    "Garnier",
    "Ben Youssef",
    "Perrin",
    "Lambert",
    "Bonnet",
    "N'Diaye",
    "Rivière",
    "Masson",
    "Hoarau",
]
STREETS = [
    ("rue", "Francis de Pressensé"),
    ("avenue", "Jean Jaurès"),
    ("boulevard", "Victor Hugo"),
    ("allée", "des Tilleuls"),
    ("rue", "du Général Leclerc"),
    ("place", "de la République"),
    ("impasse", "des Lilas"),
    ("avenue", "de la Liberté"),
    ("rue", "Pierre Sémard"),
    ("boulevard", "de Strasbourg"),
    ("chemin", "des Vignes"),
    ("rue", "Saint-Exupéry"),
    ("allée", "Louise Michel"),
    ("rue", "des Écoles"),
    ("avenue", "Paul Vaillant-Couturier"),
    ("quai", "de la Loire"),
    ("rue", "Aristide Briand"),
    ("square", "Maurice Thorez"),
    ("cours", "Gambetta"),
    ("rue", "de l'Église"),
]
CITIES = [
    ("93200", "Saint-Denis"),
    ("69008", "Lyon"),
    ("13014", "Marseille"),
    ("59000", "Lille"),
    ("31200", "Toulouse"),
    ("44300", "Nantes"),
    ("67100", "Strasbourg"),
    ("33300", "Bordeaux"),
    ("94400", "Vitry-sur-Seine"),
    ("35200", "Rennes"),
    ("76600", "Le Havre"),
    ("38100", "Grenoble"),
    ("92230", "Gennevilliers"),
    ("34080", "Montpellier"),
    ("21000", "Dijon"),
    ("63100", "Clermont-Ferrand"),
    ("95140", "Garges-lès-Gonesse"),
    ("62300", "Lens"),
    ("87100", "Limoges"),
    ("51100", "Reims"),
]
STREET_ABBREVIATIONS = {
    "avenue": "av.",
    "boulevard": "bd",
    "allée": "all.",
    "place": "pl.",
    "impasse": "imp.",
    "chemin": "ch.",
    "square": "sq.",
    "rue": "rue",
    "quai": "quai",
    "cours": "cours",
}


@dataclass
class Certificate:
    """The facts printed on one generated certificate."""

    insurer: str
    policy_number: str
    people: list[tuple[str, str, str]]  # (civility, first name, surname)
    number: str
    street_type: str
    street_name: str
    complement: str
    postcode: str
    city: str
    valid_from: date
    valid_to: date
    issued: date
    member_number: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def street(self, abbreviate: bool = False, upper: bool = False) -> str:
        """Number and street, optionally abbreviated (``av.``) or in capitals."""
        kind = STREET_ABBREVIATIONS[self.street_type] if abbreviate else self.street_type
        text = f"{self.number} {kind} {self.street_name}"
        return text.upper() if upper else text

    def names(self, order: str = "first_last", upper_surname: bool = True) -> list[str]:
        """Insured names as printed (no civility)."""
        out = []
        for _, first, last in self.people:
            surname = last.upper() if upper_surname else last
            out.append(f"{first} {surname}" if order == "first_last" else f"{surname} {first}")
        return out

    def named(self, order: str = "first_last", upper_surname: bool = True) -> list[str]:
        """Insured names with civility (``M. Jean DUPONT``)."""
        return [
            f"{civ} {name}"
            for (civ, _, _), name in zip(self.people, self.names(order, upper_surname), strict=True)
        ]


def _fr_date(d: date) -> str:
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def _num(d: date, sep: str = "/") -> str:
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


def _random_certificate(
    rng: random.Random, insurer: str, policy: Callable[[random.Random], str]
) -> Certificate:
    surname = rng.choice(SURNAMES)
    civ, first = rng.choice(FIRST_NAMES)
    people = [(civ, first, surname)]
    if rng.random() < 0.35:
        civ2, first2 = rng.choice([p for p in FIRST_NAMES if p[0] != civ])
        people.append((civ2, first2, surname if rng.random() < 0.6 else rng.choice(SURNAMES)))
    street_type, street_name = rng.choice(STREETS)
    postcode, city = rng.choice(CITIES)
    start = date(2024, 9, 1) + timedelta(days=rng.randrange(0, 420))
    if rng.random() < 0.5:
        start = start.replace(day=1)
    end = date(start.year + 1, start.month, start.day) - timedelta(days=1)
    complement = rng.choice(
        [
            "",
            "",
            "Bât. B, appt 34",
            "Résidence Les Tilleuls, esc. 2",
            "Appartement 112",
            "Bâtiment C, 3e étage",
        ]
    )
    number = str(rng.randint(1, 180)) + rng.choice(["", "", "", " bis"])
    return Certificate(
        insurer=insurer,
        policy_number=policy(rng),
        people=people,
        number=number,
        street_type=street_type,
        street_name=street_name,
        complement=complement,
        postcode=postcode,
        city=city,
        valid_from=start,
        valid_to=end,
        issued=start - timedelta(days=rng.randint(3, 40)),
        member_number=str(rng.randint(1_000_000, 9_999_999)) + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"),
    )


# --- layouts ------------------------------------------------------------------------------------

Lines = list[tuple[float, float, str, str, float]]  # x, y (from top, mm), text, font, size


def _addr_lines(c: Certificate, abbreviate: bool = False, upper: bool = False) -> list[str]:
    lines = []
    if c.complement:
        lines.append(c.complement)
    lines.append(c.street(abbreviate, upper))
    lines.append(f"{c.postcode} {c.city.upper() if upper else c.city}")
    return lines


def layout_maif(c: Certificate, rng: random.Random) -> Lines:
    """MAIF: sentence style, member number as a distractor, dates in figures."""
    names = " et ".join(c.named())
    address = ", ".join(_addr_lines(c))
    return [
        (20, 20, "MAIF", "Helvetica-Bold", 20),
        (
            20,
            27,
            "Société d'assurance mutuelle à cotisations variables - 200 avenue Salvador Allende - "
            "79038 Niort cedex 9",
            "Helvetica",
            7,
        ),
        (20, 45, "ATTESTATION D'ASSURANCE HABITATION", "Helvetica-Bold", 14),
        (20, 60, f"N° sociétaire : {c.member_number}", "Helvetica", 10),
        (20, 70, "Nous soussignés, MAIF, attestons que :", "Helvetica", 10),
        (30, 78, names, "Helvetica-Bold", 10),
        (20, 86, f"est titulaire du contrat RAQVAM n° {c.policy_number}", "Helvetica", 10),
        (20, 94, "garantissant les risques locatifs du logement situé :", "Helvetica", 10),
        (30, 101, address, "Helvetica", 10),
        (
            20,
            112,
            f"La présente attestation est valable du {_num(c.valid_from)} au {_num(c.valid_to)}, "
            "sous réserve du paiement des cotisations.",
            "Helvetica",
            10,
        ),
        (20, 128, f"Fait à Niort, le {_num(c.issued)}", "Helvetica", 10),
        (
            20,
            270,
            "MAIF - RCS Niort 775 709 702 - Entreprise régie par le Code des assurances",
            "Helvetica",
            7,
        ),
    ]


def layout_macif(c: Certificate, rng: random.Random) -> Lines:
    """MACIF: a label–value table, the co-insured on its own row."""
    lines: Lines = [
        (20, 18, "macif", "Helvetica-Bold", 22),
        (120, 18, "ATTESTATION D'ASSURANCE", "Helvetica-Bold", 12),
        (120, 24, "Multirisque Habitation", "Helvetica", 10),
        (20, 45, "Souscripteur", "Helvetica", 10),
        (80, 45, c.named()[0], "Helvetica-Bold", 10),
    ]
    y = 53
    if len(c.people) > 1:
        lines += [(20, y, "Co-assuré", "Helvetica", 10), (80, y, c.named()[1], "Helvetica-Bold", 10)]
        y += 8
    lines += [(20, y, "Contrat n°", "Helvetica", 10), (80, y, c.policy_number, "Helvetica-Bold", 10)]
    y += 8
    for i, line in enumerate(_addr_lines(c, upper=True)):
        if i == 0:
            lines.append((20, y, "Adresse du risque", "Helvetica", 10))
        lines.append((80, y, line, "Helvetica", 10))
        y += 6
    y += 4
    lines += [
        (20, y, "Date d'effet", "Helvetica", 10),
        (80, y, _num(c.valid_from), "Helvetica", 10),
        (20, y + 8, "Date d'échéance", "Helvetica", 10),
        (80, y + 8, _num(c.valid_to), "Helvetica", 10),
        (
            20,
            y + 24,
            "La MACIF certifie que le souscripteur bénéficie des garanties responsabilité civile, "
            "incendie et dégâts des eaux.",
            "Helvetica",
            9,
        ),
        (20, y + 40, f"Document émis le {_num(c.issued)}", "Helvetica-Oblique", 8),
        (
            20,
            275,
            "MACIF - Mutuelle Assurance des Commerçants et Industriels de France - 2-4 rue Pied de Fond - "
            "79000 Niort",
            "Helvetica",
            6,
        ),
    ]
    return lines


def layout_maaf(c: Certificate, rng: random.Random) -> Lines:
    """MAAF: one paragraph, dates in words, abbreviated street type."""
    names = " et ".join(c.named())
    verb = "sont assurés" if len(c.people) > 1 else "est assuré(e)"
    return [
        (20, 20, "MAAF Assurances", "Helvetica-Bold", 16),
        (20, 26, "Chauray - 79036 Niort cedex 9", "Helvetica", 8),
        (20, 50, "Attestation", "Helvetica-Bold", 14),
        (20, 62, "MAAF Assurances SA certifie que", "Helvetica", 10),
        (20, 69, f"{names} {verb}", "Helvetica", 10),
        (20, 76, f"par le contrat Multirisque Habitation n° {c.policy_number}", "Helvetica", 10),
        (
            20,
            83,
            f"pour les locaux situés {c.street(abbreviate=True)}, {c.postcode} {c.city},",
            "Helvetica",
            10,
        ),
        (20, 90, f"pour la période du {_fr_date(c.valid_from)} au {_fr_date(c.valid_to)}.", "Helvetica", 10),
        (
            20,
            104,
            "Cette attestation ne peut engager l'assureur au-delà des conditions du contrat.",
            "Helvetica-Oblique",
            9,
        ),
        (120, 125, f"Niort, le {_fr_date(c.issued)}", "Helvetica", 10),
    ]


def layout_matmut(c: Certificate, rng: random.Random) -> Lines:
    """Matmut: letter with the postal block top right, then labelled fields, period on one line."""
    lines: Lines = [
        (20, 18, "MATMUT", "Helvetica-Bold", 20),
        (20, 24, "66 rue de Sotteville - 76100 Rouen", "Helvetica", 8),
    ]
    y = 40
    for text in [c.named()[0], *_addr_lines(c, upper=True)]:
        lines.append((120, y, text, "Helvetica", 10))
        y += 5
    lines += [
        (20, 80, "ATTESTATION D'ASSURANCE - HABITATION", "Helvetica-Bold", 13),
        (20, 95, f"N° de sociétaire : {c.member_number}", "Helvetica", 10),
        (20, 103, f"N° de contrat : {c.policy_number}", "Helvetica", 10),
        (20, 111, f"Assuré(s) : {', '.join(c.named())}", "Helvetica", 10),
        (20, 119, f"Lieu du risque : {c.street()} {c.postcode} {c.city}", "Helvetica", 10),
        (20, 127, f"Période de garantie : du {_num(c.valid_from)} au {_num(c.valid_to)}", "Helvetica", 10),
        (
            20,
            142,
            "Garanties : responsabilité civile vie privée, incendie, dégât des eaux, vol, bris de glace.",
            "Helvetica",
            9,
        ),
        (20, 160, f"Fait à Rouen, le {_num(c.issued)}", "Helvetica", 10),
    ]
    return lines


def layout_axa(c: Certificate, rng: random.Random) -> Lines:
    """AXA: surname first, dots in dates, abbreviated street, references with a slash."""
    return [
        (20, 18, "AXA", "Helvetica-Bold", 22),
        (45, 18, "France IARD", "Helvetica", 10),
        (20, 40, "Attestation d'assurance Habitation", "Helvetica-Bold", 14),
        (20, 55, f"Référence du contrat : {c.policy_number}", "Helvetica", 10),
        (20, 63, f"Assuré(s) : {' / '.join(c.names(order='last_first'))}", "Helvetica", 10),
        (
            20,
            71,
            f"Adresse assurée : {c.street(abbreviate=True)} - {c.postcode} {c.city.upper()}",
            "Helvetica",
            10,
        ),
        (20, 79, f"Souscrit le : {_num(c.issued - timedelta(days=700), '.')}", "Helvetica", 10),
        (20, 87, f"Valable du {_num(c.valid_from, '.')} au {_num(c.valid_to, '.')}", "Helvetica", 10),
        (
            20,
            105,
            "AXA France IARD atteste que le contrat ci-dessus comporte la garantie des risques locatifs.",
            "Helvetica",
            9,
        ),
        (
            20,
            270,
            "AXA France IARD - SA au capital de 214 799 030 € - 722 057 460 R.C.S. Nanterre - 313 Terrasses "
            "de l'Arche - 92727 Nanterre cedex",
            "Helvetica",
            6,
        ),
    ]


def layout_allianz(c: Certificate, rng: random.Random) -> Lines:
    """Allianz: two columns side by side, dates in words, 'preneur d'assurance'."""
    addr = _addr_lines(c)
    lines: Lines = [
        (20, 18, "Allianz", "Helvetica-Bold", 20),
        (20, 40, "ATTESTATION D'ASSURANCE MULTIRISQUE HABITATION", "Helvetica-Bold", 12),
        (20, 55, "Preneur d'assurance", "Helvetica-Bold", 10),
        (110, 55, "Votre contrat", "Helvetica-Bold", 10),
        (20, 62, c.named()[0], "Helvetica", 10),
        (110, 62, f"Numéro de police : {c.policy_number}", "Helvetica", 10),
        (110, 69, f"Prise d'effet : {_fr_date(c.valid_from)}", "Helvetica", 10),
        (110, 76, f"Expiration : {_fr_date(c.valid_to)}", "Helvetica", 10),
        (20, 92, "Situation du risque", "Helvetica-Bold", 10),
    ]
    y = 99
    for line in addr:
        lines.append((20, y, line, "Helvetica", 10))
        y += 6
    if len(c.people) > 1:
        lines.append((20, y + 4, f"Autre assuré : {c.named()[1]}", "Helvetica", 10))
    lines += [
        (
            20,
            140,
            "Allianz IARD certifie que l'assuré désigné ci-dessus est couvert au titre des risques locatifs.",
            "Helvetica",
            9,
        ),
        (20, 150, f"Édité le {_num(c.issued)}", "Helvetica", 9),
        (
            20,
            272,
            "Allianz IARD - Entreprise régie par le Code des assurances - 1 cours Michelet - CS 30051 - "
            "92076 Paris La Défense cedex",
            "Helvetica",
            6,
        ),
    ]
    return lines


def layout_groupama(c: Certificate, rng: random.Random) -> Lines:
    """Groupama: regional mutual, 'sociétaire', 'bien assuré', validity as a range with a dash."""
    return [
        (20, 18, "Groupama Paris Val de Loire", "Helvetica-Bold", 16),
        (20, 24, "Caisse régionale d'assurances mutuelles agricoles", "Helvetica", 8),
        (20, 45, "ATTESTATION", "Helvetica-Bold", 14),
        (20, 52, "Assurance habitation - Formule Confort", "Helvetica", 10),
        (20, 66, f"Sociétaire : {' et '.join(c.named())}", "Helvetica", 10),
        (20, 74, f"N° d'adhérent : {c.member_number}", "Helvetica", 10),
        (20, 82, f"Contrat : {c.policy_number}", "Helvetica", 10),
        (20, 90, f"Bien assuré : Appartement situé {c.street()}, {c.postcode} {c.city}", "Helvetica", 10),
        (20, 98, f"Validité : {_num(c.valid_from)} - {_num(c.valid_to)}", "Helvetica", 10),
        (20, 115, f"Pour servir et valoir ce que de droit. Le {_num(c.issued)}", "Helvetica", 10),
    ]


def layout_gmf(c: Certificate, rng: random.Random) -> Lines:
    """GMF: 'M. et Mme' phrasing, effect date and 'jusqu'au' on separate sentences."""
    if len(c.people) > 1 and c.people[0][2] == c.people[1][2]:
        civs = " et ".join("M." if p[0] == "M." else "Mme" for p in c.people)
        firsts = " et ".join(p[1] for p in c.people)
        who = f"{civs} {firsts} {c.people[0][2].upper()}"
    else:
        who = " et ".join(c.named())
    return [
        (20, 18, "GMF", "Helvetica-Bold", 22),
        (20, 25, "La Garantie Mutuelle des Fonctionnaires", "Helvetica", 9),
        (20, 45, "ATTESTATION D'ASSURANCE", "Helvetica-Bold", 14),
        (20, 60, f"La GMF atteste que {who}", "Helvetica", 10),
        (
            20,
            67,
            f"a souscrit un contrat Multirisque Habitation sous le numéro {c.policy_number}",
            "Helvetica",
            10,
        ),
        (20, 74, f"pour l'habitation située au {c.street()} - {c.postcode} {c.city}.", "Helvetica", 10),
        (20, 84, f"Ce contrat a pris effet le {_num(c.valid_from)}.", "Helvetica", 10),
        (20, 91, f"La présente attestation est valable jusqu'au {_num(c.valid_to)}.", "Helvetica", 10),
        (20, 108, f"Fait à Levallois-Perret, le {_num(c.issued)}", "Helvetica", 10),
        (20, 272, "GMF Assurances - 148 rue Anatole France - 92597 Levallois-Perret cedex", "Helvetica", 6),
    ]


def layout_pacifica(c: Certificate, rng: random.Random) -> Lines:
    """Pacifica (Crédit Agricole Assurances): boxed table, ISO-like dates, risk address over lines."""
    lines: Lines = [
        (20, 18, "CRÉDIT AGRICOLE ASSURANCES", "Helvetica-Bold", 14),
        (20, 24, "PACIFICA - Société anonyme d'assurances dommages", "Helvetica", 8),
        (20, 42, "Attestation d'assurance habitation", "Helvetica-Bold", 13),
        (20, 56, "Nom de l'assuré", "Helvetica", 9),
        (85, 56, " et ".join(c.names(upper_surname=True)), "Helvetica-Bold", 10),
        (20, 64, "Numéro de contrat", "Helvetica", 9),
        (85, 64, c.policy_number, "Helvetica-Bold", 10),
        (20, 72, "Adresse des biens assurés", "Helvetica", 9),
    ]
    y = 72
    for line in _addr_lines(c):
        lines.append((85, y, line, "Helvetica", 10))
        y += 6
    lines += [
        (20, y + 4, "Date de début", "Helvetica", 9),
        (85, y + 4, c.valid_from.isoformat(), "Helvetica", 10),
        (20, y + 12, "Date de fin", "Helvetica", 9),
        (85, y + 12, c.valid_to.isoformat(), "Helvetica", 10),
        (
            20,
            y + 30,
            "PACIFICA certifie que l'assuré bénéficie de la garantie responsabilité civile locative.",
            "Helvetica",
            9,
        ),
        (
            20,
            272,
            "PACIFICA - 8-10 boulevard de Vaugirard - 75724 Paris cedex 15 - 352 358 865 RCS Paris",
            "Helvetica",
            6,
        ),
    ]
    return lines


def layout_sogessur(c: Certificate, rng: random.Random) -> Lines:
    """Société Générale Assurances (Sogessur): reference first, validity 'à compter du … jusqu'au …'."""
    return [
        (20, 18, "SOCIÉTÉ GÉNÉRALE", "Helvetica-Bold", 14),
        (20, 24, "Assurances", "Helvetica", 12),
        (20, 42, "ATTESTATION D'ASSURANCE HABITATION", "Helvetica-Bold", 13),
        (20, 55, f"Contrat n° {c.policy_number} - Formule Essentielle", "Helvetica", 10),
        (20, 63, f"Titulaire(s) du contrat : {' - '.join(c.named())}", "Helvetica", 10),
        (
            20,
            71,
            f"Logement assuré : {c.complement + ', ' if c.complement else ''}{c.street()}",
            "Helvetica",
            10,
        ),
        (20, 77, f"{c.postcode} {c.city.upper()}", "Helvetica", 10),
        (
            20,
            87,
            f"Garanties accordées à compter du {_num(c.valid_from)} jusqu'au {_num(c.valid_to)} inclus.",
            "Helvetica",
            10,
        ),
        (
            20,
            104,
            "Sogessur, filiale de Société Générale Assurances, certifie que le logement ci-dessus est "
            "assuré en responsabilité civile.",
            "Helvetica",
            8,
        ),
        (20, 115, f"Paris, le {_fr_date(c.issued)}", "Helvetica", 10),
        (
            20,
            272,
            "Sogessur - Tour D2 - 17 bis place des Reflets - 92919 Paris La Défense cedex",
            "Helvetica",
            6,
        ),
    ]


def _policy(prefix: str, digits: int, suffix: str = "") -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        body = "".join(str(rng.randint(0, 9)) for _ in range(digits))
        tail = rng.choice("ABCDEFGHJK") if suffix == "L" else suffix
        return f"{prefix}{body}{(' ' + tail) if tail else ''}".strip()

    return make


def _spaced(prefix: str) -> Callable[[random.Random], str]:
    def make(rng: random.Random) -> str:
        return f"{prefix} {rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"

    return make


LAYOUTS: list[
    tuple[str, str, Callable[[Certificate, random.Random], Lines], Callable[[random.Random], str]]
] = [
    ("maif", "MAIF", layout_maif, _policy("", 7, "L")),
    ("macif", "MACIF", layout_macif, _policy("MH", 9)),
    ("maaf", "MAAF", layout_maaf, _spaced("HAB")),
    ("matmut", "Matmut", layout_matmut, _policy("", 10)),
    ("axa", "AXA", layout_axa, lambda r: f"{r.randint(10**9, 10**10 - 1)}/{r.randint(1, 9):04d}"),
    ("allianz", "Allianz", layout_allianz, _policy("MRH", 8)),
    ("groupama", "Groupama", layout_groupama, lambda r: f"{r.randint(10, 99)}-{r.randint(100000, 999999)}-H"),
    ("gmf", "GMF", layout_gmf, _policy("", 9)),
    ("pacifica", "Crédit Agricole Assurances (Pacifica)", layout_pacifica, _policy("P", 10)),
    ("sogessur", "Société Générale Assurances", layout_sogessur, _policy("SGA-", 8)),
]


def expected(c: Certificate, layout: str) -> dict[str, Any]:
    """The fields a perfect reader returns for ``c`` printed with ``layout``."""
    order = "last_first" if layout == "axa" else "first_last"
    address = f"{c.street()}, {c.postcode} {c.city}"
    return {
        "insurer": c.insurer,
        "policy_number": c.policy_number,
        "insured_names": c.names(order=order),
        "address": address,
        "valid_from": c.valid_from.isoformat(),
        "valid_to": c.valid_to.isoformat(),
    }


def render(lines: Lines, path: Path) -> None:
    """Draw ``lines`` on one A4 page and save it to ``path`` (invariant: byte-identical by input)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle("Attestation d'assurance habitation")
    height = A4[1]
    for x, y, text, font, size in lines:
        pdf.setFont(font, size)
        pdf.drawString(x * mm, height - y * mm, text)
    pdf.showPage()
    pdf.save()


def build(directory: Path = DATA_DIR, seed: int = SEED, per_layout: int = PER_LAYOUT) -> list[dict[str, Any]]:
    """Write the PDFs and ``labels.jsonl`` into ``directory``; return the labels."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    labels = []
    for name, insurer, draw, policy in LAYOUTS:
        for k in range(1, per_layout + 1):
            cert = _random_certificate(rng, insurer, policy)
            file_name = f"{name}_{k:02d}.pdf"
            render(draw(cert, rng), directory / file_name)
            labels.append({"file": file_name, "layout": name, **expected(cert, name)})
    # plain-text certificates (pasted from e-mails, other insurers' wording), written by hand
    for record in (
        json.loads(line) for line in TEXT_SET.read_text(encoding="utf-8").splitlines() if line.strip()
    ):
        (directory / record["file"]).write_text(record.pop("text"), encoding="utf-8")
        labels.append(record)
    with (directory / LABELS_NAME).open("w", encoding="utf-8") as fh:
        for label in labels:
            fh.write(json.dumps(label, ensure_ascii=False) + "\n")
    return labels


def main() -> None:
    """Regenerate the committed evaluation set."""
    labels = build()
    print(f"{len(labels)} certificates in {len({lab['layout'] for lab in labels})} layouts → {DATA_DIR}")


if __name__ == "__main__":
    main()
