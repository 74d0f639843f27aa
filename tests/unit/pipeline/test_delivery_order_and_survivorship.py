"""Pure pieces of the pipeline: urgent keys first within a batch, field-level survivorship."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from kafka.consumer.fetcher import ConsumerRecord

from canonical_model.events import LotOccupancyChanged, LotUpserted, RequestReceived
from connectors.sdk import Connector, Outbound
from pivot.bus.envelope import Envelope
from pivot.pipeline.deliver import most_urgent_first
from pivot.pipeline.survivorship import Survivorship

RANK = {"urgent": 0, "high": 1}


def _rank(data: Any) -> int:
    return RANK.get(data.get("urgency"), 2)


def _record(key: str, offset: int, urgency: str | None) -> tuple[ConsumerRecord, Envelope, None]:
    data = json.dumps({"id": key, "urgency": urgency}).encode()
    env = Envelope(id=f"evt-{offset}", type=RequestReceived.event_type, source="/connectors/chatbot",
                   data=data, key=key, time=datetime(2026, 11, 24, tzinfo=UTC))
    record = ConsumerRecord("pivot.canonical.request", 0, None, offset, 0, 0, key.encode(), data,
                            [], None, 0, len(data), 0)
    return record, env, None


def test_urgent_keys_jump_the_queue_and_each_key_keeps_its_order() -> None:
    outbound = {RequestReceived.event_type: Outbound(RequestReceived, lambda e, c: None,
                                                      priority=_rank)}
    batch = [_record("a", 1, "normal"), _record("b", 2, "high"), _record("a", 3, "normal"),
             _record("c", 4, "urgent"), _record("b", 5, None)]
    ordered = [r.offset for r, _, _ in most_urgent_first(batch, outbound)]
    assert ordered == [4, 2, 5, 1, 3]


def test_a_batch_without_ranked_rows_is_left_as_it_is() -> None:
    outbound = {RequestReceived.event_type: Outbound(RequestReceived, lambda e, c: None)}
    batch = [_record("a", 1, "normal"), _record("c", 2, "urgent")]
    assert most_urgent_first(batch, outbound) == batch


class _Ublo(Connector):
    name = "ublo_survivorship_test"
    masters: ClassVar = {"lot": frozenset({"dpe_energy_class", "habitable_surface_m2"})}


LOT = {
    "id": "lot_" + "1" * 32, "building_id": "building_" + "2" * 32, "rpls_id": "692660004567",
    "typology": "T3", "habitable_surface_m2": "67.40", "rooms": 3, "floor": 2,
    "dpe_energy_class": "E", "occupancy_status": "occupied",
}


def test_another_systems_event_keeps_the_masters_values() -> None:
    rules = Survivorship([_Ublo])
    golden = {**LOT, "dpe_energy_class": "C", "habitable_surface_m2": "68.10"}  # Ublo's newer data
    from_erp = LotOccupancyChanged.model_validate({**LOT, "occupancy_status": "notice"})
    kept = rules.apply(from_erp, golden, "erp")
    assert str(kept.dpe_energy_class) == "C" and str(kept.habitable_surface_m2) == "68.10"
    assert str(kept.occupancy_status) == "notice"  # the ERP masters occupancy: its value stands


def test_the_masters_own_event_and_a_new_record_pass_unchanged() -> None:
    rules = Survivorship([_Ublo])
    from_ublo = LotUpserted.model_validate({**LOT, "dpe_energy_class": "B"})
    assert rules.apply(from_ublo, LOT, "ublo_survivorship_test") is from_ublo
    from_erp = LotUpserted.model_validate(LOT)
    assert rules.apply(from_erp, None, "erp") is from_erp


def test_two_masters_of_one_field_are_refused() -> None:
    class _Other(Connector):
        name = "erp_survivorship_test"
        masters: ClassVar = {"lot": frozenset({"dpe_energy_class"})}

    with pytest.raises(ValueError, match="mastered by both"):
        Survivorship([_Ublo, _Other])
