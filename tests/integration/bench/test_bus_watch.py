"""The benchmark's bus watch counts every record once, with either Kafka client."""

from __future__ import annotations

import pytest

import bench.harness
from bench.harness import BusWatch, wait_for_progress
from pivot.bus.client import BusProducer, ensure_topics
from pivot.settings import KafkaSettings


def _send(producer: BusProducer, topic: str, start: int, count: int) -> None:
    producer.wait([producer.send_raw(topic, f"RPLS-{n:07d}".encode(), b'{"surface_m2": 54.2}',
                                     [("ce_id", f"{topic}-{n}".encode())])
                   for n in range(start, start + count)])


@pytest.mark.parametrize("client", ["confluent-kafka", "kafka-python"])
def test_every_record_is_counted_once_whether_before_or_after_the_watch_began(
        bootstrap: str, topic_suffix: str, client: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if client == "kafka-python":  # as without the bench extra
        def not_installed(*_args: object) -> None:
            raise ImportError("confluent_kafka")

        monkeypatch.setattr(bench.harness, "_ConfluentReader", not_installed)
    lots, leases = f"bench.watch.lot.{topic_suffix}", f"bench.watch.lease.{topic_suffix}"
    ensure_topics(bootstrap, [lots, leases], KafkaSettings(partitions=3))
    producer = BusProducer(bootstrap, KafkaSettings())
    try:
        _send(producer, lots, 0, 400)  # on the bus before the watch
        watch = BusWatch(bootstrap, [lots, leases, f"bench.watch.absent.{topic_suffix}"])
        try:
            assert isinstance(watch._reader, bench.harness._KafkaPythonReader) == (
                client == "kafka-python")
            _send(producer, lots, 400, 300)  # while it watches
            _send(producer, leases, 0, 200)
            wait_for_progress(watch, 900, stall_s=20)
            assert watch.settle(idle_s=0.5) == 900
        finally:
            watch.close()
    finally:
        producer.close()
    assert sorted(watch.ids) == sorted([f"{lots}-{n}" for n in range(700)]
                                       + [f"{leases}-{n}" for n in range(200)])
    assert dict(watch.by_topic) == {lots: 700, leases: 200}
