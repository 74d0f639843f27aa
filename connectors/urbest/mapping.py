"""Urbest mappings: work orders out (triaged requests, lease notices), their lifecycle in.

Outbound, a triaged tenant request becomes a repair and a lease notice a pre-exit advice visit;
the created work order is published back as ``InterventionCreated``. Inbound, the tool's
webhooks become the intervention's lifecycle events. The tool names places by the estate's
codes (its estate is loaded from the ERP): lots and buildings are looked up in the xref of
:data:`ESTATE_SYSTEM` first, then in the tool's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from canonical_model import (
    Intervention,
    InterventionStatus,
    RequestCategory,
    RequestIntent,
    TenantRequest,
    Urgency,
)
from canonical_model.events import (
    CanonicalEvent,
    InterventionCancelled,
    InterventionCompleted,
    InterventionCreated,
    InterventionScheduled,
    InterventionStarted,
    LeaseNoticeGiven,
    RequestTriaged,
)
from connectors.sdk.context import MappingContext, OutboundContext
from connectors.urbest.payloads import (
    InterventionCancelledHook,
    InterventionCompletedHook,
    InterventionCreatedHook,
    InterventionHook,
    InterventionScheduledHook,
    InterventionStartedHook,
    UrbestIntervention,
)
from pivot.http import IDEMPOTENCY_HEADER, raise_for_status

#: The xref system whose lot and building ids the tool uses as ``lot_ref`` / ``building_ref``.
ESTATE_SYSTEM = "erp"

#: The tool's priorities: P1 within 24 h, P2 within 72 h, P3 within 15 days.
PRIORITIES = {Urgency.URGENT: "P1", Urgency.HIGH: "P2", Urgency.NORMAL: "P3"}
URGENCIES = {v: k for k, v in PRIORITIES.items()}

#: Delivery rank of a triaged request by urgency: urgent requests jump the queue.
RANKS = {Urgency.URGENT.value: 0, Urgency.HIGH.value: 1}


def urgency_rank(data: Mapping[str, Any]) -> int:
    """Rank of a triaged request's data (0 urgent, 1 high, 2 anything else)."""
    return RANKS.get(str(data.get("urgency")), 2)

TITLES = {
    RequestCategory.PLUMBING: "Plomberie : fuite ou engorgement",
    RequestCategory.HEATING_HOT_WATER: "Chauffage / eau chaude",
    RequestCategory.ELECTRICITY: "Électricité",
    RequestCategory.LIFT: "Ascenseur",
    RequestCategory.ACCESS_SECURITY: "Accès et sécurité",
    RequestCategory.COMMON_AREAS: "Parties communes",
    RequestCategory.PESTS: "Nuisibles",
    RequestCategory.DAMP_VENTILATION: "Humidité / ventilation",
    RequestCategory.NEIGHBOUR_DISTURBANCE: "Trouble de voisinage",
    RequestCategory.RENT_CHARGES: "Loyer et charges",
    RequestCategory.ADMINISTRATIVE: "Démarche administrative",
    RequestCategory.OTHER: "Demande de locataire à qualifier",
}

PRE_EXIT_TITLE = "Visite conseil avant état des lieux de sortie"
#: The advice visit is wanted this long before the departure, so repairs can be done in time.
PRE_EXIT_LEAD = timedelta(days=7)

_TITLE_MAX = 200


# ------------------------------------------------------------------------------------ outbound


def _estate_ref(ctx: MappingContext, entity: str, canonical_id: str | None) -> str | None:
    if not canonical_id:
        return None
    return ctx.source_id(entity, canonical_id, system=ESTATE_SYSTEM) or ctx.source_id(entity, canonical_id)


def _location(ctx: MappingContext, lot_id: str | None) -> dict[str, str | None]:
    """The tool's location of a lot: its code, its building's code and the building's address."""
    lot = ctx.golden(lot_id) if lot_id else None
    building_id = lot.get("building_id") if lot else None
    building = ctx.golden(building_id) if building_id else None
    address = building.get("address") if building else None
    return {
        "lot_ref": _estate_ref(ctx, "lot", lot_id),
        "building_ref": _estate_ref(ctx, "building", building_id),
        "address": f"{address['street']}, {address['postcode']} {address['city']}" if address else None,
    }


def _open(ctx: OutboundContext, body: dict[str, Any]) -> UrbestIntervention:
    response = raise_for_status(ctx.client.post(
        "/api/v1/interventions", json=body, headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    ))
    return UrbestIntervention.model_validate(response.json())


#: Categories that are an agent's business, never a contractor's.
NO_WORK_ORDER = frozenset({RequestCategory.RENT_CHARGES, RequestCategory.ADMINISTRATIVE})


def needs_work_order(request: TenantRequest) -> bool:
    """Whether a triaged request calls for a contractor: a report, not about rent or papers."""
    return request.intent is RequestIntent.REPORT and request.category not in NO_WORK_ORDER


def create_intervention(event: RequestTriaged, ctx: OutboundContext) -> list[CanonicalEvent]:
    """Open a repair for a triaged tenant request; publish the canonical intervention.

    Questions and rent or administrative requests are answered elsewhere: no work order.
    """
    if not needs_work_order(event):
        return []
    category = event.category or RequestCategory.OTHER
    urgency = event.urgency or Urgency.NORMAL
    created = _open(ctx, {
        "title": TITLES[category],
        "description": event.text,
        "category": category.value,
        "priority": PRIORITIES[urgency],
        "location": _location(ctx, event.lot_id),
        "external_ref": event.id,
        "requested_at": event.received_at.isoformat(),
        "kind": "repair",
    })
    return [
        InterventionCreated(
            id=ctx.canonical_id("intervention", created.id),
            lot_id=event.lot_id,
            category=category,
            priority=URGENCIES[created.priority],
            status=InterventionStatus.CREATED,
            contractor_siret=created.contractor.siret if created.contractor else None,
            request_id=event.id,
            title=created.title,
            description=event.text,
        )
    ]


def pre_exit_deadline(notice: date, departure: date | None) -> datetime | None:
    """When the advice visit is wanted, or None while the departure date is not known.

    A week before the departure; by the departure day itself when the notice is shorter.
    """
    if departure is None:
        return None
    day = departure - PRE_EXIT_LEAD if departure - PRE_EXIT_LEAD > notice else departure
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def plan_pre_exit_visit(event: LeaseNoticeGiven, ctx: OutboundContext) -> list[CanonicalEvent]:
    """Open the advice visit (visite conseil) of a lot whose tenant gave notice, before they leave.

    The visit shows the tenant the repairs that are theirs (réparations locatives) before the
    exit inventory (état des lieux de sortie); its ``external_ref`` is the lease.
    """
    notice = event.notice_date
    assert notice is not None  # LeaseNoticeGiven requires it
    departure = f", départ prévu le {event.end_date:%d/%m/%Y}" if event.end_date else ""
    deadline = pre_exit_deadline(notice, event.end_date)
    created = _open(ctx, {
        "title": PRE_EXIT_TITLE,
        "description": (
            f"Préavis reçu le {notice:%d/%m/%Y}{departure}. Visite du logement avec le locataire "
            "pour repérer les réparations locatives à faire avant l'état des lieux de sortie."
        ),
        "category": RequestCategory.OTHER.value,
        "priority": PRIORITIES[Urgency.NORMAL],
        "location": _location(ctx, event.lot_id),
        "external_ref": event.id,
        "requested_at": datetime(notice.year, notice.month, notice.day, tzinfo=UTC).isoformat(),
        "due_by": deadline.isoformat() if deadline else None,
        "kind": "inspection",
    })
    return [
        InterventionCreated(
            id=ctx.canonical_id("intervention", created.id),
            lot_id=event.lot_id,
            category=RequestCategory.OTHER,
            priority=URGENCIES[created.priority],
            status=InterventionStatus.CREATED,
            contractor_siret=created.contractor.siret if created.contractor else None,
            request_id=None,
            title=created.title,
        )
    ]


# ------------------------------------------------------------------------------------- inbound


def _estate_id(ctx: MappingContext, entity: str, ref: str | None) -> str | None:
    if not ref:
        return None
    return ctx.lookup(entity, ref, system=ESTATE_SYSTEM) or ctx.lookup(entity, ref)


def _category(value: str, known: dict[str, Any]) -> RequestCategory | str:
    try:
        return RequestCategory(value)
    except ValueError:  # a trade the taxonomy lacks
        return known.get("category") or RequestCategory.OTHER


def _title(value: str) -> str:
    return value if len(value) <= _TITLE_MAX else value[: _TITLE_MAX - 1] + "…"


def _lifecycle_event(
    cls: type[CanonicalEvent], status: InterventionStatus, hook: InterventionHook, ctx: MappingContext
) -> list[CanonicalEvent]:
    """The intervention's new state: the tool's payload merged over the golden record.

    The golden record of a work order the hub opened already holds its lot, request and
    description; the tool's payload wins for everything it says.
    """
    tool = hook.intervention
    intervention_id = ctx.canonical_id("intervention", tool.id)
    known = {k: v for k, v in (ctx.golden(intervention_id) or {}).items()
             if k in Intervention.model_fields}
    external = tool.external_ref or ""
    contractor = tool.contractor.siret if tool.contractor and tool.contractor.siret else None
    state = {
        **known,
        "id": intervention_id,
        "lot_id": _estate_id(ctx, "lot", tool.location.lot_ref) or known.get("lot_id"),
        "building_id": _estate_id(ctx, "building", tool.location.building_ref) or known.get("building_id"),
        "category": _category(tool.category, known),
        "priority": URGENCIES[tool.priority],
        "status": status,
        "contractor_siret": contractor or known.get("contractor_siret"),
        "scheduled_for": tool.scheduled_for or known.get("scheduled_for"),
        "completed_at": tool.completed_at or known.get("completed_at"),
        "cost": tool.cost_eur if tool.cost_eur is not None else known.get("cost"),
        "rechargeable_to_tenant": tool.rechargeable_to_tenant,
        # The hub puts the canonical request id in external_ref (a lease id for a pre-exit visit).
        "request_id": external if external.startswith("request_") else known.get("request_id"),
        "title": _title(tool.title),
        "description": tool.description or known.get("description"),
    }
    return [cls.model_validate(state)]


def map_created(hook: InterventionCreatedHook, ctx: MappingContext) -> list[CanonicalEvent]:
    """A work order an agent opened in the tool."""
    status = (InterventionStatus.SCHEDULED if hook.intervention.status == "scheduled"
              and hook.intervention.scheduled_for else InterventionStatus.CREATED)
    return _lifecycle_event(InterventionCreated, status, hook, ctx)


def map_scheduled(hook: InterventionScheduledHook, ctx: MappingContext) -> list[CanonicalEvent]:
    """The contractor set (or moved) the appointment."""
    return _lifecycle_event(InterventionScheduled, InterventionStatus.SCHEDULED, hook, ctx)


def map_started(hook: InterventionStartedHook, ctx: MappingContext) -> list[CanonicalEvent]:
    """The contractor started the work."""
    return _lifecycle_event(InterventionStarted, InterventionStatus.STARTED, hook, ctx)


def map_completed(hook: InterventionCompletedHook, ctx: MappingContext) -> list[CanonicalEvent]:
    """The work is done: completion time, cost, and whether it is re-billed to the tenant."""
    return _lifecycle_event(InterventionCompleted, InterventionStatus.COMPLETED, hook, ctx)


def map_cancelled(hook: InterventionCancelledHook, ctx: MappingContext) -> list[CanonicalEvent]:
    """The work order was cancelled."""
    return _lifecycle_event(InterventionCancelled, InterventionStatus.CANCELLED, hook, ctx)
