"""Which question a tenant asks: about their own file (a repair, a certificate, a visit) or the FAQ.

Rules on the folded words (:func:`connectors.ai_assistant.normalize.plain`). A personal topic
needs both its subject (``réparation``, ``attestation``, ``visite conseil``) and a status cue
(``où en est``, ``acceptée``, ``quand``); a question on how things work (``comment se passe
l'état des lieux``, ``qui paie la réparation``) stays with the FAQ.
"""

from __future__ import annotations

import re
from enum import StrEnum

from connectors.ai_assistant.normalize import plain


class Topic(StrEnum):
    """What the assistant answers from: a tenant's records, or the FAQ."""

    REPAIR_STATUS = "repair_status"
    INSURANCE_STATUS = "insurance_status"
    INSPECTION = "inspection"
    FAQ = "faq"


#: Topics answered from the asking tenant's own golden records.
PERSONAL = frozenset({Topic.REPAIR_STATUS, Topic.INSURANCE_STATUS, Topic.INSPECTION})

_REPAIR_SUBJECT = re.compile(
    r"\b(reparation|intervention|depannage|travaux|bon de travaux|plombier|technicien|artisan"
    r"|electricien|chauffagiste|serrurier|vitrier|depanneur|ouvrier|prestataire|entreprise"
    r"|ma demande|mon signalement|ma reclamation|ma fuite|mon radiateur|ma chaudiere)\b"
)
_REPAIR_STATUS = re.compile(
    r"\b(ou en est|ou en sont|avancement|nouvelles?|toujours (pas|rien|en attente)|suivi|statut"
    r"|quand|vient|viendra|venir|passe|passera|passer|arrive|arrivera|rendez vous|date|prevue?"
    r"|programmee?|j attends|attente|quel jour|a quelle heure)\b"
)
#: How-to and cost questions about repairs belong to the FAQ (who pays, annual servicing).
_REPAIR_NOT_STATUS = re.compile(
    r"\b(entretien annuel|entretien de (la|ma) chaudiere|ramonage|qui paie|qui paye|payer|a la charge"
    r"|charge de qui|refactur\w*|combien coute|prix|autoris\w*|ai je le droit|puis je faire)\b"
)
#: Any certificate but a rent, address or payment one (« attestation de loyer » is the FAQ's).
_INSURANCE_SUBJECT = re.compile(
    r"\b(assurance|assureur|attestation(?! (de |d )?(loyer|domicile|paiement|hebergement|caf)))\b"
)
_INSURANCE_STATUS = re.compile(
    r"\b(accept\w*|valid\w*|refus\w*|rejet\w*|recue?s?|bien recu|statut|conforme|pris en compte"
    r"|prise en compte|enregistree?|traitee?|en regle|a jour|relance\w*|manque|expire\w*|ok)\b"
)
_INSPECTION_SUBJECT = re.compile(
    r"\b(visite conseil|pre etat des lieux|etat des lieux|visite (de|avant (le|mon|ma|notre)?) ?"
    r"(depart|sortie)|visite du logement|visite avant (le |mon )?depart)\b"
)
_WHEN = re.compile(
    r"\b(quand|quelle date|quel jour|a quelle heure|date|rendez vous|prevue?|programmee?|planifiee?"
    r"|fixee?|a lieu|aura lieu)\b"
)
_OWN = re.compile(r"\b(mon|ma|mes|notre|nos)\b")
_HOW = re.compile(r"\b(comment|qu est ce|c est quoi|a quoi sert|que verifie|se deroule|se passe)\b")


def topic_of(text: str) -> Topic:
    """The topic of a tenant's question (``FAQ`` unless a personal rule fires)."""
    words = plain(text)
    if _INSPECTION_SUBJECT.search(words) and _WHEN.search(words) and (
            _OWN.search(words) or not _HOW.search(words)):
        return Topic.INSPECTION
    if _INSURANCE_SUBJECT.search(words) and _INSURANCE_STATUS.search(words):
        return Topic.INSURANCE_STATUS
    if (_REPAIR_SUBJECT.search(words) and _REPAIR_STATUS.search(words)
            and not _REPAIR_NOT_STATUS.search(words)):
        return Topic.REPAIR_STATUS
    return Topic.FAQ
