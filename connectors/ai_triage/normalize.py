"""French text normalisation for tenant messages: accents, SMS writing, common misspellings.

The output is lowercase ASCII words separated by single spaces, elisions split (``l'eau`` →
``l eau``), so lexicon patterns are written once, without accents or apostrophes.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# SMS abbreviations and phonetic spellings → standard words (applied token by token).
SMS: dict[str, str] = {
    "pb": "probleme",
    "pbm": "probleme",
    "pblm": "probleme",
    "prob": "probleme",
    "svp": "s il vous plait",
    "stp": "s il te plait",
    "svpl": "s il vous plait",
    "ya": "il y a",
    "yas": "il y a",
    "yavait": "il y avait",
    "ny": "n y",
    "jsp": "je sais pas",
    "jpp": "je peux plus",
    "jpeux": "je peux",
    "chui": "je suis",
    "chuis": "je suis",
    "jsuis": "je suis",
    "jss": "je suis",
    "jai": "j ai",
    "jsais": "je sais",
    "jarrive": "j arrive",
    "jy": "j y",
    "jme": "je me",
    "jvous": "je vous",
    "jveux": "je veux",
    "bcp": "beaucoup",
    "bcq": "beaucoup",
    "tjs": "toujours",
    "tjrs": "toujours",
    "tjr": "toujours",
    "ds": "dans",
    "pr": "pour",
    "qd": "quand",
    "qnd": "quand",
    "kan": "quand",
    "kand": "quand",
    "mm": "meme",
    "rdv": "rendez vous",
    "ac": "avec",
    "avc": "avec",
    "koi": "quoi",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "pcq": "parce que",
    "pck": "parce que",
    "psk": "parce que",
    "cest": "c est",
    "sa": "ca",
    "ke": "que",
    "ki": "qui",
    "kel": "quel",
    "kelle": "quelle",
    "kelke": "quelque",
    "qlq": "quelque",
    "qq": "quelque",
    "kelk": "quelque",
    "tt": "tout",
    "tte": "toute",
    "ttes": "toutes",
    "tts": "tous",
    "auj": "aujourd hui",
    "ajd": "aujourd hui",
    "aujd": "aujourd hui",
    "dmain": "demain",
    "apart": "appartement",
    "appart": "appartement",
    "apt": "appartement",
    "appt": "appartement",
    "appartemment": "appartement",
    "lapart": "l appartement",
    "lappart": "l appartement",
    "lappartement": "l appartement",
    "dsl": "desole",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "slt": "salut",
    "mrc": "merci",
    "mci": "merci",
    "dac": "d accord",
    "pa": "pas",
    "plu": "plus",
    "dpuis": "depuis",
    "dp": "depuis",
    "depui": "depuis",
    "ns": "nous",
    "vs": "vous",
    "nn": "non",
    "bb": "bebe",
    "hs": "hors service",
    "asap": "vite",
    "urgt": "urgent",
    "urg": "urgent",
    "sdb": "salle de bain",
    "edf": "electricite",
    "elec": "electricite",
    "elek": "electricite",
    "rdc": "rez de chaussee",
    "bat": "batiment",
    "toilette": "toilettes",
    "chiottes": "toilettes",
    "ascenceur": "ascenseur",
    "asenseur": "ascenseur",
    "assenseur": "ascenseur",
    "asenceur": "ascenseur",
    "assenceur": "ascenseur",
    "ascensseur": "ascenseur",
    "acenseur": "ascenseur",
    "ascensceur": "ascenseur",
    "ascenseure": "ascenseur",
    "ascenceurs": "ascenseurs",
    "chodiere": "chaudiere",
    "chaudier": "chaudiere",
    "chaudierre": "chaudiere",
    "chodierre": "chaudiere",
    "radia": "radiateur",
    "radiat": "radiateur",
    "radiateure": "radiateur",
    "radiateures": "radiateurs",
    "innondation": "inondation",
    "inondassion": "inondation",
    "innonde": "inonde",
    "innondee": "inondee",
    "fuitte": "fuite",
    "fuittes": "fuites",
    "kafard": "cafard",
    "kafards": "cafards",
    "cafar": "cafard",
    "cafars": "cafards",
    "souri": "souris",
    "moisissur": "moisissure",
    "moisisure": "moisissure",
    "moisisures": "moisissures",
    "humiditer": "humidite",
    "gas": "gaz",
    "gasse": "gaz",
    "serure": "serrure",
    "seure": "serrure",
    "interfone": "interphone",
    "interphonne": "interphone",
    "digicod": "digicode",
    "electricitee": "electricite",
    "eletricite": "electricite",
    "electrisite": "electricite",
    "courrant": "courant",
    "disjoncteure": "disjoncteur",
    "boucher": "bouche",
    "tuyeau": "tuyau",
    "tuyo": "tuyau",
    "robinnet": "robinet",
    "levier": "l evier",
    "lavabos": "lavabo",
    "chaufage": "chauffage",
    "chauffag": "chauffage",
    "chofage": "chauffage",
    "loier": "loyer",
    "voisinn": "voisin",
    "punnaise": "punaise",
    "poubel": "poubelle",
    "ampoulle": "ampoule",
    "escalie": "escalier",
    "fo": "faut",
    "fau": "faut",
    "oci": "aussi",
    "osi": "aussi",
    "ct": "c etait",
    "etai": "etait",
    "mn": "mon",
    "bloker": "bloque",
    "bloke": "bloque",
    "bloquer": "bloque",
    "coinser": "coince",
    "coinse": "coince",
    "enfermer": "enferme",
    "dgt": "degat",
    "flotte": "eau",
    "flote": "eau",
}

_APOSTROPHES = re.compile(r"[’'`´ʼ‘]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_DIGIT_WORD = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def strip_accents(text: str) -> str:
    """Remove diacritics (``é`` → ``e``) and expand ligatures (``œ`` → ``oe``)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=8192)
def _expand(token: str) -> str:
    return SMS.get(token, token)


def normalize(text: str) -> str:
    """Normalise a tenant's message for matching.

    Args:
        text: Raw message, any case, accents or not, SMS style allowed.

    Returns:
        Lowercase ASCII words separated by single spaces: accents removed, elisions split,
        letters repeated three times or more collapsed (``urgeeent`` → ``urgent``), SMS
        abbreviations and frequent misspellings expanded (``pb`` → ``probleme``,
        ``ascenceur`` → ``ascenseur``), numbers split from words (``3e`` → ``3 e``).

    """
    lowered = strip_accents(text).lower()
    lowered = _APOSTROPHES.sub(" ", lowered)
    lowered = lowered.replace("°c", " degres ").replace("°", " degres ").replace("€", " euros ")
    lowered = _NON_WORD.sub(" ", lowered)
    lowered = _REPEATS.sub(r"\1", lowered)
    lowered = _DIGIT_WORD.sub(" ", lowered)
    return " ".join(_expand(tok) for tok in lowered.split())
