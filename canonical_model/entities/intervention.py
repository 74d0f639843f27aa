"""Interventions (work orders, bons de travaux)."""

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from canonical_model.base import CanonicalEntity, UtcDatetime
from canonical_model.entities.request import RequestCategory, Urgency
from canonical_model.identifiers import Siret
from canonical_model.money import Money
from canonical_model.pii import PIIClass, pii


class InterventionStatus(StrEnum):
    """Lifecycle of an intervention (transitions: canonical_model.entities.lifecycle)."""

    CREATED = "created"
    SCHEDULED = "scheduled"
    STARTED = "started"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Intervention(CanonicalEntity):
    """A work order on a lot, a building or one of its equipments."""

    kind: ClassVar[str] = "intervention"

    lot_id: str | None = None
    """Canonical id of the lot, for work inside a dwelling."""
    building_id: str | None = None
    """Canonical id of the building, for common areas and equipment."""
    equipment: str | None = Field(default=None, max_length=200)
    """Equipment concerned, e.g. `Ascenseur bâtiment B`, `Chaudière collective`."""
    category: RequestCategory
    """Category (same taxonomy as requests)."""
    priority: Urgency
    """Priority."""
    status: InterventionStatus = InterventionStatus.CREATED
    """Where the intervention is in its lifecycle."""
    contractor_siret: Siret | None = None
    """SIRET of the contractor's establishment."""
    scheduled_for: UtcDatetime | None = None
    """Appointment (UTC)."""
    completed_at: UtcDatetime | None = None
    """When the work was completed (UTC)."""
    cost: Money | None = None
    """Cost excluding tax of the work, EUR."""
    rechargeable_to_tenant: bool = False
    """Whether the cost is re-billed to the tenant (réparations locatives)."""
    request_id: str | None = None
    """Canonical id of the request that originated the work."""
    title: str = Field(min_length=1, max_length=200)
    """Short title, e.g. `Remplacement du ballon d'eau chaude`."""
    description: str | None = pii(PIIClass.SENSITIVE, default=None)
    """Description (may quote the tenant's words)."""
