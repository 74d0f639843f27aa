"""Chatbot mappings: tenant messages in, acknowledgements and status notices out."""

from __future__ import annotations

from canonical_model import Channel, RequestStatus
from canonical_model.events import CanonicalEvent, InterventionCreated, RequestReceived
from connectors.chatbot.payloads import MessageCreated
from connectors.sdk.context import MappingContext, OutboundContext
from pivot.errors import MappingError
from pivot.http import IDEMPOTENCY_HEADER, raise_for_status

SYSTEM = "chatbot"

CHANNELS = {"whatsapp": Channel.WHATSAPP, "sms": Channel.SMS, "web": Channel.CHATBOT}


def request_reference(canonical_id: str) -> str:
    """The short reference a tenant can quote (``DEM-3F2A9C1B``)."""
    return "DEM-" + canonical_id.rsplit("_", 1)[-1][:8].upper()


def map_message(payload: MessageCreated, ctx: MappingContext) -> list[CanonicalEvent]:
    """A tenant's message becomes a received tenant request."""
    return [
        RequestReceived(
            id=ctx.canonical_id("request", payload.message.id),
            tenant_id=ctx.canonical_id("tenant", payload.user.id),
            channel=CHANNELS[payload.conversation.channel],
            text=payload.message.text,
            received_at=payload.message.sent_at,
            status=RequestStatus.RECEIVED,
            conversation_ref=payload.conversation.id,
        )
    ]


def _reply(ctx: OutboundContext, conversation: str, text: str, kind: str, reference: str) -> None:
    response = ctx.client.post(
        f"/api/v1/conversations/{conversation}/replies",
        json={"text": text, "kind": kind, "reference": reference},
        headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    )
    raise_for_status(response)


def acknowledge_request(event: RequestReceived, ctx: OutboundContext) -> None:
    """Tell the tenant their request is registered, with its reference."""
    if ctx.source_id("request", event.id) is None:
        return  # not a request that came through the chatbot
    if not event.conversation_ref:
        raise MappingError(f"request {event.id} has no conversation to answer")
    reference = request_reference(event.id)
    _reply(
        ctx, event.conversation_ref,
        f"Bonjour, votre demande a bien été enregistrée sous la référence {reference}. "
        "Nous revenons vers vous dès qu'une intervention est programmée.",
        "acknowledgement", reference,
    )


def notify_intervention(event: InterventionCreated, ctx: OutboundContext) -> None:
    """Tell the tenant an intervention was opened for their request."""
    if not event.request_id or ctx.source_id("request", event.request_id) is None:
        return  # the intervention does not answer a chatbot request
    request = ctx.golden(event.request_id)
    conversation = request.get("conversation_ref") if request else None
    if not conversation:
        raise MappingError(f"request {event.request_id} has no conversation to notify")
    reference = request_reference(event.request_id)
    _reply(
        ctx, conversation,
        f"Votre demande {reference} a donné lieu à une intervention : « {event.title} ». "
        "L'entreprise vous contactera pour convenir d'un rendez-vous.",
        "status", reference,
    )
