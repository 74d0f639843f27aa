import importlib
from typing import Any

import pytest

from canonical_model import (
    ENTITY_TYPES,
    EVENT_TYPES,
    REDACTED,
    CanonicalModel,
    InsuranceCertificate,
    InsuranceCertificateReceived,
    Lot,
    PIIClass,
    RequestTriaged,
    Tenant,
    TenantRequest,
    pii,
    pii_fields,
    redact,
)

# `canonical_model.pii` as an attribute is the pii() helper; fetch the module itself.
pii_module = importlib.import_module("canonical_model.pii")


class Occupant(CanonicalModel):
    full_name: str = pii(PIIClass.IDENTITY)
    relationship: str


class HouseholdDeclaration(CanonicalModel):
    lot_id: str
    occupants: list[Occupant]
    declarant: Occupant | None = None


def test_tenant_pii_fields() -> None:
    assert pii_fields(Tenant) == {
        "first_name": PIIClass.IDENTITY,
        "last_name": PIIClass.IDENTITY,
        "email": PIIClass.CONTACT,
        "phone": PIIClass.CONTACT,
        "birth_date": PIIClass.SENSITIVE,
    }


def test_a_home_address_is_pii_as_a_whole_a_building_address_is_not() -> None:
    fields = pii_fields(InsuranceCertificate)
    assert fields["covered_address"] is PIIClass.CONTACT
    assert not any(path.startswith("covered_address.") for path in fields)
    assert pii_fields(Lot) == {}


def test_nested_lists_and_optionals_give_dotted_paths() -> None:
    assert pii_fields(HouseholdDeclaration) == {
        "occupants.full_name": PIIClass.IDENTITY,
        "declarant.full_name": PIIClass.IDENTITY,
    }


def test_event_fields_are_classified_too() -> None:
    fields = pii_fields(RequestTriaged)
    assert fields["text"] is PIIClass.SENSITIVE
    assert fields["triage_reasons"] is PIIClass.SENSITIVE
    assert "model_version" not in fields


def test_redacting_a_tenant(tenant: Tenant) -> None:
    data = tenant.model_dump(mode="json")
    redacted = redact(Tenant, data)
    for field in ("first_name", "last_name", "email", "phone", "birth_date"):
        assert redacted[field] == REDACTED
    assert redacted["id"] == tenant.id
    assert redacted["status"] == "active"
    assert redacted["siren"] is None  # not PII, and absent
    assert data["last_name"] == "Benali"  # the input is untouched


def test_none_stays_none(tenant_data: dict[str, Any]) -> None:
    tenant_data.update(first_name=None, email=None)
    redacted = redact(Tenant, tenant_data)
    assert redacted["first_name"] is None
    assert redacted["email"] is None
    assert redacted["phone"] == REDACTED


def test_lot_data_is_copied_untouched(lot_data: dict[str, Any]) -> None:
    redacted = redact(Lot, lot_data)
    assert redacted == lot_data
    assert redacted is not lot_data


def test_redaction_inside_lists_and_whole_sub_objects(certificate: InsuranceCertificate) -> None:
    redacted = redact(InsuranceCertificateReceived, certificate)  # a model instance is accepted
    assert redacted["covered_address"] == REDACTED
    assert redacted["insured_names"] == REDACTED
    assert redacted["insurer"] == "MAIF"

    household = {
        "lot_id": "lot_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d",
        "occupants": [
            {"full_name": "Karim Haddad", "relationship": "conjoint"},
            {"full_name": "Inès Haddad", "relationship": "enfant"},
        ],
        "declarant": None,
    }
    redacted = redact(HouseholdDeclaration, household)
    assert [o["full_name"] for o in redacted["occupants"]] == [REDACTED, REDACTED]
    assert [o["relationship"] for o in redacted["occupants"]] == ["conjoint", "enfant"]
    assert household["occupants"][0]["full_name"] == "Karim Haddad"


def test_unexpected_shape_under_a_pii_subtree_is_redacted() -> None:
    redacted = redact(HouseholdDeclaration, {"lot_id": "lot_1", "occupants": "Karim Haddad"})
    assert redacted["occupants"] == REDACTED


def test_unknown_keys_are_kept(tenant_data: dict[str, Any]) -> None:
    redacted = redact(Tenant, {**tenant_data, "source_ref": "ERP-LOC-004512"})
    assert redacted["source_ref"] == "ERP-LOC-004512"


def test_paths_are_computed_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    redact(TenantRequest, {"text": "Fuite d'eau dans la salle de bain"})

    def fail(*_: object) -> None:
        raise AssertionError("PII paths recomputed")

    monkeypatch.setattr(pii_module, "_build_tree", fail)
    assert redact(TenantRequest, {"text": "Odeur de gaz"})["text"] == REDACTED
    fields = pii_fields(TenantRequest)
    fields.clear()  # callers get their own copy
    assert pii_fields(TenantRequest) == {"text": PIIClass.SENSITIVE,
                                         "attachments.filename": PIIClass.SENSITIVE}


def test_pii_is_published_in_json_schema() -> None:
    schema = Tenant.model_json_schema()
    assert schema["properties"]["last_name"]["x-pii"] == "identity"
    assert schema["properties"]["phone"]["x-pii"] == "contact"
    assert "x-pii" not in schema["properties"]["status"]


PERSONAL_FIELD_NAMES = {
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "text",
    "description",
    "insured_names",
    "covered_address",
    "policy_number",
}


@pytest.mark.parametrize("model", [*ENTITY_TYPES.values(), *EVENT_TYPES.values()], ids=lambda m: m.__name__)
def test_personal_looking_fields_are_classified(model: type[CanonicalModel]) -> None:
    unclassified = PERSONAL_FIELD_NAMES & set(model.model_fields) - set(pii_fields(model))
    assert not unclassified


def test_pii_keeps_other_schema_extras() -> None:
    class Note(CanonicalModel):
        body: str = pii(PIIClass.SENSITIVE, json_schema_extra={"x-max-display": 80})

    extra = Note.model_fields["body"].json_schema_extra
    assert extra == {"x-max-display": 80, "x-pii": "sensitive"}
