import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from canonical_model import (
    ENTITY_TYPES,
    Address,
    Lease,
    Lot,
    Tenant,
    TenantRequest,
    UnknownEntityKind,
    entity_class,
    kind_of,
    new_canonical_id,
)
from canonical_model.entities import request as request_module


def test_new_canonical_id() -> None:
    first, second = new_canonical_id("request"), new_canonical_id("request")
    assert re.fullmatch(r"request_[0-9a-f]{32}", first)
    assert first != second
    with pytest.raises(ValueError, match="lower-case"):
        new_canonical_id("Request")


def test_entity_registry() -> None:
    assert set(ENTITY_TYPES) == {
        "tenant",
        "residence",
        "building",
        "lot",
        "lease",
        "intervention",
        "request",
        "insurance_certificate",
    }
    for kind, model in ENTITY_TYPES.items():
        assert model.kind == kind
        assert "kind" not in model.model_fields
    assert entity_class("request") is TenantRequest
    with pytest.raises(UnknownEntityKind, match="'parking'"):
        entity_class("parking")


def test_models_are_frozen(tenant: Tenant) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        tenant.last_name = "Durand"  # type: ignore[misc]
    assert tenant.model_copy(update={"status": "former"}).status == "former"
    assert tenant.status == "active"


def test_unknown_fields_are_refused(tenant_data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as error:
        Tenant.model_validate({**tenant_data, "nir": "2840369123456"})
    assert error.value.errors()[0]["type"] == "extra_forbidden"


def test_strings_are_stripped() -> None:
    tenant = Tenant(id="tenant_1", first_name="  Karim ", last_name=" Haddad\n")
    assert (tenant.first_name, tenant.last_name) == ("Karim", "Haddad")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        TenantRequest(
            id="request_1",
            channel="sms",
            text="Ascenseur en panne bâtiment C depuis ce matin",
            received_at=datetime(2024, 11, 18, 7, 42),
        )


def test_times_are_converted_to_utc() -> None:
    paris = datetime(2024, 11, 18, 7, 42, 10, tzinfo=ZoneInfo("Europe/Paris"))
    request = TenantRequest(
        id="request_1",
        channel="phone",
        text="Ascenseur en panne bâtiment C depuis ce matin",
        received_at=paris,
    )
    assert request.received_at == datetime(2024, 11, 18, 6, 42, 10, tzinfo=UTC)
    assert request.received_at.utcoffset() is not None
    assert request.model_dump(mode="json")["received_at"] == "2024-11-18T06:42:10Z"


def test_postcode_is_five_digits() -> None:
    address = Address(street="8 rue de la Boulangerie", postcode="93 200", city="Saint-Denis")
    assert address.postcode == "93200"
    with pytest.raises(ValidationError, match="postcode"):
        Address(street="8 rue de la Boulangerie", postcode="9320", city="Saint-Denis")


def test_a_lease_has_at_least_one_holder(lease_data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="holder_ids"):
        Lease.model_validate({**lease_data, "holder_ids": []})


def test_lot_surface_and_enums(lot_data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        Lot.model_validate({**lot_data, "habitable_surface_m2": "0"})
    with pytest.raises(ValidationError, match="typology"):
        Lot.model_validate({**lot_data, "typology": "T7"})
    with pytest.raises(ValidationError, match="dpe_energy_class"):
        Lot.model_validate({**lot_data, "dpe_energy_class": "H"})
    with pytest.raises(ValidationError, match="financing"):
        Lot.model_validate({**lot_data, "financing": "PLA-I"})


def test_request_category_values_are_fixed() -> None:
    assert [c.value for c in request_module.RequestCategory] == [
        "plumbing",
        "heating_hot_water",
        "electricity",
        "lift",
        "access_security",
        "common_areas",
        "pests",
        "damp_ventilation",
        "neighbour_disturbance",
        "rent_charges",
        "administrative",
        "other",
    ]
    assert [u.value for u in request_module.Urgency] == ["urgent", "high", "normal"]


def test_the_kind_of_a_minted_id_is_read_back_and_other_ids_have_none() -> None:
    assert kind_of(new_canonical_id("insurance_certificate")) == "insurance_certificate"
    assert kind_of(new_canonical_id("lot", "erp|LOT-0042")) == "lot"
    assert kind_of("LOT-0042") is None
    assert kind_of("lot_42") is None
