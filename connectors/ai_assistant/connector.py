"""The tenant assistant on the bus: triaged questions in, answers (or hand-offs) out.

A triaged request that is a question — its ``intent`` is ``question``, or it is about rent or
paperwork and carries no document — is answered in the hub's process and published as
``fr.pivot.request.answered.v1`` (status ``resolved``, or ``in_progress`` when an agent takes
over); the channel's connector sends it to the tenant. No satellite is called. Each answer is
recorded as an AI decision (model, version, hash of the question, sources, score).
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar

from canonical_model import RequestCategory, RequestIntent, RequestStatus, TenantRequest
from canonical_model.events import CanonicalEvent, RequestAnswered, RequestTriaged
from connectors.ai_assistant.assistant import MODEL, Assistant, get_assistant
from connectors.ai_assistant.records import landlord_day
from connectors.ai_assistant.settings import AiAssistantSettings
from connectors.sdk import Connector, ConnectorSettings, Outbound
from connectors.sdk.context import OutboundContext
from pivot.store.decisions import Decision

#: Categories whose requests without a document are questions even when triaged as reports.
QUESTION_CATEGORIES = frozenset({RequestCategory.RENT_CHARGES, RequestCategory.ADMINISTRATIVE})
_ANSWER_MAX = 4000

#: The assistant of the connector delivering now (set around each delivery).
_ACTIVE: ContextVar[Assistant | None] = ContextVar("ai_assistant_active", default=None)


def is_question(request: TenantRequest) -> bool:
    """Whether the assistant answers this request (a question, not something to repair)."""
    if request.intent is RequestIntent.QUESTION:
        return True
    return request.category in QUESTION_CATEGORIES and not request.attachments


def answer(event: RequestTriaged, ctx: OutboundContext) -> list[CanonicalEvent]:
    """Answer a triaged question; publish the request answered. Anything else: nothing."""
    if not is_question(event):
        return []
    assistant = _ACTIVE.get() or get_assistant()
    reply = assistant.reply(event.text, ctx, event.tenant_id, landlord_day(ctx.event_time))
    ctx.record_decision(Decision(
        model=MODEL,
        model_version=assistant.model_version,
        input_sha256=hashlib.sha256(event.text.encode("utf-8")).hexdigest(),
        subject=event.id,
        output={"intent": reply.topic.value, "sources": list(reply.sources),
                "handed_to_human": reply.handed_to_human, "score": reply.score,
                "coverage": reply.coverage},
    ))
    state = event.snapshot().model_dump()
    return [RequestAnswered.model_validate({
        **state,
        "status": RequestStatus.IN_PROGRESS if reply.handed_to_human else RequestStatus.RESOLVED,
        "answer": reply.answer[:_ANSWER_MAX],
        "answer_sources": list(reply.sources),
        "handed_to_human": reply.handed_to_human,
        "model_version": assistant.model_version,
    })]


class AiAssistantConnector(Connector):
    """Triaged tenant questions in (from the bus), their answers out."""

    name = "ai_assistant"
    settings_class = AiAssistantSettings
    outbound = {
        RequestTriaged.event_type: Outbound(RequestTriaged, answer, emits=(RequestAnswered,)),
    }

    def __init__(self, settings: ConnectorSettings | None = None) -> None:
        super().__init__(settings)
        own = self.settings if isinstance(self.settings, AiAssistantSettings) else None
        self.assistant = get_assistant(own)  # index the FAQ now, not on the first question

    def deliver(self, event: CanonicalEvent, ctx: OutboundContext) -> list[CanonicalEvent]:
        """Deliver with this connector's assistant (its FAQ and threshold)."""
        token = _ACTIVE.set(self.assistant)
        try:
            return super().deliver(event, ctx)
        finally:
            _ACTIVE.reset(token)
