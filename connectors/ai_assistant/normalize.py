"""Text normalisation for the assistant: accent-folded lowercase words, SMS spelling expanded.

Questions are compared on what they ask, not on how they greet: politeness and function words
(``bonjour``, ``je voudrais savoir``, ``est-ce que``) are dropped, so two questions on different
subjects are not found similar because they are both polite.
"""

from __future__ import annotations

import re
import unicodedata

#: SMS writing and frequent misspellings → the standard word (token by token).
SMS: dict[str, str] = {
    # politeness and fillers: nothing to compare
    "svp": "", "stp": "", "slt": "", "bjr": "", "bsr": "", "mrc": "", "mci": "", "cc": "", "jsp": "",
    "jvoudrai": "", "jvoudrais": "", "jvoulais": "", "vs": "vous", "g": "j ai", "c": "c est",
    # SMS writing
    "pb": "probleme", "pbm": "probleme", "prob": "probleme", "ya": "il y a", "jai": "j ai",
    "chui": "je suis", "jsuis": "je suis", "jpeux": "je peux", "jveux": "je veux",
    "jpe": "je peux", "jsui": "je suis", "jcomprend": "je comprends",
    "jcomprends": "je comprends", "cest": "c est", "kan": "quand", "kand": "quand",
    "qd": "quand", "qnd": "quand", "koi": "quoi", "pk": "pourquoi", "pq": "pourquoi",
    "pkoi": "pourquoi", "kel": "quel", "kelle": "quelle", "ke": "que", "ki": "qui", "ds": "dans",
    "pr": "pour", "tt": "tout", "bcp": "beaucoup", "rdv": "rendez vous", "dmd": "demande",
    "appart": "appartement", "apart": "appartement", "appt": "appartement", "logt": "logement",
    "lgt": "logement", "edl": "etat des lieux", "assu": "assurance", "regul": "regularisation",
    "regule": "regularisation", "clef": "cle", "clefs": "cles", "proprio": "bailleur",
    # misspellings
    "loye": "loyer", "loyez": "loyer", "loyers": "loyer", "asurance": "assurance",
    "atestation": "attestation", "attestasion": "attestation", "attestaion": "attestation",
    "preavie": "preavis", "preavi": "preavis", "preavit": "preavis", "bagde": "badge",
    "bage": "badge", "chodiere": "chaudiere", "chaudierre": "chaudiere", "chaudier": "chaudiere",
    "vosin": "voisin", "encombrant": "encombrants", "ancombrant": "encombrants",
    "ancombrants": "encombrants", "regularisasion": "regularisation", "quitance": "quittance",
    "quittence": "quittance", "mutasion": "mutation", "plombie": "plombier", "plonbier": "plombier",
    "reparasion": "reparation", "reparations": "reparation", "interventions": "intervention",
    "cauzion": "caution", "caussion": "caution", "prelevment": "prelevement", "virment": "virement",
}

_STOP = """
a ai aie ait as au aux avec avoir avez avons bonjour bonsoir madame monsieur merci cordialement
ce ceci cela ca c cet cette ces d de des du dans elle elles en est et etre etes eu fait faire
faut il ils j je l la le les leur lui m ma me mes mon moi n ne nous on ou par pour qu que
qui s sa se ses si son sont sur t ta te tes toi ton tu un une vos votre vous y suis etait
voudrais voudrait souhaiterais souhaite aimerais savoir dire plait bien alors donc car mais
puis peux peut pouvez pourriez pourrais avance salut hello oui non ok quand comment pourquoi
quoi quel quelle quels quelles combien dois doit devez possible veux vouloir fais ont sera
comprends comprend comprendre normal
serait chez logement logements appartement appartements
"""
#: Words that carry no subject: greetings, politeness, pronouns, auxiliaries, question words, and
#: the dwelling itself (every question is about one).
STOP_WORDS = frozenset(_STOP.split())

_ELISION = re.compile(r"\b([cdjlmnst]|qu)'")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")


def fold(text: str) -> str:
    """Lowercase ASCII: accents stripped, ligatures opened (``œ`` → ``oe``), apostrophes unified."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae").replace("’", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text``, elisions split, SMS spellings expanded (stop words kept)."""
    folded = _REPEATS.sub(r"\1", _ELISION.sub(r"\1 ", fold(text)))
    out: list[str] = []
    for token in _NON_WORD.split(folded):
        if token:
            out.extend(SMS.get(token, token).split())
    return out


def normalize(text: str) -> str:
    """The words of ``text`` that say what it is about, space-separated (the retrieval input)."""
    return " ".join(w for w in words(text) if w not in STOP_WORDS)


def plain(text: str) -> str:
    """All folded words of ``text``, space-separated (the input of the intent rules)."""
    return " ".join(words(text))
