"""Backlog gauges on a real broker: consumer lag per partition, dead letters not replayed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import CollectorRegistry

from observability.metrics import PivotMetrics
from pivot.bus import topics
from pivot.bus.client import BusProducer, ensure_topics
from pivot.bus.consumer import ConsumerLoop, run_in_thread
from pivot.bus.envelope import Envelope
from pivot.pipeline.dlq import DeadLetterDepth, dead_letter, read_dead_letters, replay
from pivot.settings import KafkaSettings
from pivot.store import Store


def _produce(bootstrap: str, topic: str, settings: KafkaSettings, count: int) -> None:
    producer = BusProducer(bootstrap, settings)
    producer.wait([
        producer.send(topic, Envelope(id=f"evt-{i}", type="fr.pivot.test.sent.v1",
                                      source="/connectors/test", data=b"{}", key=f"lot-{i % 5}"))
        for i in range(count)
    ])
    producer.close()


def _lag(metrics: PivotMetrics, group: str) -> dict[str, float]:
    return {s.labels["partition"]: s.value for m in metrics.consumer_lag.collect()
            for s in m.samples if s.labels["group"] == group}


def _wait(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_consumer_lag_counts_what_is_not_processed_yet(bootstrap: str, topic_suffix: str) -> None:
    settings = KafkaSettings(partitions=2, max_poll_records=10)
    topic = f"pivot.canonical.lag{topic_suffix}"
    group = f"pivot.deliver.lag{topic_suffix}"
    ensure_topics(bootstrap, [topic], settings)
    _produce(bootstrap, topic, settings, 60)
    metrics = PivotMetrics(CollectorRegistry())
    release = threading.Event()
    processed: list[int] = []

    def slow(records: list[ConsumerRecord]) -> None:
        release.wait(30)
        processed.extend(r.offset for r in records)

    loop = ConsumerLoop(bootstrap, [topic], group, slow, settings, metrics=metrics)
    thread = run_in_thread(loop)
    try:
        # The first batch is held: every record of the topic is still waiting.
        assert _wait(lambda: sum(_lag(metrics, group).values()) > 0), _lag(metrics, group)
        lag = _lag(metrics, group)
        assert set(lag) <= {"0", "1"} and 0 < sum(lag.values()) <= 60
        release.set()
        assert _wait(lambda: len(processed) == 60 and sum(_lag(metrics, group).values()) == 0), (
            len(processed), _lag(metrics, group))
    finally:
        release.set()
        loop.stop()
        thread.join(15)
    assert set(_lag(metrics, group)) == {"0", "1"}  # the last values stay after the stop


def test_dead_letter_depth_counts_letters_not_replayed(
    bootstrap: str, topic_suffix: str, store: Store
) -> None:
    settings = KafkaSettings(partitions=2)
    connector = f"depth{topic_suffix}"
    other = f"none{topic_suffix}"
    source_topic = topics.raw(connector)
    ensure_topics(bootstrap, [source_topic, topics.dlq(connector)], settings)
    _produce(bootstrap, source_topic, settings, 5)
    producer = BusProducer(bootstrap, settings)
    records: list[ConsumerRecord] = []
    loop = ConsumerLoop(bootstrap, [source_topic], f"g{topic_suffix}", records.extend, settings)
    thread = run_in_thread(loop)
    assert _wait(lambda: len(records) == 5)
    loop.stop()
    thread.join(15)
    producer.wait([dead_letter(producer, connector, r, stage="translate", error=ValueError("bad"))
                   for r in records])

    depth = DeadLetterDepth(bootstrap, [connector, other], store)
    try:
        assert depth() == {connector: 5, other: 0}
        letters = read_dead_letters(bootstrap, [connector], store)
        replay(producer, store, letters[:2])
        assert depth() == {connector: 3, other: 0}

        metrics = PivotMetrics(CollectorRegistry())
        metrics.watch_dlq_depth(depth)
        assert metrics.registry.get_sample_value("pivot_dlq_depth", {"connector": connector}) == 3
        metrics.watch_dlq_depth(None)  # the last values stay exported
        assert metrics.registry.get_sample_value("pivot_dlq_depth", {"connector": other}) == 0
    finally:
        producer.close()


def test_dead_letter_depth_keeps_its_last_values_when_the_broker_is_away(store: Store) -> None:
    metrics = PivotMetrics(CollectorRegistry())
    answers: list[dict[str, int]] = [{"erp": 2}]

    def flaky() -> dict[str, int]:
        if not answers:
            raise RuntimeError("broker away")
        return answers.pop()

    metrics.watch_dlq_depth(flaky)
    assert metrics.registry.get_sample_value("pivot_dlq_depth", {"connector": "erp"}) == 2
    metrics._dlq_depth.min_interval_s = 0
    assert metrics.registry.get_sample_value("pivot_dlq_depth", {"connector": "erp"}) == 2
    unreachable = DeadLetterDepth("127.0.0.1:1", ["erp"], store, timeout_ms=500)
    metrics.watch_dlq_depth(unreachable)
    assert metrics.registry.get_sample_value("pivot_dlq_depth", {"connector": "erp"}) == 2
