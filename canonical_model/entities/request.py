"""Tenant requests (sollicitations, réclamations) and the taxonomy shared with work orders."""

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from canonical_model.base import CanonicalEntity, CanonicalModel, UtcDatetime
from canonical_model.pii import PIIClass, pii


class RequestCategory(StrEnum):
    """What a request (or the intervention answering it) is about."""

    PLUMBING = "plumbing"
    HEATING_HOT_WATER = "heating_hot_water"
    ELECTRICITY = "electricity"
    LIFT = "lift"
    ACCESS_SECURITY = "access_security"
    COMMON_AREAS = "common_areas"
    PESTS = "pests"
    DAMP_VENTILATION = "damp_ventilation"
    NEIGHBOUR_DISTURBANCE = "neighbour_disturbance"
    RENT_CHARGES = "rent_charges"
    ADMINISTRATIVE = "administrative"
    OTHER = "other"


class Urgency(StrEnum):
    """How fast the landlord must act (also the priority of interventions)."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


class Channel(StrEnum):
    """Where a request came in."""

    CHATBOT = "chatbot"
    WEB = "web"
    SMS = "sms"
    PHONE = "phone"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    AGENCY = "agency"


class RequestStatus(StrEnum):
    """Lifecycle of a request (transitions: canonical_model.entities.lifecycle)."""

    RECEIVED = "received"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


class RequestIntent(StrEnum):
    """Whether the tenant reports something to fix or asks something."""

    REPORT = "report"
    QUESTION = "question"


class Attachment(CanonicalModel):
    """A document sent with a request (a photo, an insurance certificate), kept by its channel."""

    id: str = Field(min_length=1, max_length=200)
    """The channel tool's id of the document (fetch it from that tool's API)."""
    content_type: str = Field(min_length=1, max_length=100)
    """MIME type, e.g. ``application/pdf``."""
    filename: str | None = pii(PIIClass.SENSITIVE, default=None, max_length=255)
    """File name as sent (may carry a name)."""


class TenantRequest(CanonicalEntity):
    """A request or complaint from a tenant, whatever the channel."""

    kind: ClassVar[str] = "request"

    tenant_id: str | None = None
    """Canonical id of the tenant, when identified."""
    lot_id: str | None = None
    """Canonical id of the lot concerned, when known."""
    channel: Channel
    """Channel the request came through."""
    text: str = pii(PIIClass.SENSITIVE, min_length=1)
    """The tenant's own words (free text: may contain anything)."""
    received_at: UtcDatetime
    """When the landlord received the request (UTC)."""
    category: RequestCategory | None = None
    """Category, once triaged."""
    urgency: Urgency | None = None
    """Urgency, once triaged."""
    status: RequestStatus = RequestStatus.RECEIVED
    """Where the request is in its lifecycle."""
    intervention_id: str | None = None
    """Canonical id of the intervention opened to answer it."""
    conversation_ref: str | None = Field(default=None, max_length=200)
    """Reference of the conversation in the channel's tool (chatbot session, email thread)."""
    intent: RequestIntent = RequestIntent.REPORT
    """A report (something to fix) or a question (to answer), once triaged."""
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    """Documents sent with the request."""
