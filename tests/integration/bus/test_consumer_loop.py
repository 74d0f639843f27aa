"""The bus on a real Kafka-protocol broker: envelope, commit after processing, restart, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from kafka import KafkaConsumer

from pivot.bus.client import BusProducer, ensure_topics
from pivot.bus.consumer import ConsumerLoop, run_in_thread
from pivot.bus.envelope import Envelope
from pivot.settings import KafkaSettings


class Crash(BaseException):
    """Stands for a process dying in the middle of a batch (not an Exception: not retried)."""


def _produce(bootstrap: str, topic: str, settings: KafkaSettings, start: int, count: int) -> None:
    producer = BusProducer(bootstrap, settings)
    futures = [
        producer.send(topic, Envelope(id=f"evt-{i}", type="fr.pivot.test.sent.v1",
                                      source="/connectors/test", data=f'{{"n": {i}}}'.encode(),
                                      key=f"lot-{i % 7}"))
        for i in range(start, start + count)
    ]
    producer.wait(futures)
    producer.close()


def _collect(bootstrap: str, topic: str, group: str, settings: KafkaSettings, expect: int,
             timeout_s: float = 30.0, quiet_s: float = 1.5) -> list[str]:
    """Run a loop until ``expect`` records arrived and nothing more comes for ``quiet_s``."""
    seen: list[str] = []
    last = [time.monotonic()]

    def handler(records: list) -> None:
        seen.extend(Envelope.from_kafka(r.key, r.value, r.headers).id for r in records)
        last[0] = time.monotonic()

    loop = ConsumerLoop(bootstrap, [topic], group, handler, settings)
    thread = run_in_thread(loop)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(seen) >= expect and time.monotonic() - last[0] > quiet_s:
            break
        time.sleep(0.05)
    loop.stop()
    thread.join(15)
    assert not thread.is_alive()
    return seen


def test_envelope_travels_in_binary_mode(bootstrap: str, topic_suffix: str) -> None:
    settings = KafkaSettings()
    topic = f"pivot.canonical.t{topic_suffix}"
    ensure_topics(bootstrap, [topic], settings)
    envelope = Envelope(
        id="3f0e8a4c-6a1b-5c2d-9e8f-7a6b5c4d3e2f", type="fr.pivot.lease.notice_given.v1",
        source="/connectors/erp", subject="lease_8c1d", key="lease_8c1d",
        dataschema="pivot:contracts/schemas/events/fr.pivot.lease.notice_given.v1.json",
        data=b'{"id": "lease_8c1d", "monthly_rent": "612.40"}',
    )
    producer = BusProducer(bootstrap, settings)
    producer.send_and_wait(topic, envelope)
    producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             consumer_timeout_ms=10_000)
    record = next(iter(consumer))
    consumer.close()
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"fr.pivot.lease.notice_given.v1"
    assert headers["ce_subject"] == b"lease_8c1d"
    assert headers["content-type"] == b"application/json"
    assert record.key == b"lease_8c1d"
    assert record.value == envelope.data
    back = Envelope.from_kafka(record.key, record.value, record.headers)
    assert (back.id, back.type, back.source, back.subject, back.dataschema, back.data) == (
        envelope.id, envelope.type, envelope.source, envelope.subject, envelope.dataschema,
        envelope.data)


def test_restart_resumes_after_committed_offsets_without_loss(
    bootstrap: str, topic_suffix: str
) -> None:
    settings = KafkaSettings()
    topic, group = f"pivot.raw.t{topic_suffix}", f"g-{topic_suffix}"
    ensure_topics(bootstrap, [topic], settings)
    _produce(bootstrap, topic, settings, 0, 30)
    first = _collect(bootstrap, topic, group, settings, expect=30)
    _produce(bootstrap, topic, settings, 30, 20)
    second = _collect(bootstrap, topic, group, settings, expect=20)
    assert sorted(first) == sorted(f"evt-{i}" for i in range(30))
    assert sorted(second) == sorted(f"evt-{i}" for i in range(30, 50))


def test_crash_before_commit_redelivers_the_batch(bootstrap: str, topic_suffix: str) -> None:
    settings = KafkaSettings()
    topic, group = f"pivot.raw.t{topic_suffix}", f"g-{topic_suffix}"
    ensure_topics(bootstrap, [topic], settings)
    _produce(bootstrap, topic, settings, 0, 25)
    processed: list[str] = []

    def crashing(records: list) -> None:
        processed.extend(Envelope.from_kafka(r.key, r.value, r.headers).id for r in records)
        raise Crash  # the effects happened, the offsets were never committed

    loop = ConsumerLoop(bootstrap, [topic], group, crashing, settings)
    with pytest.raises(Crash):
        loop.run()
    assert processed
    again = _collect(bootstrap, topic, group, settings, expect=25)
    assert sorted(again) == sorted(f"evt-{i}" for i in range(25))
    assert set(processed) <= set(again)


def test_failing_batch_is_retried_not_skipped(bootstrap: str, topic_suffix: str) -> None:
    settings = KafkaSettings()
    topic, group = f"pivot.raw.t{topic_suffix}", f"g-{topic_suffix}"
    ensure_topics(bootstrap, [topic], settings)
    _produce(bootstrap, topic, settings, 0, 12)
    failures = {"left": 2}
    done: list[str] = []

    def flaky(records: list) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("store unavailable")
        done.extend(Envelope.from_kafka(r.key, r.value, r.headers).id for r in records)

    loop = ConsumerLoop(bootstrap, [topic], group, flaky, settings, error_backoff_s=0.1)
    thread = run_in_thread(loop)
    deadline = time.monotonic() + 30
    while len(done) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    loop.stop()
    thread.join(15)
    assert failures["left"] == 0
    assert sorted(done) == sorted(f"evt-{i}" for i in range(12))


def test_stop_finishes_the_batch_and_commits(bootstrap: str, topic_suffix: str) -> None:
    settings = KafkaSettings()
    topic, group = f"pivot.raw.t{topic_suffix}", f"g-{topic_suffix}"
    ensure_topics(bootstrap, [topic], settings)
    _produce(bootstrap, topic, settings, 0, 40)
    handled: list[str] = []
    entered = threading.Event()
    loop: ConsumerLoop

    def slow(records: list) -> None:
        entered.set()
        loop.stop()  # a SIGTERM arriving mid-batch
        time.sleep(0.3)
        handled.extend(Envelope.from_kafka(r.key, r.value, r.headers).id for r in records)

    loop = ConsumerLoop(bootstrap, [topic], group, slow, settings)
    thread = run_in_thread(loop)
    assert entered.wait(30)
    thread.join(15)
    assert not thread.is_alive() and handled
    rest = _collect(bootstrap, topic, group, settings, expect=40 - len(handled))
    assert sorted(handled + rest) == sorted(f"evt-{i}" for i in range(40))
    assert not set(handled) & set(rest), "a committed batch was delivered again"


def test_worker_process_exits_cleanly_on_sigterm(bootstrap: str, tmp_path) -> None:
    env = {**os.environ, "PIVOT_KAFKA_BOOTSTRAP": bootstrap,
           "PIVOT_DATABASE_URL": f"sqlite:///{tmp_path / 'pivot.db'}"}
    proc = subprocess.Popen([sys.executable, "-m", "pivot", "worker"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        while not any("workers running" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "worker exited before running: " + "".join(lines)
            lines.append(line)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
