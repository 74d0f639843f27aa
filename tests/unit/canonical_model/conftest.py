"""Realistic sample records of a Lyon-area landlord, shared by the canonical model tests."""

import copy
from typing import Any

import pytest

from canonical_model import (
    Building,
    InsuranceCertificate,
    Intervention,
    Lease,
    Lot,
    Residence,
    Tenant,
    TenantRequest,
)

ADDRESS_VILLEURBANNE = {
    "street": "12 rue Francis de Pressensé",
    "postcode": "69100",
    "city": "Villeurbanne",
    "insee_code": "69266",
    "ban_key": "69266_2815_00012",
}
RESIDENCE = {
    "id": "residence_5b0f1c2d3e4f45a6b7c8d9e0f1a2b3c4",
    "name": "Résidence Les Tilleuls",
    "address": ADDRESS_VILLEURBANNE,
    "commune": "Villeurbanne",
    "construction_year": 1972,
}
BUILDING = {
    "id": "building_8e2d4a6c1b3f4e5d9a7c6b5a4f3e2d1c",
    "residence_id": RESIDENCE["id"],
    "name": "Bâtiment B",
    "rnb_id": "PG46YY6YTTHQ",
    "ban_key": "69266_2815_00012",
    "address": ADDRESS_VILLEURBANNE,
    "floors": 5,
}
LOT = {
    "id": "lot_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
    "building_id": BUILDING["id"],
    "rpls_id": "69266B000123",
    "typology": "T3",
    "habitable_surface_m2": "67.40",
    "rooms": 3,
    "floor": 2,
    "financing": "PLUS",
    "dpe_energy_class": "D",
    "dpe_ges_class": "E",
    "dpe_number": "2369E1234567Z",
    "construction_year": 1972,
    "occupancy_status": "occupied",
}
TENANT = {
    "id": "tenant_3c1e5a7b9d2f4c6e8a0b1d3f5e7a9c2b",
    "civility": "MME",
    "first_name": "Samira",
    "last_name": "Benali",
    "email": "samira.benali@exemple.fr",
    "phone": "+33612345678",
    "birth_date": "1984-03-17",
    "siren": None,
    "status": "active",
}
LEASE = {
    "id": "lease_7f3a2b1c0d9e4f8a7b6c5d4e3f2a1b0c",
    "lot_id": LOT["id"],
    "holder_ids": [TENANT["id"]],
    "start_date": "2019-07-01",
    "end_date": None,
    "notice_date": None,
    "status": "active",
    "monthly_rent": "412.37",
    "monthly_charges": "86.50",
    "deposit": "412.37",
    "insurance_status": "valid",
}
REQUEST = {
    "id": "request_3f2a9c41d7e84b0fa65c2e19b8d07f36",
    "tenant_id": TENANT["id"],
    "lot_id": LOT["id"],
    "channel": "chatbot",
    "text": (
        "Bonjour, plus d'eau chaude depuis hier soir au 2e étage du bâtiment B. "
        "J'ai un bébé de 4 mois, merci de faire vite. Samira Benali"
    ),
    "received_at": "2024-11-18T06:42:10Z",
    "category": None,
    "urgency": None,
    "status": "received",
    "intervention_id": None,
    "conversation_ref": "chatbot-session-20241118-0642-88213",
}
INTERVENTION = {
    "id": "intervention_9d8c7b6a5f4e4d3c2b1a0f9e8d7c6b5a",
    "lot_id": LOT["id"],
    "building_id": BUILDING["id"],
    "equipment": "Ballon d'eau chaude 200 L",
    "category": "heating_hot_water",
    "priority": "high",
    "status": "created",
    "contractor_siret": "78205937200014",  # SIREN 782 059 372, NIC 00001
    "scheduled_for": None,
    "completed_at": None,
    "cost": None,
    "rechargeable_to_tenant": False,
    "request_id": REQUEST["id"],
    "title": "Remplacement du ballon d'eau chaude",
    "description": "Locataire sans eau chaude depuis la veille, bébé au foyer.",
}
CERTIFICATE = {
    "id": "insurance_certificate_1b2c3d4e5f6a4b7c8d9e0f1a2b3c4d5e",
    "lease_id": LEASE["id"],
    "tenant_id": TENANT["id"],
    "insurer": "MAIF",
    "policy_number": "4123567 D",
    "insured_names": ["Samira Benali"],
    "covered_address": {**ADDRESS_VILLEURBANNE, "street": "12 rue Francis de Pressensé, apt 23"},
    "valid_from": "2024-10-01",
    "valid_to": "2025-09-30",
    "status": "received",
    "extraction_confidence": 0.93,
    "rejection_reason": None,
}

_TRIAGE = {
    "category": "heating_hot_water",
    "urgency": "high",
    "status": "triaged",
    "triage_reasons": ["« plus d'eau chaude »", "nourrisson au foyer"],
    "triage_confidence": 0.91,
    "needs_human_review": False,
    "model_version": "triage-fr-2024.11.2",
}

EVENT_SAMPLES: dict[str, dict[str, Any]] = {
    "fr.pivot.residence.upserted.v1": RESIDENCE,
    "fr.pivot.building.upserted.v1": BUILDING,
    "fr.pivot.lot.upserted.v1": LOT,
    "fr.pivot.lot.occupancy_changed.v1": {**LOT, "occupancy_status": "notice"},
    "fr.pivot.tenant.upserted.v1": TENANT,
    "fr.pivot.tenant.merged.v1": {
        **TENANT,
        "absorbed_id": "tenant_6d4b2f0e8c1a4e3b9d7f5a2c0e8b6d4f",
    },
    "fr.pivot.lease.signed.v1": LEASE,
    "fr.pivot.lease.updated.v1": {**LEASE, "monthly_rent": "418.56"},
    "fr.pivot.lease.notice_given.v1": {
        **LEASE,
        "status": "notice",
        "notice_date": "2024-11-04",
        "end_date": "2024-12-04",
    },
    "fr.pivot.lease.terminated.v1": {
        **LEASE,
        "status": "terminated",
        "notice_date": "2024-11-04",
        "end_date": "2024-12-04",
    },
    "fr.pivot.intervention.created.v1": INTERVENTION,
    "fr.pivot.intervention.scheduled.v1": {
        **INTERVENTION,
        "status": "scheduled",
        "scheduled_for": "2024-11-19T08:00:00Z",
    },
    "fr.pivot.intervention.started.v1": {
        **INTERVENTION,
        "status": "started",
        "scheduled_for": "2024-11-19T08:00:00Z",
    },
    "fr.pivot.intervention.completed.v1": {
        **INTERVENTION,
        "status": "completed",
        "scheduled_for": "2024-11-19T08:00:00Z",
        "completed_at": "2024-11-19T10:35:00Z",
        "cost": "286.90",
    },
    "fr.pivot.intervention.cancelled.v1": {**INTERVENTION, "status": "cancelled"},
    "fr.pivot.request.received.v1": REQUEST,
    "fr.pivot.request.triaged.v1": {**REQUEST, **_TRIAGE},
    "fr.pivot.request.answered.v1": {
        **REQUEST,
        "category": "rent_charges",
        "urgency": "normal",
        "intent": "question",
        "status": "resolved",
        "answer": "Votre loyer est prélevé le 5 de chaque mois ; l'avis d'échéance est disponible "
                  "dans votre espace locataire.",
        "answer_sources": ["faq:paiement-loyer"],
        "handed_to_human": False,
        "model_version": "assistant-1",
    },
    "fr.pivot.request.updated.v1": {
        **REQUEST,
        "category": "heating_hot_water",
        "urgency": "high",
        "status": "in_progress",
        "intervention_id": INTERVENTION["id"],
    },
    "fr.pivot.request.closed.v1": {
        **REQUEST,
        "category": "heating_hot_water",
        "urgency": "high",
        "status": "resolved",
        "intervention_id": INTERVENTION["id"],
    },
    "fr.pivot.insurance_certificate.received.v1": CERTIFICATE,
    "fr.pivot.insurance_certificate.validated.v1": {**CERTIFICATE, "status": "valid"},
    "fr.pivot.insurance_certificate.rejected.v1": {
        **CERTIFICATE,
        "status": "mismatch",
        "rejection_reason": "insured name differs from the lease holders",
    },
}


@pytest.fixture
def event_samples() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(EVENT_SAMPLES)


@pytest.fixture
def residence() -> Residence:
    return Residence.model_validate(RESIDENCE)


@pytest.fixture
def building() -> Building:
    return Building.model_validate(BUILDING)


@pytest.fixture
def lot() -> Lot:
    return Lot.model_validate(LOT)


@pytest.fixture
def tenant() -> Tenant:
    return Tenant.model_validate(TENANT)


@pytest.fixture
def lease() -> Lease:
    return Lease.model_validate(LEASE)


@pytest.fixture
def tenant_request() -> TenantRequest:
    return TenantRequest.model_validate(REQUEST)


@pytest.fixture
def intervention() -> Intervention:
    return Intervention.model_validate(INTERVENTION)


@pytest.fixture
def certificate() -> InsuranceCertificate:
    return InsuranceCertificate.model_validate(CERTIFICATE)


@pytest.fixture
def lease_data() -> dict[str, Any]:
    return copy.deepcopy(LEASE)


@pytest.fixture
def lot_data() -> dict[str, Any]:
    return copy.deepcopy(LOT)


@pytest.fixture
def tenant_data() -> dict[str, Any]:
    return copy.deepcopy(TENANT)
