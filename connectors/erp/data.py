"""Seeded generation of the ERP sandbox's data: estate (patrimoine), tenants (tiers) and leases (baux).

The estate is a landlord of the Lyon metropolitan area: residences in real communes (with their
INSEE codes and postcodes, and streets of those communes), split into buildings (with an RNB id and
a BAN key), split into dwellings (lots, "UG" in ERP jargon) with RPLS number, typology, surface,
financing and DPE. About 92 % of the lots are let; each let lot has one current lease with one or
two holders. Rents follow the financing (PLAI < PLUS < PLS < PLI) and the surface.

Generation is sequential from one seeded generator and uses no Faker call in the loop, so 30,000
dwellings (about 100,000 records) are generated in about a second. Same ``(seed, lots)``, same data.

Numbering (identifiers of the ERP itself):

* residences ``RES-0012``; buildings ``BAT-0012-03`` (3rd building of residence 12);
  lots ``LOT-0012-03-045`` (45th lot of that building);
* tenants ``LOC-0000001``… numbered in the order their leases are generated, so with the default
  2,000 lots, ``LOC-0000001`` to ``LOC-0000200`` (the chatbot sandbox's ``erp_tenant_ref`` hints)
  exist;
* leases ``BAIL-<start year>-<sequence on 6 digits>``.
"""

from __future__ import annotations

import random
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

#: Date the generated data is "as of" (fixed, so the data does not change with the run date).
REFERENCE_DATE = date(2026, 11, 1)
#: ``date_maj`` of every generated record (the ERP's nightly batch before the reference date).
REFERENCE_TIMESTAMP = "2026-11-01T03:00:00.000Z"

#: Share of lots let at the reference date.
OCCUPIED_SHARE = 0.92
#: Share of current leases already under notice (préavis) at the reference date.
NOTICE_SHARE = 0.02
#: Notice period in the Lyon area (zone tendue): one month.
NOTICE_PERIOD_DAYS = 31

#: Alphabet of RNB ids: digits 1-9 and capital letters without I and O.
RNB_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS_UPPER = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Commune:
    """A commune of the estate: official name, INSEE code, postcode, agency and some streets."""

    name: str
    insee: str
    postcode: str
    agency: str
    weight: int
    streets: tuple[str, ...]

    @property
    def postal_city(self) -> str:
        """City as written on an envelope (``Lyon`` for the arrondissements of Lyon)."""
        return "Lyon" if self.name.startswith("Lyon ") else self.name


COMMUNES: tuple[Commune, ...] = (
    Commune("Lyon 8e Arrondissement", "69388", "69008", "Agence Lyon Sud-Est", 10, (
        "Boulevard des États-Unis", "Avenue Paul Santy", "Rue Professeur Beauvisage",
        "Avenue Général Frère", "Rue Marius Berliet", "Avenue Jean Mermoz", "Rue Stéphane Coignet",
    )),
    Commune("Lyon 9e Arrondissement", "69389", "69009", "Agence Lyon Ouest", 5, (
        "Avenue Sidoine Apollinaire", "Avenue du Plateau", "Rue Marietton", "Avenue Andreï Sakharov",
        "Rue Sergent Michel Berthet",
    )),
    Commune("Lyon 7e Arrondissement", "69387", "69007", "Agence Lyon Sud-Est", 4, (
        "Route de Vienne", "Rue de Gerland", "Avenue Tony Garnier", "Rue Challemel-Lacour",
        "Avenue Jean Jaurès",
    )),
    Commune("Villeurbanne", "69266", "69100", "Agence Villeurbanne", 12, (
        "Avenue Roger Salengro", "Rue Francis de Pressensé", "Cours Émile Zola",
        "Rue du 4 Août 1789", "Avenue Marcel Cachin", "Rue Octavie", "Rue Léon Blum",
        "Rue Henri Legay",
    )),
    Commune("Vénissieux", "69259", "69200", "Agence Vénissieux", 11, (
        "Boulevard Lénine", "Avenue Jean Cagne", "Rue Gaston Monmousseau", "Avenue Marcel Houël",
        "Boulevard Irène Joliot-Curie", "Rue Jules Guesde", "Avenue d'Oschatz",
    )),
    Commune("Vaulx-en-Velin", "69256", "69120", "Agence Vaulx-en-Velin", 10, (
        "Avenue Gabriel Péri", "Chemin du Grand Bois", "Rue Maurice Audin", "Avenue Georges Rougé",
        "Avenue Henri Barbusse", "Rue Lesire",
    )),
    Commune("Saint-Priest", "69290", "69800", "Agence Lyon Sud-Est", 6, (
        "Boulevard Édouard Herriot", "Rue Henri Maréchal", "Route d'Heyrieux", "Rue Aristide Briand",
        "Avenue Jean Jaurès",
    )),
    Commune("Bron", "69029", "69500", "Agence Lyon Sud-Est", 6, (
        "Avenue Franklin Roosevelt", "Boulevard Pinel", "Avenue Pierre Brossolette", "Rue Paul Pic",
        "Avenue Camille Rousset",
    )),
    Commune("Rillieux-la-Pape", "69286", "69140", "Agence Val de Saône", 6, (
        "Avenue de l'Europe", "Rue Ampère", "Avenue des Nations", "Montée des Lilas",
        "Chemin de Sathonay",
    )),
    Commune("Saint-Fons", "69199", "69190", "Agence Vénissieux", 3, (
        "Rue Carnot", "Avenue Albert Thomas", "Rue Jean Jaurès", "Rue Anatole France",
    )),
    Commune("Décines-Charpieu", "69275", "69150", "Agence Vaulx-en-Velin", 3, (
        "Avenue Jean Jaurès", "Rue de la République", "Avenue Édouard Herriot", "Rue Émile Zola",
    )),
    Commune("Meyzieu", "69282", "69330", "Agence Vaulx-en-Velin", 2, (
        "Rue de la République", "Avenue de Verdun", "Rue Louis Saulnier",
    )),
    Commune("Givors", "69091", "69700", "Agence Lyon Ouest", 3, (
        "Rue Joseph Faure", "Avenue Anatole France", "Rue Jean Ligonnet", "Place Henri Barbusse",
    )),
    Commune("Oullins", "69149", "69600", "Agence Lyon Ouest", 2, (
        "Grande Rue", "Rue Pierre Sémard", "Boulevard de l'Yzeron",
    )),
    Commune("Villefranche-sur-Saône", "69264", "69400", "Agence Val de Saône", 3, (
        "Rue Nationale", "Boulevard Gambetta", "Avenue de l'Europe", "Rue de Belleville",
    )),
    Commune("Caluire-et-Cuire", "69034", "69300", "Agence Val de Saône", 2, (
        "Montée des Forts", "Avenue Général de Gaulle", "Rue Jean Moulin",
    )),
)

_NATURE_NAMES = (
    "Les Tilleuls", "Les Marronniers", "Les Acacias", "Les Érables", "Les Platanes", "Les Charmilles",
    "Les Glycines", "Les Peupliers", "Les Cèdres", "Les Lilas", "Le Bosquet", "Les Saules",
    "Les Mimosas", "Les Iris", "Les Bleuets", "Le Verger", "Les Alouettes", "Les Hirondelles",
    "Le Belvédère", "Les Coteaux", "La Roseraie", "Les Sources", "Le Moulin", "Les Vignes",
)
_PERSON_NAMES = (
    "Jean Jaurès", "Pablo Picasso", "Louis Aragon", "Paul Éluard", "Jean Moulin", "Lucie Aubrac",
    "Victor Hugo", "Émile Zola", "Pierre et Marie Curie", "Jules Ferry", "Gabriel Péri",
    "Danielle Casanova", "Henri Barbusse", "Ambroise Croizat", "Marcel Cachin", "Simone Veil",
    "Olympe de Gouges", "Nelson Mandela", "Paul Langevin", "Romain Rolland", "Louise Michel",
    "Joliot-Curie", "Salvador Allende", "Anatole France",
)
_NAME_PATTERNS = (
    ("Résidence {}", _NATURE_NAMES), ("Résidence {}", _PERSON_NAMES), ("Cité {}", _PERSON_NAMES),
    ("Groupe {}", _PERSON_NAMES), ("Le Clos {}", ("des Vignes", "Fleuri", "du Moulin", "Saint-Jean")),
    ("Les Jardins {}", ("de la Soie", "du Parc", "d'Alice", "de Parilly", "du Rhône")),
    ("Les Terrasses {}", ("du Parc", "de la Duchère", "du Fort", "de Gerland")),
)
_ROMAN = ("", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X")

FIRST_NAMES_FEMALE = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Christine", "Sandrine", "Valérie",
    "Céline", "Stéphanie", "Julie", "Aurélie", "Émilie", "Camille", "Laura", "Manon", "Sarah",
    "Chloé", "Léa", "Inès", "Lina", "Yasmine", "Fatima", "Aïcha", "Nadia", "Samira", "Karima",
    "Leïla", "Myriam", "Sofia", "Amina", "Aminata", "Fatoumata", "Mariama", "Ana", "Maria",
    "Thi Lan", "Linh", "Elif", "Zeynep", "Monique", "Josiane", "Martine", "Françoise",
    "Jacqueline", "Danielle", "Jessica", "Audrey", "Océane", "Kenza",
)
FIRST_NAMES_MALE = (
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Patrick", "Christophe", "Stéphane", "Laurent",
    "Nicolas", "Julien", "Sébastien", "Thomas", "Kevin", "Maxime", "Lucas", "Hugo", "Nathan",
    "Adam", "Rayan", "Mohamed", "Karim", "Rachid", "Mehdi", "Yassine", "Nordine", "Farid",
    "Said", "Mamadou", "Moussa", "Ibrahima", "Boubacar", "João", "Carlos", "Manuel", "Minh",
    "Duc", "Mehmet", "Mustafa", "Bernard", "Gérard", "Daniel", "Jacques", "Didier", "Franck",
    "Anthony", "Jordan", "Youssef", "Bilal", "Ilyes",
)
LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier",
    "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Garcia", "Martinez",
    "Fernandez", "Da Silva", "Pereira", "Ferreira", "Dos Santos", "Rodrigues", "Gonçalves",
    "Benali", "Haddad", "Bensaïd", "Mansouri", "Meziane", "Amrani", "Cherif", "Hamdi", "Boukhalfa",
    "Belkacem", "Bouzid", "Khelifi", "Saïdi", "Brahimi", "Diallo", "Traoré", "Koné", "Diop",
    "Camara", "Sow", "Keita", "Nguyen", "Tran", "Pham", "Kaya", "Yilmaz", "Demir", "Özdemir",
    "Rossi", "Russo", "Vidal", "Perret", "Chauvin", "Rey", "Brun", "Berger", "Giraud", "Roche",
    "Arnaud", "Colin", "Barbier", "Masson", "Marchand", "Dufour", "Blanchard", "Gaillard",
    "Fabre", "Guillot", "Bouvier", "Jacquet",
)
EMAIL_DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "hotmail.fr", "hotmail.com", "orange.fr", "free.fr",
    "sfr.fr", "laposte.net", "yahoo.fr", "outlook.fr", "wanadoo.fr", "icloud.com",
)

_TYPOLOGIES = ("T1", "T2", "T3", "T4", "T5", "T6")
_TYPOLOGY_WEIGHTS = (8, 22, 35, 25, 8, 2)
#: Habitable surface range (m²) per typology.
SURFACES: dict[str, tuple[float, float]] = {
    "T1": (22.0, 34.0), "T2": (40.0, 55.0), "T3": (57.0, 74.0),
    "T4": (71.0, 90.0), "T5": (86.0, 108.0), "T6": (102.0, 130.0),
}
_FINANCINGS = ("PLAI", "PLUS", "PLS", "PLI")
#: Monthly rent excluding charges per m² (EUR) by financing, Lyon area.
RENT_PER_M2: dict[str, float] = {"PLAI": 5.6, "PLUS": 6.4, "PLS": 9.6, "PLI": 11.4}
_DPE_CLASSES = ("A", "B", "C", "D", "E", "F", "G")
# (last construction year of the era, era weight, DPE energy class weights A..G)
_ERAS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (1974, 45, (0, 1, 8, 30, 35, 15, 11)),
    (1990, 20, (0, 3, 15, 40, 28, 10, 4)),
    (2010, 20, (1, 8, 35, 38, 13, 4, 1)),
    (2024, 15, (10, 45, 35, 8, 2, 0, 0)),
)
_ERA_STARTS = (1955, 1975, 1991, 2011)


@dataclass
class ErpDataset:
    """The ERP's generated records, as JSON-able dicts in the ERP's own field names."""

    residences: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    tenants: list[dict[str, Any]] = field(default_factory=list)
    leases: list[dict[str, Any]] = field(default_factory=list)

    def count(self) -> int:
        """Total number of records."""
        return sum(
            len(x) for x in (self.residences, self.buildings, self.lots, self.tenants, self.leases)
        )


def street_code(insee: str, street: str) -> str:
    """Return the 4-character BAN street code of a street (stable, like the real FANTOIR codes)."""
    digest = zlib.crc32(f"{insee}:{street}".encode())
    if digest % 7 == 0:
        return f"b{digest // 7 % 1000:03d}"
    return f"{digest % 10000:04d}"


def ban_key(insee: str, street: str, number: int, suffix: str | None = None) -> str:
    """Return the BAN interoperability key ``<insee>_<street>_<number 5 digits>[_<suffix>]``."""
    key = f"{insee}_{street_code(insee, street)}_{number:05d}"
    return f"{key}_{suffix}" if suffix else key


def money(value: float) -> str:
    """Format an amount as the ERP does: a decimal string with two decimals (``"412.37"``)."""
    return f"{Decimal(repr(round(value, 2))).quantize(Decimal('0.01')):f}"


def ascii_slug(value: str) -> str:
    """Lower-case ASCII letters and digits of ``value`` (for e-mail local parts)."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


class TenantFactory:
    """Draws tenants (unique phones and e-mails) for the initial load and for new leases.

    Args:
        rng: The generator to draw from.

    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones: set[str] = set()
        self.emails: set[str] = set()

    def phone(self) -> str:
        """Draw a new, unused phone number in E.164 (mostly mobiles, some Lyon landlines)."""
        rng = self.rng
        number = ""
        while not number or number in self.phones:
            prefix = "4" if rng.random() < 0.08 else rng.choice("67")
            number = f"+33{prefix}{rng.randrange(10**8):08d}"
        self.phones.add(number)
        return number

    def email(self, first: str, last: str) -> str:
        """Draw a new, unused e-mail address built on the tenant's names."""
        rng = self.rng
        f, ln = ascii_slug(first), ascii_slug(last)
        local = rng.choice((f"{f}.{ln}", f"{f[0]}.{ln}", f"{f}{ln}{rng.randint(60, 99)}",
                            f"{ln}.{f}", f"{f}-{ln}{rng.randint(1, 999)}"))
        email = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
        while email in self.emails:
            email = f"{local}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"
        self.emails.add(email)
        return email

    def tenant(
        self,
        code: str,
        start: date,
        *,
        female: bool | None = None,
        last_name: str | None = None,
        timestamp: str = REFERENCE_TIMESTAMP,
    ) -> dict[str, Any]:
        """Draw one tenant record, adult at ``start`` (the start of their lease).

        Args:
            code: The tenant's ERP code ``LOC-…``.
            start: Start date of the lease the tenant holds.
            female: Sex of the person (drawn when None).
            last_name: Family name (drawn when None).
            timestamp: ``date_maj`` of the record.

        """
        rng = self.rng
        if female is None:
            female = rng.random() < 0.56
        first = rng.choice(FIRST_NAMES_FEMALE if female else FIRST_NAMES_MALE)
        last = last_name or rng.choice(LAST_NAMES)
        age_days = int(365.25 * min(78, max(19, rng.gauss(36, 11)))) + rng.randrange(365)
        has_email = rng.random() < 0.85
        has_phone = rng.random() < 0.97
        return {
            "code_tiers": code,
            "civilite": "MME" if female else "M",
            "nom": last.upper(),
            "prenom": first,
            "date_naissance": (start - timedelta(days=age_days)).isoformat(),
            "email": self.email(first, last) if has_email else None,
            "telephone": self.phone() if has_phone else None,
            "statut": "ACTIF",
            "date_maj": timestamp,
        }


def _weighted(rng: random.Random, values: tuple[Any, ...], weights: tuple[int, ...]) -> Any:
    return rng.choices(values, weights)[0]


def _residence_name(rng: random.Random, used: dict[str, int]) -> str:
    pattern, names = rng.choice(_NAME_PATTERNS)
    base = pattern.format(rng.choice(names))
    n = used.get(base, 0)
    used[base] = n + 1
    return base + (_ROMAN[n] if n < len(_ROMAN) else f" {n + 1}")


def _address(commune: Commune, street: str, number: int, suffix: str | None) -> dict[str, Any]:
    return {
        "numero_voie": str(number),
        "indice_repetition": suffix,
        "libelle_voie": street,
        "code_postal": commune.postcode,
        "ville": commune.postal_city,
        "code_insee": commune.insee,
    }


def _rnb(rng: random.Random, used: set[str]) -> str:
    value = ""
    while not value or value in used:
        value = "".join(rng.choices(RNB_ALPHABET, k=12))
    used.add(value)
    return value


def _dpe_number(rng: random.Random, year: int, department: str) -> str:
    tail = "".join(rng.choices("0123456789", k=7)) + rng.choice(_UPPER)
    return f"{year % 100:02d}{department}{rng.choice(_UPPER)}{tail}"


def new_dpe(rng: random.Random, insee: str, energy: str, on: date) -> dict[str, Any]:
    """Draw a DPE (number, date, GES class near ``energy``) made on date ``on``."""
    index = _DPE_CLASSES.index(energy)
    ges = _DPE_CLASSES[min(6, max(0, index + rng.choice((-1, 0, 0, 1))))]
    return {
        "dpe_classe_energie": energy,
        "dpe_classe_ges": ges,
        "dpe_numero": _dpe_number(rng, on.year, insee[:2]),
        "dpe_date": on.isoformat(),
    }


def generate_dataset(seed: int, lots: int) -> ErpDataset:
    """Generate the ERP's records for ``seed`` with exactly ``lots`` dwellings.

    Args:
        seed: Seed of every draw.
        lots: Number of lots (dwellings) of the estate.

    Returns:
        Residences, buildings, lots, tenants and leases, each list in id order.

    """
    rng = random.Random(f"erp-estate:{seed}")
    people = TenantFactory(rng)
    data = ErpDataset()
    commune_weights = tuple(c.weight for c in COMMUNES)
    era_weights = tuple(e[1] for e in _ERAS)
    names: dict[str, int] = {}
    rnbs: set[str] = set()
    rpls_seq: dict[str, int] = {}
    lease_seq = 0
    tenant_seq = 0
    made = 0
    residence_no = 0
    while made < lots:
        residence_no += 1
        commune: Commune = _weighted(rng, COMMUNES, commune_weights)
        era = _weighted(rng, tuple(range(len(_ERAS))), era_weights)
        year = rng.randint(_ERA_STARTS[era], _ERAS[era][0])
        dpe_weights = _ERAS[era][2]
        financing_main = _weighted(rng, _FINANCINGS, (20, 62, 14, 4))
        street = rng.choice(commune.streets)
        base_number = rng.randint(1, 120)
        res_code = f"RES-{residence_no:04d}"
        n_buildings = _weighted(rng, (1, 2, 3, 4, 5, 6, 8), (30, 22, 16, 12, 9, 7, 4))
        old = year < 1980
        residence = {
            "code_residence": res_code,
            "nom": _residence_name(rng, names),
            "commune": commune.name,
            "code_insee": commune.insee,
            "code_postal": commune.postcode,
            "adresse": _address(commune, street, base_number, None),
            "annee_construction": year,
            "financement_principal": financing_main,
            "agence": commune.agency,
            "nb_batiments": 0,
            "nb_logements": 0,
        }
        data.residences.append(residence)
        for b in range(1, n_buildings + 1):
            if made >= lots:
                break
            floors = rng.randint(4, 15) if old and rng.random() < 0.6 else rng.randint(2, 6)
            per_floor = rng.randint(2, 6 if floors < 10 else 4)
            count = min((floors + 1) * per_floor, lots - made, 999)
            on_second_street = rng.random() < 0.3
            b_street = rng.choice(commune.streets) if on_second_street else street
            number = base_number + 2 * (b - 1) if not on_second_street else rng.randint(1, 150)
            suffix = "bis" if rng.random() < 0.05 else None
            bat_code = f"BAT-{residence_no:04d}-{b:02d}"
            lift = floors >= 4
            building = {
                "code_batiment": bat_code,
                "code_residence": res_code,
                "libelle": f"Bâtiment {_UPPER[b - 1]}" if floors < 9 else f"Tour {b}",
                "id_rnb": _rnb(rng, rnbs),
                "cle_ban": ban_key(commune.insee, b_street, number, suffix),
                "adresse": _address(commune, b_street, number, suffix),
                "nb_etages": floors,
                "nb_logements": count,
                "ascenseur": lift,
                "annee_construction": year,
            }
            data.buildings.append(building)
            residence["nb_batiments"] += 1
            residence["nb_logements"] += count
            delivered = date(year, rng.randint(3, 11), 1)
            for k in range(1, count + 1):
                typology = _weighted(rng, _TYPOLOGIES, _TYPOLOGY_WEIGHTS)
                low, high = SURFACES[typology]
                surface = round(rng.uniform(low, high), 2)
                financing = financing_main if rng.random() < 0.85 else rng.choice(_FINANCINGS)
                energy = _weighted(rng, _DPE_CLASSES, dpe_weights)
                dpe_on = date(rng.randint(2021, 2025), rng.randint(1, 12), rng.randint(1, 28))
                seq = rpls_seq.get(commune.insee, 0) + 1
                rpls_seq[commune.insee] = seq
                lot_code = f"LOT-{residence_no:04d}-{b:02d}-{k:03d}"
                lot = {
                    "code_ug": lot_code,
                    "code_batiment": bat_code,
                    "code_residence": res_code,
                    "type_ug": "LOGEMENT",
                    "numero_rpls": f"{commune.insee}{seq:06d}",
                    "typologie": typology,
                    "nb_pieces": int(typology[1]) + (1 if typology == "T6" and rng.random() < 0.3 else 0),
                    "surface_habitable": f"{surface:.2f}",
                    "etage": (k - 1) // per_floor,
                    "financement": financing,
                    **new_dpe(rng, commune.insee, energy, dpe_on),
                    "annee_construction": year,
                    "statut_occupation": "VACANT",
                    "code_bail_en_cours": None,
                    "date_maj": REFERENCE_TIMESTAMP,
                }
                data.lots.append(lot)
                made += 1
                if rng.random() >= OCCUPIED_SHARE:
                    continue
                # Tenure in social housing is long: about 9 years on average.
                tenure_days = int(rng.expovariate(1 / (9 * 365.25)))
                start = max(delivered, REFERENCE_DATE - timedelta(days=tenure_days + 20))
                start = start.replace(day=rng.choice((1, 1, 1, 15)))
                lease_seq += 1
                holders = []
                n_holders = 2 if rng.random() < 0.42 else 1
                first_female = rng.random() < 0.56
                first: dict[str, Any] | None = None
                for h in range(n_holders):
                    tenant_seq += 1
                    if h == 0:
                        tenant = people.tenant(f"LOC-{tenant_seq:07d}", start, female=first_female)
                        first = tenant
                    else:
                        assert first is not None
                        couple = rng.random() < 0.85
                        female = (not first_female) if couple else rng.random() < 0.5
                        shared = first["nom"].title() if couple and rng.random() < 0.65 else None
                        tenant = people.tenant(
                            f"LOC-{tenant_seq:07d}", start, female=female, last_name=shared
                        )
                    data.tenants.append(tenant)
                    holders.append(tenant["code_tiers"])
                rent = surface * RENT_PER_M2[financing] * rng.uniform(0.92, 1.08)
                if year >= 2011:
                    rent *= 1.08
                charges = surface * rng.uniform(1.4, 2.4) + (surface * 0.25 if lift else 0.0)
                notice = rng.random() < NOTICE_SHARE
                # A notice is given during the lease, never before it began (same draws either way).
                notice_on = (
                    max(start, REFERENCE_DATE - timedelta(days=rng.randint(1, 40))) if notice else None
                )
                lease_code = f"BAIL-{start.year}-{lease_seq:06d}"
                data.leases.append(
                    {
                        "code_bail": lease_code,
                        "code_ug": lot_code,
                        "titulaires": holders,
                        "date_entree": start.isoformat(),
                        "date_preavis": notice_on.isoformat() if notice_on else None,
                        "date_sortie": (notice_on + timedelta(days=NOTICE_PERIOD_DAYS)).isoformat()
                        if notice_on
                        else None,
                        "statut": "PREAVIS" if notice else "EN_COURS",
                        "loyer_principal": money(rent),
                        "provision_charges": money(charges),
                        "depot_garantie": money(rent),
                        "assurance_statut": None,
                        "assurance_date_fin": None,
                        "assurance_date_controle": None,
                        "date_maj": REFERENCE_TIMESTAMP,
                    }
                )
                lot["statut_occupation"] = "PREAVIS" if notice else "OCCUPE"
                lot["code_bail_en_cours"] = lease_code
    return data
