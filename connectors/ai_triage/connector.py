"""The AI triage on the bus: every received tenant request is published again, triaged.

The classification runs in the hub's process (:func:`connectors.ai_triage.llm.triage`: the
offline model, or the LLM backend when ``PIVOT_LLM_*`` configures one, with the offline model
as fallback); no satellite is called. The model is trained once, when the connector is built.
"""

from __future__ import annotations

from canonical_model import RequestStatus, Urgency
from canonical_model.events import CanonicalEvent, RequestReceived, RequestTriaged
from connectors.ai_triage.intent import intent_of
from connectors.ai_triage.llm import triage as run_triage
from connectors.ai_triage.model import warm_up
from connectors.ai_triage.settings import AiTriageSettings
from connectors.sdk import Connector, ConnectorSettings, Outbound
from connectors.sdk.context import OutboundContext
from pivot.store.decisions import Decision

_SEVERITY = {Urgency.NORMAL: 0, Urgency.HIGH: 1, Urgency.URGENT: 2}


def triage(event: RequestReceived, ctx: OutboundContext) -> list[CanonicalEvent]:
    """Classify the request's text; publish the request triaged (category, urgency, reasons).

    An urgency the request already came with (set by an agent, say) is never lowered.
    """
    result = run_triage(event.text, id=event.id)
    urgency, reasons = result.urgency, list(result.reasons)
    if event.urgency is not None and _SEVERITY[event.urgency] > _SEVERITY[urgency]:
        urgency = event.urgency
        reasons.insert(0, f"{urgency.value}: given with the request, kept")
    intent = intent_of(event.text, urgency)
    # The reasons quote the tenant's words: the record keeps the decision, not the text.
    ctx.record_decision(Decision(
        model="request_triage", model_version=result.model_version,
        input_sha256=result.input_sha256, subject=event.id,
        output={"category": result.category.value, "urgency": urgency.value,
                "intent": intent.value, "confidence": result.confidence,
                "needs_human_review": result.needs_human_review},
    ))
    return [
        RequestTriaged.model_validate({
            **event.model_dump(),
            "status": RequestStatus.TRIAGED,
            "category": result.category,
            "urgency": urgency,
            "intent": intent,
            "triage_reasons": reasons,
            "triage_confidence": result.confidence,
            "needs_human_review": result.needs_human_review,
            "model_version": result.model_version,
        })
    ]


class AiTriageConnector(Connector):
    """Received tenant requests in (from the bus), the same requests triaged out."""

    name = "ai_triage"
    settings_class = AiTriageSettings
    outbound = {
        RequestReceived.event_type: Outbound(RequestReceived, triage, emits=(RequestTriaged,)),
    }

    def __init__(self, settings: ConnectorSettings | None = None) -> None:
        super().__init__(settings)
        warm_up()  # train the text model now (about a second), not on the first request
