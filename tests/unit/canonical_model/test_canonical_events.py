import re
from datetime import date
from typing import Any, ClassVar, get_args

import pytest
from pydantic import ValidationError

from canonical_model import (
    EVENT_TYPES,
    CanonicalEvent,
    DuplicateEventType,
    EventDefinitionError,
    InterventionCompleted,
    Lease,
    LeaseNoticeGiven,
    LeaseStatus,
    Lot,
    RequestReceived,
    RequestTriaged,
    Tenant,
    TenantMerged,
    TenantRequest,
    UnknownEventType,
    event_class,
    parse_event,
)

V1_EVENT_TYPES = {
    "fr.pivot.residence.upserted.v1",
    "fr.pivot.building.upserted.v1",
    "fr.pivot.lot.upserted.v1",
    "fr.pivot.lot.occupancy_changed.v1",
    "fr.pivot.tenant.upserted.v1",
    "fr.pivot.tenant.merged.v1",
    "fr.pivot.lease.signed.v1",
    "fr.pivot.lease.updated.v1",
    "fr.pivot.lease.notice_given.v1",
    "fr.pivot.lease.terminated.v1",
    "fr.pivot.intervention.created.v1",
    "fr.pivot.intervention.scheduled.v1",
    "fr.pivot.intervention.started.v1",
    "fr.pivot.intervention.completed.v1",
    "fr.pivot.intervention.cancelled.v1",
    "fr.pivot.request.received.v1",
    "fr.pivot.request.triaged.v1",
    "fr.pivot.request.updated.v1",
    "fr.pivot.request.closed.v1",
    "fr.pivot.insurance_certificate.received.v1",
    "fr.pivot.insurance_certificate.validated.v1",
    "fr.pivot.insurance_certificate.rejected.v1",
}
TYPE_STRING = re.compile(r"^fr\.pivot\.[a-z_]+\.[a-z_]+\.v[0-9]+$")


def test_every_v1_event_type_is_registered() -> None:
    assert set(EVENT_TYPES) >= V1_EVENT_TYPES


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_type_string_entity_and_version_agree(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]
    assert TYPE_STRING.fullmatch(event_type)
    assert cls.event_type == event_type
    _, _, entity, _, major = event_type.split(".")
    assert entity == cls.entity_model.kind
    assert issubclass(cls, cls.entity_model)
    assert cls.version == int(major.removeprefix("v"))


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_allowed_statuses_belong_to_the_status_field(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]
    assert set(cls.required_fields) <= set(cls.model_fields)
    if cls.allowed_statuses:
        field = cls.model_fields[cls.status_field]
        status_types = {field.annotation, *get_args(field.annotation)}
        assert all(type(status) in status_types for status in cls.allowed_statuses)


def test_every_event_type_has_a_sample(event_samples: dict[str, dict[str, Any]]) -> None:
    assert set(event_samples) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(V1_EVENT_TYPES))
def test_json_round_trip(event_type: str, event_samples: dict[str, dict[str, Any]]) -> None:
    event = event_class(event_type).model_validate(event_samples[event_type])
    wire = event.model_dump_json().encode()
    assert parse_event(event_type, wire) == event
    assert parse_event(event_type, event.model_dump(mode="json")) == event
    assert event.subject == event.id


def test_unknown_event_type() -> None:
    with pytest.raises(UnknownEventType, match=r"fr\.pivot\.lease\.renewed\.v1") as error:
        event_class("fr.pivot.lease.renewed.v1")
    assert isinstance(error.value, KeyError)
    with pytest.raises(KeyError):
        parse_event("fr.pivot.lease.renewed.v1", b"{}")


def test_a_duplicate_event_type_is_refused() -> None:
    before = dict(EVENT_TYPES)
    with pytest.raises(DuplicateEventType, match=r"already defined by .*LeaseNoticeGiven"):

        class NoticeAgain(Lease, CanonicalEvent):
            event_type = "fr.pivot.lease.notice_given.v1"

    assert before == EVENT_TYPES
    assert EVENT_TYPES["fr.pivot.lease.notice_given.v1"] is LeaseNoticeGiven


def test_badly_declared_events_are_refused_at_definition() -> None:
    with pytest.raises(EventDefinitionError, match="does not match"):

        class Shouting(Lease, CanonicalEvent):
            event_type = "fr.pivot.Lease.Signed.v1"

    with pytest.raises(EventDefinitionError, match="names entity 'lease' but the payload is a Lot"):

        class WrongEntity(Lot, CanonicalEvent):
            event_type = "fr.pivot.lease.vacated.v1"

    with pytest.raises(EventDefinitionError, match="version 1 contradicts"):

        class WrongVersion(Lot, CanonicalEvent):
            event_type = "fr.pivot.lot.renovated.v2"
            version: ClassVar[int] = 1

    with pytest.raises(EventDefinitionError, match="unknown fields: signed_on"):

        class Misnamed(Lease, CanonicalEvent):
            event_type = "fr.pivot.lease.countersigned.v1"
            required_fields = ("signed_on",)

    assert "fr.pivot.lot.renovated.v2" not in EVENT_TYPES
    assert "fr.pivot.lease.countersigned.v1" not in EVENT_TYPES


def test_notice_needs_a_notice_date_and_the_notice_status(
    event_samples: dict[str, dict[str, Any]],
) -> None:
    payload = event_samples["fr.pivot.lease.notice_given.v1"]
    with pytest.raises(ValidationError, match="needs notice_date to be set"):
        LeaseNoticeGiven.model_validate({**payload, "notice_date": None})
    with pytest.raises(ValidationError, match=r"needs status in \(notice\), got 'active'"):
        LeaseNoticeGiven.model_validate({**payload, "status": "active"})


def test_completed_intervention_needs_completion_time(
    event_samples: dict[str, dict[str, Any]],
) -> None:
    payload = event_samples["fr.pivot.intervention.completed.v1"]
    with pytest.raises(ValidationError, match="needs completed_at"):
        InterventionCompleted.model_validate({**payload, "completed_at": None})


def test_triage_needs_category_and_urgency(event_samples: dict[str, dict[str, Any]]) -> None:
    payload = event_samples["fr.pivot.request.triaged.v1"]
    with pytest.raises(ValidationError, match="needs urgency"):
        RequestTriaged.model_validate({**payload, "urgency": None})
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        RequestTriaged.model_validate({**payload, "triage_confidence": 1.2})


def test_a_tenant_cannot_absorb_itself(event_samples: dict[str, dict[str, Any]]) -> None:
    payload = event_samples["fr.pivot.tenant.merged.v1"]
    with pytest.raises(ValidationError, match="cannot absorb itself"):
        TenantMerged.model_validate({**payload, "absorbed_id": payload["id"]})
    with pytest.raises(ValidationError, match="got 'merged'"):
        TenantMerged.model_validate({**payload, "status": "merged"})


def test_snapshot_drops_event_only_fields(event_samples: dict[str, dict[str, Any]]) -> None:
    triaged = RequestTriaged.model_validate(event_samples["fr.pivot.request.triaged.v1"])
    state = triaged.snapshot()
    assert type(state) is TenantRequest
    assert not hasattr(state, "triage_confidence")
    assert state.model_dump() == {name: getattr(triaged, name) for name in TenantRequest.model_fields}


def test_from_entity_builds_the_event(lease: Lease) -> None:
    noticed = lease.model_copy(update={"status": LeaseStatus.NOTICE, "notice_date": date(2024, 11, 4)})
    event = LeaseNoticeGiven.from_entity(noticed)
    assert event.snapshot() == noticed
    assert event.subject == lease.id
    with pytest.raises(TypeError, match="LeaseNoticeGiven carries a Lease, not a Tenant"):
        LeaseNoticeGiven.from_entity(Tenant(id="tenant_1", last_name="Benali"))


def test_from_entity_with_extra_fields(tenant_request: TenantRequest) -> None:
    with pytest.raises(ValidationError, match=r"received\.v1 needs status"):
        RequestReceived.from_entity(tenant_request.model_copy(update={"status": "closed"}))
    merged = TenantMerged.from_entity(
        Tenant(id="tenant_a1", last_name="Haddad", first_name="Karim"),
        absorbed_id="tenant_b2",
    )
    assert merged.absorbed_id == "tenant_b2"
