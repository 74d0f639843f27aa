import json
from pathlib import Path
from typing import Any

import pytest

import canonical_model
from canonical_model import (
    ENTITY_TYPES,
    EVENT_TYPES,
    SCHEMA_URI_PREFIX,
    UnknownEntityKind,
    UnknownEventType,
    check_schemas,
    entity_schema,
    event_schema,
    export_schemas,
    parse_event,
    schema_id,
)

COMMITTED = Path(canonical_model.__file__).resolve().parents[1] / "contracts" / "schemas"


def test_schema_id_is_the_dataschema_uri() -> None:
    assert SCHEMA_URI_PREFIX == "pivot:contracts/schemas/"
    assert schema_id("fr.pivot.lease.notice_given.v1") == (
        "pivot:contracts/schemas/events/fr.pivot.lease.notice_given.v1.json"
    )


def test_event_schema_header_and_markers() -> None:
    schema = event_schema("fr.pivot.request.triaged.v1")
    assert schema["$id"] == schema_id("fr.pivot.request.triaged.v1")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "RequestTriaged"
    assert schema["x-pivot-event-type"] == "fr.pivot.request.triaged.v1"
    assert schema["x-pivot-entity"] == "request"
    assert schema["x-pivot-version"] == 1
    assert schema["additionalProperties"] is False
    assert schema["properties"]["text"]["x-pii"] == "sensitive"
    assert {"id", "channel", "text", "received_at", "triage_confidence"} <= set(schema["required"])


def test_money_and_times_in_the_contract() -> None:
    lease = event_schema("fr.pivot.lease.signed.v1")["properties"]
    assert lease["monthly_rent"]["type"] == "string"
    assert lease["monthly_rent"]["x-currency"] == "EUR"
    request = event_schema("fr.pivot.request.received.v1")["properties"]
    assert request["received_at"]["format"] == "date-time"


def test_entity_schema() -> None:
    schema = entity_schema("lot")
    assert schema["$id"] == "pivot:contracts/schemas/entities/lot.json"
    assert schema["title"] == "Lot"
    assert schema["properties"]["rpls_id"]["anyOf"][0]["x-identifier"] == "rpls_id"
    with pytest.raises(UnknownEntityKind):
        entity_schema("parking")
    with pytest.raises(UnknownEventType):
        event_schema("fr.pivot.parking.upserted.v1")


def test_export_is_complete_and_deterministic(tmp_path: Path) -> None:
    first = export_schemas(tmp_path / "a")
    second = export_schemas(tmp_path / "b")
    assert len(first) == len(EVENT_TYPES) + len(ENTITY_TYPES)
    assert (tmp_path / "a" / "events" / "fr.pivot.lease.notice_given.v1.json") in first
    assert (tmp_path / "a" / "entities" / "insurance_certificate.json") in first
    for path_a, path_b in zip(first, second, strict=True):
        text = path_a.read_text(encoding="utf-8")
        assert text == path_b.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_committed_schemas_are_up_to_date() -> None:
    assert check_schemas(COMMITTED) == []


def test_check_reports_missing_changed_and_extra(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    (tmp_path / "events" / "fr.pivot.lease.signed.v1.json").unlink()
    (tmp_path / "entities" / "lot.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "events" / "fr.pivot.lease.renewed.v1.json").write_text("{}\n", encoding="utf-8")
    assert check_schemas(tmp_path) == [
        "changed: entities/lot.json",
        "extra: events/fr.pivot.lease.renewed.v1.json",
        "missing: events/fr.pivot.lease.signed.v1.json",
    ]
    export_schemas(tmp_path)
    assert check_schemas(tmp_path) == []
    assert not (tmp_path / "events" / "fr.pivot.lease.renewed.v1.json").exists()


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_serialised_events_validate_against_the_committed_schema(
    event_type: str, event_samples: dict[str, dict[str, Any]]
) -> None:
    import jsonschema
    schema_path = COMMITTED / "events" / f"{event_type}.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    event = parse_event(event_type, event_samples[event_type])
    jsonschema.Draft202012Validator(schema).validate(json.loads(event.model_dump_json()))


def test_the_schema_refuses_what_the_model_refuses(event_samples: dict[str, dict[str, Any]]) -> None:
    import jsonschema
    validator = jsonschema.Draft202012Validator(event_schema("fr.pivot.lease.signed.v1"))
    payload = event_samples["fr.pivot.lease.signed.v1"]
    assert validator.is_valid(payload)
    assert not validator.is_valid({**payload, "monthly_rent": 412.37})
    assert not validator.is_valid({**payload, "loyer": "412.37"})
    assert not validator.is_valid({**payload, "status": "suspended"})


def test_event_rules_are_part_of_the_contract(event_samples: dict[str, dict[str, Any]]) -> None:
    import jsonschema
    schema = event_schema("fr.pivot.insurance_certificate.rejected.v1")
    assert schema["properties"]["status"]["enum"] == ["expired", "mismatch", "missing"]
    assert "rejection_reason" in schema["required"]
    validator = jsonschema.Draft202012Validator(schema)
    payload = event_samples["fr.pivot.insurance_certificate.rejected.v1"]
    assert validator.is_valid(payload)
    assert not validator.is_valid({**payload, "status": "received"})
    assert not validator.is_valid({**payload, "rejection_reason": None})
    notice = event_schema("fr.pivot.lease.notice_given.v1")["properties"]["notice_date"]
    assert notice["format"] == "date"
    assert "anyOf" not in notice and "default" not in notice


def test_export_leaves_unmanaged_files_alone(tmp_path: Path) -> None:
    (tmp_path / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    export_schemas(tmp_path)
    assert (tmp_path / "asyncapi.yaml").read_text(encoding="utf-8") == "asyncapi: 3.0.0\n"
