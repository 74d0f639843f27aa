"""The ingestion relay: payloads committed to the journal reach the raw topic once, in order.

Webhooks accepted side by side (each answered once its row is committed) and a poller's pages
larger than the relay's queue (the poller waits for room) all end on ``pivot.raw.<connector>``
exactly once, in the journal's order, with every row marked published.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaConsumer
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from observability.metrics import PivotMetrics
from pivot.bus import topics
from pivot.bus.client import BusProducer, ensure_topics
from pivot.ingestion import IngestionService
from pivot.settings import KafkaSettings
from pivot.store import Store, journal
from pivot.store.tables import Ingestion


@pytest.fixture
def producer(bootstrap: str) -> Iterator[BusProducer]:
    own = BusProducer(bootstrap, KafkaSettings(bootstrap=bootstrap))
    yield own
    own.close()


def _on_topic(bootstrap: str, topic: str, expected: int) -> list[str]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=3_000)
    ids: list[str] = []
    try:
        while len(ids) < expected:
            batch = [dict(r.headers)["ce_id"].decode() for r in consumer]
            if not batch:
                break
            ids.extend(batch)
    finally:
        consumer.close()
    return ids


def _message(n: int) -> bytes:
    return json.dumps({"event": "message.created", "conversation": "conv_lyon_8e",
                       "text": f"Bonjour, la VMC de la salle de bain ne marche plus ({n})"}).encode()


def _journal_order(store: Store, connector: str) -> list[str]:
    with store.read_session() as session:
        return list(session.scalars(select(Ingestion.ingestion_id)
                                    .where(Ingestion.connector == connector)
                                    .order_by(Ingestion.seq)))


def test_webhooks_accepted_together_reach_the_topic_once_in_commit_order(
    store: Store, bootstrap: str, producer: BusProducer, topic_suffix: str
) -> None:
    connector = f"relay{topic_suffix}"
    ensure_topics(bootstrap, [topics.raw(connector)], KafkaSettings(partitions=1))
    service = IngestionService(store, lambda: producer, PivotMetrics(CollectorRegistry()))

    async def accept_all() -> list[str]:
        answers = await asyncio.gather(*(
            service.accept_async(connector, "conv_lyon_8e", _message(n)) for n in range(300)))
        return [a.ingestion_id for a in answers]

    try:
        accepted = asyncio.run(accept_all())
        on_topic = _on_topic(bootstrap, topics.raw(connector), 300)
    finally:
        service.stop()
    assert sorted(on_topic) == sorted(accepted) and len(on_topic) == 300  # once each
    assert on_topic == _journal_order(store, connector)  # one key: the journal's order
    assert service.pending == 0
    with store.read_session() as session:
        assert journal.pending_count(session) == 0  # every row marked published


def test_a_poller_faster_than_the_relay_waits_and_loses_nothing(
    store: Store, bootstrap: str, producer: BusProducer, topic_suffix: str
) -> None:
    connector = f"relaypoll{topic_suffix}"
    ensure_topics(bootstrap, [topics.raw(connector)], KafkaSettings(partitions=1))
    service = IngestionService(store, lambda: producer, PivotMetrics(CollectorRegistry()),
                               drain_batch=50, max_queued=200)
    try:
        spooled = [service.accept_many(connector, [(f"LOT-{page}-{n}", _message(n))
                                                   for n in range(150)])
                   for page in range(6)]
        on_topic = _on_topic(bootstrap, topics.raw(connector), 900)
    finally:
        service.stop()
    assert spooled == [0] * 6  # the broker was there: nothing waited in the spool
    assert len(on_topic) == len(set(on_topic)) == 900
    assert on_topic == _journal_order(store, connector)
    with store.read_session() as session:
        assert journal.pending_count(session) == 0


def test_a_new_service_finds_what_the_last_one_left_unpublished(
    store: Store, bootstrap: str, producer: BusProducer, topic_suffix: str
) -> None:
    connector = f"relayleft{topic_suffix}"
    ensure_topics(bootstrap, [topics.raw(connector)], KafkaSettings(partitions=1))
    with store.session() as session:
        left = [journal.record(session, str(uuid.uuid4()), connector, "conv_lyon_8e",
                               _message(n), 1_764_000_000.0 + n).ingestion_id for n in range(5)]
    service = IngestionService(store, lambda: producer, PivotMetrics(CollectorRegistry()))
    assert service.spooling and service.pending >= 5
    try:
        accepted = service.accept(connector, "conv_lyon_8e", _message(99))
        assert accepted.spooled  # it queues behind what was left
        on_topic = _on_topic(bootstrap, topics.raw(connector), 6)
    finally:
        service.stop()
    assert on_topic == [*left, accepted.ingestion_id]
