"""Ublo mappings: lots' technical data and tenant requests in; lots, occupancy and requests out.

References. The hub pushes each lot under ``external_ref`` = its canonical lot id, with
``building_ref`` = the canonical building id; the requests it creates carry ``external_ref`` = the
canonical request id and ``property_external_ref`` = the canonical lot id. Ublo's own ids
(``ubl_prop_<n>``, ``UBL-REQ-<n>``) are linked in the xref (system ``ublo``) from the answers to
those writes, so its webhooks resolve to the same records. ``tenant_ref`` holds the ERP's tenant
code (``LOC-0004567``): the one tenant reference agents and the ERP share.

Mastering. Ublo masters the technical data of lots (typology, rooms, habitable surface, floor, DPE
classes and number: :func:`_technical`) and the status and qualification (category, urgency) of
requests. Golden records are replaced whole by each event, so every inbound mapping merges Ublo's
values over the current golden record: what another system masters (building, financing,
occupancy, construction year of a lot; text, links and conversation of a request) is kept, and a
value Ublo lacks never erases a known one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args
from urllib.parse import quote

import httpx

from canonical_model import (
    Building,
    CanonicalEntity,
    Channel,
    Lot,
    OccupancyStatus,
    RequestCategory,
    RequestStatus,
    Residence,
    TenantRequest,
    Urgency,
    normalise_identifier,
    validate_identifier,
)
from canonical_model.events import (
    CanonicalEvent,
    LotOccupancyChanged,
    LotUpserted,
    RequestClosed,
    RequestReceived,
    RequestUpdated,
)
from connectors.sdk.context import MappingContext, OutboundContext
from connectors.ublo.payloads import (
    Occupancy,
    UbloCategory,
    UbloChannel,
    UbloProperty,
    UbloPropertyUpdated,
    UbloRequest,
    UbloRequestCreated,
    UbloRequestUpdated,
    UbloUrgency,
)
from pivot.errors import MappingError, NotYetKnown
from pivot.http import IDEMPOTENCY_HEADER, raise_for_status

#: The ERP's system name in the xref: ``tenant_ref`` is the ERP's tenant code.
ERP = "erp"

# Ublo's vocabularies are the canonical ones; building the tables from Ublo's own literals makes
# a value Ublo adds without a canonical counterpart fail at import, not in production.
CHANNELS: dict[str, Channel] = {v: Channel(v) for v in get_args(UbloChannel)}
CATEGORIES: dict[str, RequestCategory] = {v: RequestCategory(v) for v in get_args(UbloCategory)}
URGENCIES: dict[str, Urgency] = {v: Urgency(v) for v in get_args(UbloUrgency)}
OCCUPANCIES: dict[str, OccupancyStatus] = {v: OccupancyStatus(v) for v in get_args(Occupancy)}
STATUSES: dict[str, RequestStatus] = {
    "new": RequestStatus.RECEIVED,
    "in_progress": RequestStatus.IN_PROGRESS,
    "resolved": RequestStatus.RESOLVED,
}

#: Ublo refuses construction years before this one (the canonical model goes back to 1600).
UBLO_FIRST_YEAR = 1800

_HEX32 = re.compile(r"[0-9a-f]{32}")


# --------------------------------------------------------------------------- identities


def hub_ref(entity: str, reference: str | None) -> str | None:
    """``reference`` when it is a canonical id of ``entity`` (a reference the hub wrote), else None."""
    prefix = f"{entity}_"
    if reference and reference.startswith(prefix) and _HEX32.fullmatch(reference[len(prefix):]):
        return reference
    return None


def resolve(
    ctx: MappingContext, entity: str, source_id: str, reference: str | None,
    national_ids: Mapping[str, str | None] | None = None,
) -> str:
    """Canonical id of one of Ublo's records.

    National ids match first (the ERP's lot with the same RPLS is the same golden record), then
    Ublo's own id in the xref; when neither is known, the hub's reference the record carries is
    linked first, so a lost link never mints a duplicate of a record the hub pushed.
    """
    pushed = hub_ref(entity, reference)
    if pushed is not None and ctx.lookup(entity, source_id) is None and not any(
        ctx.lookup(entity, value, system=kind) for kind, value in (national_ids or {}).items() if value
    ):
        ctx.link(entity, source_id, pushed)
    return ctx.canonical_id(entity, source_id, national_ids=national_ids)


def _fields(data: Mapping[str, Any] | None, model: type[CanonicalEntity]) -> dict[str, Any]:
    """The set fields of a golden record that belong to ``model``."""
    return {k: v for k, v in (data or {}).items() if k in model.model_fields and v is not None}


# --------------------------------------------------------------------------- lots in


def _technical(prop: UbloProperty) -> dict[str, Any]:
    """Ublo's technical data in canonical names, without the values Ublo does not have."""
    data = {
        "typology": prop.typology,
        "rooms": prop.rooms,
        "habitable_surface_m2": prop.surface_m2,
        "floor": prop.floor,
    }
    known = {k: v for k, v in data.items() if v is not None}
    if prop.dpe is not None:  # one diagnosis: its classes and number are replaced together
        known.update(dpe_energy_class=prop.dpe.energy_class, dpe_ges_class=prop.dpe.ges_class,
                     dpe_number=prop.dpe.number)
    return known


def _building_of(prop: UbloProperty, ctx: MappingContext) -> str:
    """Canonical building of a property the hub has no lot for yet.

    A ``building_ref`` the hub pushed is a canonical building id and is kept as is; any other is
    Ublo's own reference, minted and linked in the xref (a data steward may merge it with the
    ERP's building). Without one, the lot cannot be placed.
    """
    if prop.building_ref is None:
        raise MappingError(f"property {prop.id} has no building_ref and the hub has no lot for it")
    return hub_ref("building", prop.building_ref) or ctx.canonical_id("building", prop.building_ref)


def lot_of_property(prop: UbloProperty, ctx: MappingContext) -> Lot:
    """The lot a property describes: Ublo's technical data over the current golden record."""
    rpls = normalise_identifier("rpls_id", prop.rpls) if prop.rpls else None
    # Only a valid RPLS may merge two records; an invalid one is kept for the quality rules.
    national = rpls if rpls and validate_identifier("rpls_id", rpls) is None else None
    lot_id = resolve(ctx, "lot", prop.id, prop.external_ref, {"rpls": national})
    current = _fields(ctx.golden(lot_id), Lot)
    if current:
        return Lot.model_validate({**current, **_technical(prop), "id": lot_id,
                                   "rpls_id": current.get("rpls_id") or rpls})
    # First seen in Ublo: its data alone (T<n> has n main rooms when Ublo gives no count).
    return Lot.model_validate({
        "rooms": int(prop.typology[1:]),
        **_technical(prop),
        "id": lot_id,
        "building_id": _building_of(prop, ctx),
        "rpls_id": rpls,
        "occupancy_status": OCCUPANCIES[prop.occupancy],
        "construction_year": prop.construction_year,
    })


def map_property_updated(payload: UbloPropertyUpdated, ctx: MappingContext) -> list[CanonicalEvent]:
    """``property.updated`` → ``LotUpserted`` (merged over the golden lot)."""
    return [LotUpserted.from_entity(lot_of_property(payload.data.property, ctx))]


# --------------------------------------------------------------------------- requests in


def _lot_of_request(request: UbloRequest, ctx: MappingContext) -> str | None:
    if request.property_id is not None and (found := ctx.lookup("lot", request.property_id)):
        return found
    return hub_ref("lot", request.property_external_ref)


def _tenant_of_request(request: UbloRequest, ctx: MappingContext) -> str | None:
    # The ERP's tenant, never a new one: an unknown code leaves the request unattributed.
    return ctx.lookup("tenant", request.tenant_ref, system=ERP) if request.tenant_ref else None


def request_of(request: UbloRequest, ctx: MappingContext) -> TenantRequest:
    """A request's state: Ublo's status and qualification over the current golden record."""
    request_id = resolve(ctx, "request", request.id, request.external_ref)
    seen_in_ublo = {
        "tenant_id": _tenant_of_request(request, ctx),
        "lot_id": _lot_of_request(request, ctx),
        "channel": CHANNELS[request.channel],
        "text": request.description,
        "received_at": request.created_at,
    }
    mastered = {
        "category": CATEGORIES[request.category] if request.category else None,
        "urgency": URGENCIES[request.urgency] if request.urgency else None,
    }
    return TenantRequest.model_validate({
        **{k: v for k, v in seen_in_ublo.items() if v is not None},
        **_fields(ctx.golden(request_id), TenantRequest),
        **{k: v for k, v in mastered.items() if v is not None},
        "status": STATUSES[request.status],
        "id": request_id,
    })


def _status_event(state: TenantRequest) -> CanonicalEvent:
    if state.status is RequestStatus.RESOLVED:
        return RequestClosed.from_entity(state)
    return RequestUpdated.from_entity(state)


def map_request_created(payload: UbloRequestCreated, ctx: MappingContext) -> list[CanonicalEvent]:
    """``request.created`` → ``RequestReceived`` (then its status, if already past ``new``)."""
    state = request_of(payload.data.request, ctx)
    received = RequestReceived.from_entity(state.model_copy(update={"status": RequestStatus.RECEIVED}))
    return [received] if state.status is RequestStatus.RECEIVED else [received, _status_event(state)]


def map_request_updated(payload: UbloRequestUpdated, ctx: MappingContext) -> list[CanonicalEvent]:
    """``request.updated`` → ``RequestUpdated`` (new, in progress) or ``RequestClosed`` (resolved)."""
    return [_status_event(request_of(payload.data.request, ctx))]


# --------------------------------------------------------------------------- out


def _property_path(lot_id: str) -> str:
    return f"/api/v2/properties/{quote(lot_id, safe='')}"


def _unknown_property(response: httpx.Response) -> bool:
    if response.status_code != 404:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "unknown_property"


def property_body(lot: Lot, ctx: OutboundContext) -> dict[str, Any]:
    """Ublo's ``PropertyIn`` of a lot; the address and residence come from the golden building."""
    found = ctx.golden(lot.building_id)
    if found is None:
        # Buildings and lots travel on separate topics: the building may just not be there yet.
        raise NotYetKnown(f"building {lot.building_id} of lot {lot.id} is not known yet: "
                             "no address to send")
    building = Building.model_validate(_fields(found, Building))
    residence = ctx.golden(building.residence_id)
    address = building.address
    year = lot.construction_year
    return {
        "rpls": lot.rpls_id,
        "address": {
            "street": address.street,
            "postal_code": address.postcode,
            "city": address.city,
            "insee_code": address.insee_code,
            "ban_key": address.ban_key or building.ban_key,
        },
        "typology": lot.typology.value,
        "rooms": lot.rooms,
        "surface_m2": f"{lot.habitable_surface_m2:.2f}",
        "floor": lot.floor,
        "dpe": {
            "energy_class": lot.dpe_energy_class.value,
            "ges_class": lot.dpe_ges_class.value if lot.dpe_ges_class else None,
            "number": lot.dpe_number,
        } if lot.dpe_energy_class else None,
        "occupancy": lot.occupancy_status.value,
        "building_ref": lot.building_id,
        "residence_name": Residence.model_validate(_fields(residence, Residence)).name if residence else None,
        "construction_year": year if year is not None and year >= UBLO_FIRST_YEAR else None,
    }


def upsert_property(lot: Lot, ctx: OutboundContext, key: str) -> UbloProperty:
    """``PUT`` the whole lot under its canonical id; link Ublo's own property id to it."""
    response = raise_for_status(ctx.client.put(
        _property_path(lot.id), json=property_body(lot, ctx), headers={IDEMPOTENCY_HEADER: key},
    ))
    created = UbloProperty.model_validate(response.json())
    ctx.link("lot", created.id, lot.id)
    return created


def upsert_lot(event: LotUpserted, ctx: OutboundContext) -> None:
    """``LotUpserted`` → the property, created or replaced."""
    upsert_property(event, ctx, ctx.idempotency_key())


def change_occupancy(event: LotOccupancyChanged, ctx: OutboundContext) -> None:
    """``LotOccupancyChanged`` → ``PATCH`` the occupancy (Ublo dates it today).

    A lot Ublo does not have yet (404 ``unknown_property``) is upserted whole instead: the event
    carries the whole lot, new occupancy included, so one write does both.
    """
    response = ctx.client.patch(
        f"{_property_path(event.id)}/occupancy",
        json={"occupancy": event.occupancy_status.value},
        headers={IDEMPOTENCY_HEADER: ctx.idempotency_key("occupancy")},
    )
    if _unknown_property(response):
        upsert_property(event, ctx, ctx.idempotency_key("property"))
        return
    changed = UbloProperty.model_validate(raise_for_status(response).json())
    ctx.link("lot", changed.id, event.id)


def create_request(event: RequestReceived, ctx: OutboundContext) -> None:
    """``RequestReceived`` on a known lot → the request in Ublo; link Ublo's request id.

    Ublo files requests by property: a request on no lot is not sent, nor one Ublo already has.
    """
    if event.lot_id is None or ctx.source_id("request", event.id) is not None:
        return
    body = {
        "external_ref": event.id,
        "property_external_ref": event.lot_id,
        "channel": event.channel.value,
        "description": event.text,
        "category": event.category.value if event.category else None,
        "urgency": event.urgency.value if event.urgency else None,
        "tenant_ref": ctx.source_id("tenant", event.tenant_id, system=ERP) if event.tenant_id else None,
    }
    response = ctx.client.post("/api/v2/requests", json=body,
                               headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()})
    if _unknown_property(response):
        # The lot's upsert travels on the lot topic and may be a little behind: retry, bounded.
        raise NotYetKnown(f"lot {event.lot_id} is not in Ublo yet")
    created = UbloRequest.model_validate(raise_for_status(response).json())
    ctx.link("request", created.id, event.id)
