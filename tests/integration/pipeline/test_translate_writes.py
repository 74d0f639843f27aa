"""Translate stage: the batch maps while reading, then writes in one short transaction.

Other writers (the API's journal, other workers) are not held up by a batch's mapping; a
mapping that reads what its own batch made sees it; a link another worker made between the
batch's look-up and its write fails the batch, which is redone and then follows that link.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import ClassVar

import pytest
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from canonical_model.events import LotUpserted
from connectors.sdk import Connector, Inbound
from connectors.sdk.context import MappingContext
from observability.metrics import PivotMetrics
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import RAW_EVENT_TYPE, Envelope
from pivot.errors import StoreConflict
from pivot.pipeline.translate import TranslateProcessor
from pivot.settings import KafkaSettings
from pivot.store import Store, golden, journal, xref

NAME = "writes_test"
BUILDING = "building_" + "3" * 32


class LotPayload(BaseModel):
    """A lot as the test satellite sends it; ``after`` names a lot mapped earlier."""

    event: str
    ref: str
    floor: int
    after: str | None = None


class _Hooks:
    """What the mapping does besides mapping, set by each test."""

    def __init__(self) -> None:
        self.during: Callable[[LotPayload], None] = lambda payload: None
        self.seen_floor: dict[str, int | None] = {}


HOOKS = _Hooks()


def _map(payload: LotPayload, ctx: MappingContext) -> Iterable[LotUpserted]:
    lot_id = ctx.canonical_id("lot", payload.ref)
    if payload.after is not None:
        earlier = ctx.golden(ctx.canonical_id("lot", payload.after))
        HOOKS.seen_floor[payload.ref] = earlier["floor"] if earlier else None
    HOOKS.during(payload)
    yield LotUpserted.model_validate({
        "id": lot_id, "building_id": BUILDING, "rpls_id": "751130012345", "typology": "T2",
        "habitable_surface_m2": "48.20", "rooms": 2, "floor": payload.floor,
        "dpe_energy_class": "C", "occupancy_status": "occupied",
    })


class _WritesConnector(Connector):
    name = NAME
    inbound: ClassVar = {"lot": Inbound(LotPayload, (LotUpserted,), _map)}


@pytest.fixture(autouse=True)
def _fresh_hooks() -> None:
    HOOKS.__init__()  # type: ignore[misc]


def _record(offset: int, **payload: object) -> ConsumerRecord:
    env = Envelope(id=str(uuid.uuid4()), type=RAW_EVENT_TYPE, source=f"/connectors/{NAME}",
                   data=json.dumps({"event": "lot", **payload}).encode(), key=str(payload["ref"]))
    key, value, headers = env.to_kafka()
    return ConsumerRecord(topics.raw(NAME), 0, None, offset, 0, 0, key, value, headers,
                          None, len(key or b""), len(value), 0)


@pytest.fixture
def processor(store: Store, bootstrap: str) -> Iterable[TranslateProcessor]:
    producer = BusProducer(bootstrap, KafkaSettings(bootstrap=bootstrap))
    yield TranslateProcessor(_WritesConnector(), store, producer, PivotMetrics(CollectorRegistry()))
    producer.close()


def test_other_writers_commit_while_a_batch_maps(store: Store, processor: TranslateProcessor) -> None:
    ref = f"LOT-{uuid.uuid4().hex[:8]}"
    mapping, resume = threading.Event(), threading.Event()
    committed: list[float] = []

    def pause(payload: LotPayload) -> None:
        if payload.floor == 2:
            mapping.set()
            resume.wait(20)

    def other_writer() -> None:
        with store.session() as session:  # e.g. the API journaling a webhook
            journal.record(session, str(uuid.uuid4()), NAME, "LOT-X", b"{}", 0.0)
        committed.append(1)

    HOOKS.during = pause
    batch = threading.Thread(target=processor, args=([_record(0, ref=ref, floor=1),
                                                      _record(1, ref=ref + "b", floor=2)],))
    batch.start()
    try:
        assert mapping.wait(20), "the mapping never reached the second record"
        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(5)
        assert committed, "another writer waited for the batch's mapping to finish"
    finally:
        resume.set()
        batch.join(20)
    with store.read_session() as session:
        lot_id = xref.lookup(session, NAME, "lot", ref)
        assert lot_id is not None
        assert golden.load(session, [lot_id])[lot_id][1]["floor"] == 1


def test_a_mapping_reads_what_its_own_batch_made(store: Store, processor: TranslateProcessor) -> None:
    first, second = f"LOT-{uuid.uuid4().hex[:8]}", f"LOT-{uuid.uuid4().hex[:8]}"
    processor([_record(0, ref=first, floor=4), _record(1, ref=second, floor=5, after=first)])
    assert HOOKS.seen_floor == {second: 4}


def test_a_batch_writes_once_when_its_mapping_reads_nothing_it_made(
    store: Store, processor: TranslateProcessor,
) -> None:
    first, second = f"LOT-{uuid.uuid4().hex[:8]}", f"LOT-{uuid.uuid4().hex[:8]}"
    written_while_mapping: list[bool] = []

    def look(payload: LotPayload) -> None:
        if payload.ref == second:
            with store.read_session() as session:
                written_while_mapping.append(xref.lookup(session, NAME, "lot", first) is not None)

    HOOKS.during = look
    processor([_record(0, ref=first, floor=4), _record(1, ref=second, floor=5)])
    assert written_while_mapping == [False], "the batch wrote before it finished mapping"
    with store.read_session() as session:
        assert xref.lookup(session, NAME, "lot", first) is not None


def test_a_link_made_meanwhile_by_another_worker_redoes_the_batch(
    store: Store, processor: TranslateProcessor,
) -> None:
    ref = f"LOT-{uuid.uuid4().hex[:8]}"
    winner = "lot_" + uuid.uuid4().hex

    def other_worker_links_first(payload: LotPayload) -> None:
        HOOKS.during = lambda payload: None
        with store.session() as session:
            xref.link_many(session, [(NAME, "lot", ref, winner)])

    HOOKS.during = other_worker_links_first
    records = [_record(0, ref=ref, floor=3)]
    with pytest.raises(StoreConflict):
        processor(records)
    with store.read_session() as session:
        assert golden.load(session, [winner]) == {}, "the failed batch wrote a golden record"

    processor(records)  # the consumer loop redoes the batch
    with store.read_session() as session:
        assert golden.load(session, [winner])[winner][1]["floor"] == 3
        assert xref.source_ids(session, NAME, "lot", winner) == [ref]
