"""The ceiling: the raw copy of figure 1 with confluent-kafka (librdkafka) instead of kafka-python.

Same records (the raw ERP lot payloads of figure 1, with their CloudEvents headers), same
broker, same loop: consume a batch, produce every record to another topic with its bytes and
headers untouched, flush (``acks`` all), commit the offsets, until ``messages`` were copied;
timed from the first batch. It is what this
machine and broker can move with a C client: the hub's bus stays kafka-python, so this bounds
from above what any Python stage here could reach. confluent-kafka is an optional dependency
(the ``bench`` extra); without it the figure is reported as not installed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.harness import raw_envelopes
from bench.pipeline import raw_erp_records
from pivot.bus.client import ensure_topics
from pivot.settings import KafkaSettings


@dataclass
class CeilingResult:
    """Records per second copied by confluent-kafka, or None when it is not installed."""

    messages: int
    per_s: float | None
    #: confluent-kafka's version (None: not installed).
    version: str | None
    copied: int = 0


def run(bootstrap: str, messages: int, settings: KafkaSettings | None = None,
        timeout_s: float = 120.0) -> CeilingResult:
    """Copy ``messages`` raw records topic to topic with confluent-kafka."""
    try:
        import confluent_kafka
    except ImportError:
        return CeilingResult(messages, None, None)
    s = settings or KafkaSettings(bootstrap=bootstrap, partitions=1)
    nonce = uuid.uuid4().hex[:8]
    source, target = f"bench.ceiling.raw.{nonce}", f"bench.ceiling.copy.{nonce}"
    ensure_topics(bootstrap, [source, target], s.model_copy(update={"partitions": 1}))
    common = {"bootstrap.servers": bootstrap, "client.id": "pivot-bench-ceiling"}
    loader = confluent_kafka.Producer({**common, "acks": "all", "linger.ms": s.linger_ms})
    for key, value, headers in raw_envelopes(raw_erp_records(messages)):
        while True:
            try:
                loader.produce(source, value=value, key=key, headers=headers)
                break
            except BufferError:
                loader.poll(0.05)
    loader.flush(60)
    consumer = confluent_kafka.Consumer({
        **common, "group.id": f"bench-ceiling-{nonce}", "enable.auto.commit": False,
        "fetch.wait.max.ms": s.fetch_max_wait_ms,
    })
    producer = confluent_kafka.Producer({**common, "acks": "all", "linger.ms": s.linger_ms})
    # assigned, not subscribed: the group join of the embedded broker (3 s) is not the figure
    consumer.assign([confluent_kafka.TopicPartition(source, 0, confluent_kafka.OFFSET_BEGINNING)])
    copied, started = 0, None
    deadline = time.monotonic() + timeout_s
    try:
        while copied < messages and time.monotonic() < deadline:
            batch = consumer.consume(num_messages=s.max_poll_records, timeout=1.0)
            if not batch:
                continue
            if started is None:
                started = time.perf_counter()
            for message in batch:
                if message.error():
                    continue
                _produce(producer, target, message)
                copied += 1
            producer.flush(30)
            consumer.commit(asynchronous=False)
        elapsed = time.perf_counter() - started if started is not None else 0.0
    finally:
        consumer.close()
        del producer, loader  # librdkafka clients go now, not when the broker is gone
    rate = copied / elapsed if elapsed and copied >= messages else 0.0
    return CeilingResult(messages, rate, confluent_kafka.__version__, copied)


def _produce(producer: Any, topic: str, message: Any) -> None:
    while True:
        try:
            producer.produce(topic, value=message.value(), key=message.key(),
                             headers=message.headers())
            return
        except BufferError:
            producer.poll(0.05)


def as_json(result: CeilingResult) -> dict[str, Any]:
    """The figure's keys in ``pivot bench --json``."""
    return {
        "confluent_raw_copy_per_s": round(result.per_s, 1) if result.per_s is not None else None,
        "confluent_kafka": result.version or "not installed",
    }
