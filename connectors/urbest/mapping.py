"""Urbest mappings: interventions created from tenant requests."""

from __future__ import annotations

from canonical_model import InterventionStatus, RequestCategory, Urgency
from canonical_model.events import CanonicalEvent, InterventionCreated, RequestReceived
from connectors.sdk.context import OutboundContext
from connectors.urbest.payloads import UrbestIntervention
from pivot.http import IDEMPOTENCY_HEADER, raise_for_status

#: The tool's priorities: P1 within 24 h, P2 within 72 h, P3 within 15 days.
PRIORITIES = {Urgency.URGENT: "P1", Urgency.HIGH: "P2", Urgency.NORMAL: "P3"}
URGENCIES = {v: k for k, v in PRIORITIES.items()}

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


def create_intervention(event: RequestReceived, ctx: OutboundContext) -> list[CanonicalEvent]:
    """Open an intervention for a tenant request; publish the canonical intervention."""
    category = event.category or RequestCategory.OTHER
    urgency = event.urgency or Urgency.NORMAL
    body = {
        "title": TITLES[category],
        "description": event.text,
        "category": category.value,
        "priority": PRIORITIES[urgency],
        "location": {
            "lot_ref": ctx.source_id("lot", event.lot_id) if event.lot_id else None,
            "building_ref": None,
            "address": None,
        },
        "external_ref": event.id,
        "requested_at": event.received_at.isoformat(),
        "kind": "repair",
    }
    response = raise_for_status(ctx.client.post(
        "/api/v1/interventions", json=body, headers={IDEMPOTENCY_HEADER: ctx.idempotency_key()},
    ))
    created = UrbestIntervention.model_validate(response.json())
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
