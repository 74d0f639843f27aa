"""Deliver stage: a batch's keys go side by side, each key in offset order, links shared.

Four lots, three events each, interleaved in one batch: the processor (4 lanes) delivers
the keys at the same time, every key's events in offset order; a key's later events see the
link its first event made before the batch writes it; the batch writes its links and its
processed marks, so the same batch again calls nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import ClassVar

from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import CollectorRegistry

from canonical_model.events import LotUpserted
from connectors.sdk import Connector, Outbound
from connectors.sdk.base import OutboundContext
from observability.metrics import PivotMetrics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import Envelope
from pivot.pipeline.deliver import DeliverProcessor
from pivot.settings import KafkaSettings
from pivot.store import Store, idempotency, xref


class _Calls:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.applied: dict[str, list[int]] = defaultdict(list)
        self.seen_links: dict[str, list[str | None]] = defaultdict(list)


CALLS = _Calls()


def _upsert(event: LotUpserted, ctx: OutboundContext) -> None:
    with CALLS.lock:
        CALLS.in_flight += 1
        CALLS.most_in_flight = max(CALLS.most_in_flight, CALLS.in_flight)
    time.sleep(0.05)  # the satellite's answer
    with CALLS.lock:
        CALLS.in_flight -= 1
    CALLS.applied[event.id].append(event.floor or 0)
    existing = ctx.source_id("lot", event.id)
    CALLS.seen_links[event.id].append(existing)
    if existing is None:
        ctx.link("lot", f"ublo-prop-{event.id[-8:]}", event.id)


class _LanesConnector(Connector):
    name = "lanes_test"
    outbound: ClassVar = {LotUpserted.event_type: Outbound(LotUpserted, _upsert)}


def _lot() -> str:
    return "lot_" + uuid.uuid4().hex


def _record(lot_id: str, offset: int) -> ConsumerRecord:
    event = LotUpserted.model_validate({
        "id": lot_id, "building_id": "building_" + "2" * 32, "rpls_id": "692660004567",
        "typology": "T3", "habitable_surface_m2": "67.40", "rooms": 3, "floor": offset,
        "dpe_energy_class": "D", "occupancy_status": "occupied",
    })
    env = Envelope(id=str(uuid.uuid4()), type=LotUpserted.event_type, source="/connectors/erp",
                   data=event.model_dump_json().encode(), key=lot_id,
                   time=datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    key, value, headers = env.to_kafka()
    return ConsumerRecord("pivot.canonical.lot", 0, None, offset, 0, 0, key, value, headers,
                          None, len(key or b""), len(value or b""), 0)


def test_keys_side_by_side_each_in_order_with_shared_links(store: Store, bootstrap: str) -> None:
    lots = [_lot() for _ in range(4)]
    records = [_record(lots[offset % 4], offset) for offset in range(12)]
    producer = BusProducer(bootstrap, KafkaSettings(bootstrap=bootstrap))
    processor = DeliverProcessor(_LanesConnector(), store, producer,
                                 PivotMetrics(CollectorRegistry()), concurrency=4)
    try:
        processor(records)
        assert CALLS.most_in_flight > 1, "the keys were delivered one after the other"
        for n, lot_id in enumerate(lots):
            assert CALLS.applied[lot_id] == [n, n + 4, n + 8], "a key's order was lost"
            linked = f"ublo-prop-{lot_id[-8:]}"
            assert CALLS.seen_links[lot_id] == [None, linked, linked]
        with store.read_session() as session:
            for lot_id in lots:
                assert xref.source_ids(session, "lanes_test", "lot", lot_id) == [
                    f"ublo-prop-{lot_id[-8:]}"]
            ids = [Envelope.from_kafka(r.key, r.value, r.headers).id for r in records]
            assert idempotency.seen(session, processor.consumer_name, ids) == set(ids)

        processor(records)  # the same batch again: every event already delivered
        assert all(len(offsets) == 3 for offsets in CALLS.applied.values())
    finally:
        producer.close()
