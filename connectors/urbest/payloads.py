"""The Urbest-like tool's own payloads (its format, not the canonical one).

Its webhooks are ``{"event", "event_id", "occurred_at", "intervention": {...}}`` where the
intervention is the same JSON its API returns, as it stood right after the change. One model
per event type says what that event must carry (an appointment for ``intervention.scheduled``,
a completion time for ``intervention.completed``), so a bad payload fails at the edge.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Satellite(BaseModel):
    # A satellite may add fields at any release: ignore them, validate what we use.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Contractor(_Satellite):
    """The company doing the job."""

    id: str
    name: str
    siret: str | None = None


class Location(_Satellite):
    """Where the work is: the estate's lot and building codes and/or a postal address."""

    lot_ref: str | None = Field(default=None, max_length=128)
    building_ref: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=300)


class UrbestIntervention(_Satellite):
    """An intervention as the Urbest-like API returns it (and its webhooks carry it)."""

    id: str = Field(min_length=1, max_length=64)
    #: The caller's reference: the hub puts the canonical request (or lease) id there; None for
    #: work orders the landlord's agents open in the tool itself.
    external_ref: str | None = Field(default=None, max_length=128)
    status: Literal["created", "scheduled", "started", "completed", "cancelled"]
    kind: Literal["repair", "inspection"] = "repair"
    title: str = Field(min_length=1)
    description: str = ""
    priority: Literal["P1", "P2", "P3"]
    category: str = Field(min_length=1, max_length=64)
    location: Location = Field(default_factory=Location)
    contractor: Contractor | None = None
    scheduled_for: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    #: Cost excluding tax, EUR, as the tool writes it (``"123.40"``).
    cost_eur: str | None = Field(default=None, pattern=r"^[0-9]{1,10}(\.[0-9]{1,2})?$")
    rechargeable_to_tenant: bool = False


class ScheduledIntervention(UrbestIntervention):
    """An intervention that has an appointment."""

    scheduled_for: AwareDatetime


class CompletedIntervention(UrbestIntervention):
    """An intervention whose work is done."""

    completed_at: AwareDatetime


class _Webhook(_Satellite):
    event_id: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime


class InterventionCreatedHook(_Webhook):
    """``intervention.created``: an agent opened a work order in the tool."""

    event: Literal["intervention.created"]
    intervention: UrbestIntervention


class InterventionScheduledHook(_Webhook):
    """``intervention.scheduled``: the contractor set (or moved) the appointment."""

    event: Literal["intervention.scheduled"]
    intervention: ScheduledIntervention


class InterventionStartedHook(_Webhook):
    """``intervention.started``: the contractor started the work."""

    event: Literal["intervention.started"]
    intervention: UrbestIntervention


class InterventionCompletedHook(_Webhook):
    """``intervention.completed``: the work is done, with its cost and whether it is re-billed."""

    event: Literal["intervention.completed"]
    intervention: CompletedIntervention


class InterventionCancelledHook(_Webhook):
    """``intervention.cancelled``: the work order was cancelled."""

    event: Literal["intervention.cancelled"]
    intervention: UrbestIntervention


InterventionHook = (
    InterventionCreatedHook | InterventionScheduledHook | InterventionStartedHook
    | InterventionCompletedHook | InterventionCancelledHook
)
