"""Chatbot mappings: tenant messages in, acknowledgements and status notices out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canonical_model import Attachment, Channel, Intervention, RequestStatus
from canonical_model.events import (
    CanonicalEvent,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    InterventionCompleted,
    InterventionCreated,
    InterventionScheduled,
    RequestAnswered,
    RequestReceived,
)
from connectors.chatbot.payloads import MessageCreated, User
from connectors.sdk.context import MappingContext, OutboundContext
from pivot.errors import MappingError
from pivot.http import IDEMPOTENCY_HEADER, raise_for_status

SYSTEM = "chatbot"

CHANNELS = {"whatsapp": Channel.WHATSAPP, "sms": Channel.SMS, "web": Channel.CHATBOT}


def request_reference(canonical_id: str) -> str:
    """The short reference a tenant can quote (``DEM-3F2A9C1B``)."""
    return "DEM-" + canonical_id.rsplit("_", 1)[-1][:8].upper()


#: The ERP's system name in the xref: the tenant reference a user gives is the ERP's.
ERP = "erp"


def tenant_of(user: User, ctx: MappingContext) -> str:
    """Canonical tenant of a chatbot user.

    A user already known keeps their tenant; a new user who gave their ERP tenant reference
    is linked to that tenant's golden record; anyone else gets a tenant record of their own,
    which a data steward may later merge into the ERP's (``pivot xref merge``).
    """
    known = ctx.lookup("tenant", user.id)
    if known is not None:
        return known
    if user.erp_tenant_ref:
        erp_tenant = ctx.lookup("tenant", user.erp_tenant_ref, system=ERP)
        if erp_tenant is not None:
            return ctx.link("tenant", user.id, erp_tenant)
    return ctx.canonical_id("tenant", user.id)


def identities(payload: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The look-ups :func:`map_message` makes for a raw ``message.created`` (a bulk-load hint)."""
    user, message = payload.get("user"), payload.get("message")
    found: list[tuple[str, str, str]] = []
    if isinstance(user, Mapping) and isinstance(user.get("id"), str):
        found.append((SYSTEM, "tenant", user["id"]))
        if isinstance(user.get("erp_tenant_ref"), str):
            found.append((ERP, "tenant", user["erp_tenant_ref"]))
    if isinstance(message, Mapping) and isinstance(message.get("id"), str):
        found.append((SYSTEM, "request", message["id"]))
    return found


def map_message(payload: MessageCreated, ctx: MappingContext) -> list[CanonicalEvent]:
    """A tenant's message becomes a received tenant request, on the lot the tenant rents."""
    tenant_id = tenant_of(payload.user, ctx)
    return [
        RequestReceived(
            id=ctx.canonical_id("request", payload.message.id),
            tenant_id=tenant_id,
            lot_id=ctx.lot_of_tenant(tenant_id, payload.message.sent_at.date()),
            channel=CHANNELS[payload.conversation.channel],
            text=payload.message.text,
            received_at=payload.message.sent_at,
            status=RequestStatus.RECEIVED,
            conversation_ref=payload.conversation.id,
            attachments=[Attachment(id=a.id, content_type=a.content_type, filename=a.filename)
                         for a in payload.message.attachments],
        )
    ]


def _reply(ctx: OutboundContext, conversation: str, text: str, kind: str, reference: str) -> None:
    response = ctx.client.post(
        f"/api/v1/conversations/{conversation}/replies",
        json={"text": text, "kind": kind, "reference": reference},
        headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    )
    raise_for_status(response)


def _chatbot_conversation(event: Intervention, ctx: OutboundContext) -> str | None:
    """The conversation of the chatbot request an intervention answers, or None."""
    if not event.request_id or ctx.source_id("request", event.request_id) is None:
        return None  # the intervention does not answer a chatbot request
    request = ctx.golden(event.request_id)
    conversation = request.get("conversation_ref") if request else None
    if not conversation:
        raise MappingError(f"request {event.request_id} has no conversation to notify")
    return str(conversation)


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
    conversation = _chatbot_conversation(event, ctx)
    if conversation is None or event.request_id is None:
        return
    reference = request_reference(event.request_id)
    _reply(
        ctx, conversation,
        f"Votre demande {reference} a donné lieu à une intervention : « {event.title} ». "
        "L'entreprise vous contactera pour convenir d'un rendez-vous.",
        "status", reference,
    )


def send_answer(event: RequestAnswered, ctx: OutboundContext) -> None:
    """Send the tenant the answer to their question (or tell them an agent takes it over)."""
    if ctx.source_id("request", event.id) is None:
        return  # not a question asked through the chatbot
    if not event.conversation_ref:
        raise MappingError(f"request {event.id} has no conversation to answer")
    _reply(ctx, event.conversation_ref, event.answer, "answer", request_reference(event.id))


def notify_scheduled(event: InterventionScheduled, ctx: OutboundContext) -> None:
    """Tell the tenant when the contractor comes."""
    conversation = _chatbot_conversation(event, ctx)
    if conversation is None or event.request_id is None:
        return
    reference = request_reference(event.request_id)
    when = event.scheduled_for.strftime("%d/%m/%Y à %Hh%M") if event.scheduled_for else "bientôt"
    _reply(ctx, conversation,
           f"Pour votre demande {reference}, l'intervention « {event.title} » est programmée "
           f"le {when} (heure de Paris). Merci de prévoir un accès au logement.",
           "status", reference)


def notify_completed(event: InterventionCompleted, ctx: OutboundContext) -> None:
    """Tell the tenant the work is done, and whether part of it is recharged to them."""
    conversation = _chatbot_conversation(event, ctx)
    if conversation is None or event.request_id is None:
        return
    reference = request_reference(event.request_id)
    text = f"L'intervention « {event.title} » pour votre demande {reference} est terminée."
    if event.rechargeable_to_tenant and event.cost is not None:
        amount = f"{event.cost:.2f}".replace(".", ",")
        text += (f" Elle est à la charge du locataire : {amount} € figureront sur votre "
                 "prochain avis d'échéance.")
    _reply(ctx, conversation, text, "status", reference)


#: What the tenant is told for each reason a certificate is refused.
CERTIFICATE_PROBLEMS = {
    "expired": "votre attestation d'assurance habitation est expirée",
    "mismatch": "votre attestation d'assurance ne correspond pas à votre logement ou à votre bail",
    "missing": "nous n'avons pas reçu votre attestation d'assurance habitation",
}


def notify_certificate(event: InsuranceCertificateRejected, ctx: OutboundContext) -> None:
    """Tell the tenant what is wrong with their home-insurance certificate."""
    user = ctx.source_id("tenant", event.tenant_id) if event.tenant_id else None
    if user is None:
        return  # the tenant does not use the chatbot
    problem = CERTIFICATE_PROBLEMS.get(event.status.value, "votre attestation d'assurance est refusée")
    response = ctx.client.post(
        f"/api/v1/users/{user}/notifications",
        json={"text": f"Bonjour, {problem}. L'assurance habitation est obligatoire : merci de nous "
                      "envoyer une attestation à jour en réponse à ce message.",
              "kind": "reminder", "reference": event.id},
        headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    )
    raise_for_status(response)


def confirm_certificate(event: InsuranceCertificateValidated, ctx: OutboundContext) -> None:
    """Tell the tenant their home-insurance certificate is accepted, and until when it is valid."""
    user = ctx.source_id("tenant", event.tenant_id) if event.tenant_id else None
    if user is None:
        return  # the tenant does not use the chatbot
    response = ctx.client.post(
        f"/api/v1/users/{user}/notifications",
        json={"text": f"Bonjour, votre attestation d'assurance habitation {event.insurer} est bien "
                      f"enregistrée, valable jusqu'au {event.valid_to:%d/%m/%Y}. Merci !",
              "kind": "information", "reference": event.id},
        headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    )
    raise_for_status(response)
