"""Whether a tenant reports something to fix or asks a question (to be answered, not repaired).

A rule set on the normalised text, tuned so that a report is never taken for a question: an
urgent or high-urgency message is always a report, and a question mark alone ("pouvez-vous
envoyer quelqu'un ?") is not enough. A question asks about the tenant's own file (where is my
repair, is my certificate accepted, when is my visit) or about a procedure (how do I pay).
"""

from __future__ import annotations

import re

from canonical_model import RequestIntent, Urgency
from connectors.ai_triage.normalize import strip_accents

_QUESTION_CUES = re.compile(
    r"\b(ou en est|ou en sont|quand (passe|vient|viendra|aura lieu|a lieu|est prevu|sera)"
    r"|a-t-elle|a-t-il|est-ce que (mon|ma|mes)|avez-vous (bien )?re[cç]u"
    r"|comment (puis-je|je peux|je fai[st]?|faire|payer)|combien de temps|quel(le)? est la procedure"
    r"|a qui dois-je|quelle date|des nouvelles|(passe|vient|viendra|arrive) quand)\b"
)


def intent_of(text: str, urgency: Urgency) -> RequestIntent:
    """The request's intent from its text and its (triaged) urgency."""
    if urgency is not Urgency.NORMAL:
        return RequestIntent.REPORT
    folded = strip_accents(text.lower())
    return RequestIntent.QUESTION if _QUESTION_CUES.search(folded) else RequestIntent.REPORT
