from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import canonical_model.quality as quality
from canonical_model import (
    Building,
    InsuranceCertificate,
    Intervention,
    Lease,
    LeaseNoticeGiven,
    Lot,
    QualityFinding,
    Residence,
    Tenant,
    TenantRequest,
    check,
)


def rules(findings: list[QualityFinding]) -> list[str]:
    return [finding.rule for finding in findings]


def test_clean_records_have_no_findings(
    residence: Residence,
    building: Building,
    lot: Lot,
    tenant: Tenant,
    lease: Lease,
    tenant_request: TenantRequest,
    intervention: Intervention,
    certificate: InsuranceCertificate,
) -> None:
    for record in (
        residence,
        building,
        lot,
        tenant,
        lease,
        tenant_request,
        intervention,
        certificate,
    ):
        assert check(record) == [], type(record).__name__


def test_invalid_siret_is_a_finding_not_an_exception(intervention: Intervention) -> None:
    bad = intervention.model_copy(update={"contractor_siret": "55210055400014"})
    findings = check(bad)
    assert findings == [
        QualityFinding(
            rule="identifier.siret.invalid",
            field="contractor_siret",
            message="SIRET '55210055400014' fails its checksum (Luhn)",
            severity="error",
        )
    ]


def test_identifiers_in_nested_models_are_checked(building: Building) -> None:
    bad = Building.model_validate(
        {
            **building.model_dump(),
            "rnb_id": "PG46-YY6Y-TTH",
            "address": {
                "street": "45 avenue Paul Santy",
                "postcode": "69008",
                "city": "Lyon",
                "insee_code": "69388",
                "ban_key": "69388-b042-00045",
            },
        }
    )
    findings = check(bad)
    assert [(f.rule, f.field) for f in findings] == [
        ("identifier.rnb_id.invalid", "rnb_id"),
        ("identifier.ban_key.invalid", "address.ban_key"),
    ]


def test_invalid_phone_finding_does_not_leak_the_number(tenant: Tenant) -> None:
    bad = tenant.model_copy(update={"phone": "+33 6 12"})
    (finding,) = check(bad)
    assert finding.rule == "identifier.phone_e164.invalid"
    assert "612" not in finding.message


def test_lease_dates(lease_data: dict[str, Any]) -> None:
    inverted = Lease.model_validate({**lease_data, "end_date": "2019-06-30"})
    assert rules(check(inverted)) == ["lease.dates.end_before_start"]
    early_notice = Lease.model_validate({**lease_data, "notice_date": "2019-05-02"})
    assert rules(check(early_notice)) == ["lease.notice_date.outside_lease"]
    late_notice = Lease.model_validate({**lease_data, "notice_date": "2025-01-15", "end_date": "2024-12-31"})
    assert rules(check(late_notice)) == ["lease.notice_date.outside_lease"]


def test_rules_also_run_on_events(lease_data: dict[str, Any]) -> None:
    event = LeaseNoticeGiven.model_validate({**lease_data, "status": "notice", "notice_date": "2019-05-02"})
    assert rules(check(event)) == ["lease.notice_date.outside_lease"]


def test_certificate_validity_must_not_be_inverted(certificate: InsuranceCertificate) -> None:
    bad = certificate.model_copy(update={"valid_to": date(2024, 9, 30)})
    (finding,) = check(bad)
    assert finding.rule == "insurance_certificate.validity.inverted"
    assert finding.severity == "error"


@pytest.mark.parametrize(
    ("typology", "surface", "rooms", "expected"),
    [
        ("T1", "120.00", 1, ["lot.surface.implausible_for_typology"]),
        ("T1", "8.50", 1, ["lot.surface.below_decency_minimum"]),
        ("T4", "78.30", 4, []),
        ("T4", "78.30", 3, ["lot.rooms.typology_mismatch"]),
        ("T6", "131.00", 7, []),
    ],
)
def test_lot_surface_and_rooms(
    lot_data: dict[str, Any], typology: str, surface: str, rooms: int, expected: list[str]
) -> None:
    lot = Lot.model_validate(
        {**lot_data, "typology": typology, "habitable_surface_m2": surface, "rooms": rooms}
    )
    assert rules(check(lot)) == expected


def test_non_positive_surface_from_an_unvalidated_record(lot: Lot) -> None:
    broken = Lot.model_construct(**{**dict(lot), "habitable_surface_m2": Decimal(0)})
    assert rules(check(broken)) == ["lot.surface.not_positive"]


def test_class_g_dwelling_is_flagged(lot: Lot) -> None:
    (finding,) = check(lot.model_copy(update={"dpe_energy_class": "G"}))
    assert finding.rule == "lot.dpe.class_g"
    assert finding.severity == "warning"


def test_intervention_without_location_and_rechargeable_without_cost(
    intervention: Intervention,
) -> None:
    bad = intervention.model_copy(
        update={"lot_id": None, "building_id": None, "rechargeable_to_tenant": True}
    )
    assert rules(check(bad)) == [
        "intervention.location.missing",
        "intervention.rechargeable.without_cost",
    ]


def test_id_not_minted_for_the_kind(tenant: Tenant) -> None:
    (finding,) = check(tenant.model_copy(update={"id": "ERP-LOC-004512"}))
    assert finding.rule == "entity.id.kind_prefix"


def test_a_broken_rule_becomes_a_finding(monkeypatch: pytest.MonkeyPatch, lease: Lease) -> None:
    def explode(_: Lease) -> Any:
        raise RuntimeError("référentiel indisponible")

    monkeypatch.setattr(quality, "ENTITY_RULES", ((Lease, explode),))
    (finding,) = check(lease)
    assert finding.rule == "quality.rule_failed"
    assert "RuntimeError" in finding.message


def test_check_never_raises_even_on_a_half_built_record() -> None:
    # model_construct skips validation: a date compared with a string makes the rule fail.
    half = Lease.model_construct(id="lease_1", start_date="2019-07-01", end_date=date(2024, 12, 4))
    findings = check(half)
    assert rules(findings) == ["quality.rule_failed"]
    assert "_lease_dates" in findings[0].message
