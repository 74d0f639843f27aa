"""Dead letters: the original record, unchanged, plus headers saying what went wrong.

Written by the stages (:func:`dead_letter`), read by operators (:func:`read_dead_letters`) and
sent back to their original topic by :func:`replay`, unchanged, so the event keeps its id and
idempotency still holds (consumers that had applied it skip it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata
from sqlalchemy import select

from observability.metrics import PivotMetrics
from observability.tracing import current_trace_id
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.errors import BrokerUnavailable, ConfigurationError
from pivot.store import Store
from pivot.store.tables import DeadLetterReplay

PREFIX = "pivot_dlq_"
STAGE = PREFIX + "stage"
ERROR_CLASS = PREFIX + "error_class"
MESSAGE = PREFIX + "message"
ATTEMPTS = PREFIX + "attempts"
ORIGINAL_TOPIC = PREFIX + "topic"
ORIGINAL_PARTITION = PREFIX + "partition"
ORIGINAL_OFFSET = PREFIX + "offset"
TRACE_ID = PREFIX + "trace_id"
FAILED_AT = PREFIX + "failed_at"


def dead_letter(
    producer: BusProducer,
    connector: str,
    record: ConsumerRecord,
    *,
    stage: str,
    error: BaseException,
    attempts: int = 1,
) -> FutureRecordMetadata:
    """Send ``record`` to ``pivot.dlq.<connector>`` with its error headers."""
    headers = [(k, v) for k, v in (record.headers or []) if not k.startswith(PREFIX)]
    meta = {
        STAGE: stage,
        ERROR_CLASS: type(error).__name__,
        MESSAGE: str(error)[:1000],
        ATTEMPTS: str(attempts),
        ORIGINAL_TOPIC: record.topic,
        ORIGINAL_PARTITION: str(record.partition),
        ORIGINAL_OFFSET: str(record.offset),
        TRACE_ID: current_trace_id() or "",
        FAILED_AT: f"{time.time():.3f}",
    }
    headers.extend((k, v.encode()) for k, v in meta.items())
    return producer.send_raw(topics.dlq(connector), record.key, record.value, headers)


REPLAY_OF = "pivot_replay_of"


@dataclass(frozen=True)
class DeadLetter:
    """One record of ``pivot.dlq.<connector>`` and why it is there."""

    connector: str
    partition: int
    offset: int
    event_id: str | None
    event_type: str | None
    stage: str
    error_class: str
    message: str
    attempts: int
    original_topic: str
    original_partition: int
    original_offset: int
    trace_id: str
    failed_at: str
    key: bytes | None = field(repr=False, default=None)
    value: bytes | None = field(repr=False, default=None)
    headers: tuple[tuple[str, bytes], ...] = field(repr=False, default=())
    replayed: bool = False

    @property
    def id(self) -> str:
        """Identifier within the connector's dead-letter topic: ``<partition>-<offset>``."""
        return f"{self.partition}-{self.offset}"

    def matches(self, wanted: str) -> bool:
        """True when ``wanted`` is this letter's id or its event id."""
        return wanted in (self.id, self.event_id)

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly view (without the payload)."""
        return {
            "id": self.id, "connector": self.connector, "event_id": self.event_id,
            "event_type": self.event_type, "stage": self.stage, "error_class": self.error_class,
            "message": self.message, "attempts": self.attempts,
            "original": {"topic": self.original_topic, "partition": self.original_partition,
                         "offset": self.original_offset},
            "trace_id": self.trace_id or None, "failed_at": self.failed_at,
            "replayed": self.replayed,
        }


def _letter(connector: str, record: ConsumerRecord) -> DeadLetter:
    h = {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}

    def number(name: str) -> int:
        return int(h[name]) if h.get(name, "").lstrip("-").isdigit() else -1

    return DeadLetter(
        connector=connector, partition=record.partition, offset=record.offset,
        event_id=h.get("ce_id"), event_type=h.get("ce_type"), stage=h.get(STAGE, "?"),
        error_class=h.get(ERROR_CLASS, "?"), message=h.get(MESSAGE, ""),
        attempts=max(1, number(ATTEMPTS)), original_topic=h.get(ORIGINAL_TOPIC, ""),
        original_partition=number(ORIGINAL_PARTITION), original_offset=number(ORIGINAL_OFFSET),
        trace_id=h.get(TRACE_ID, ""), failed_at=h.get(FAILED_AT, ""),
        key=record.key, value=record.value, headers=tuple(record.headers or ()),
    )


def read_dead_letters(
    bootstrap: str, connectors: Iterable[str], store: Store | None = None, timeout_s: float = 10.0
) -> list[DeadLetter]:
    """Every dead letter of the connectors, oldest first per partition, with its replay state."""
    letters: list[DeadLetter] = []
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             client_id="pivot-dlq-reader")
    try:
        existing = consumer.topics()
        for connector in connectors:
            topic = topics.dlq(connector)
            if topic not in existing:
                continue
            numbers = sorted(consumer.partitions_for_topic(topic) or [])
            partitions = [TopicPartition(topic, p) for p in numbers]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            deadline = time.monotonic() + timeout_s
            while any(consumer.position(tp) < ends[tp] for tp in partitions):
                if time.monotonic() > deadline:
                    raise BrokerUnavailable(f"reading {topic} took longer than {timeout_s} s")
                for records in consumer.poll(timeout_ms=200).values():
                    letters.extend(_letter(connector, r) for r in records)
    except KafkaError as exc:
        raise BrokerUnavailable(f"cannot read dead letters: {exc}") from exc
    finally:
        consumer.close()
    if store is not None and letters:
        with store.read_session() as session:
            done = {(r.connector, r.partition, r.offset, r.failed_at)
                    for r in session.scalars(select(DeadLetterReplay))}
        letters = [replace(d, replayed=(d.connector, d.partition, d.offset, d.failed_at) in done)
                   for d in letters]
    return letters


def select_letters(
    letters: list[DeadLetter], ids: Iterable[str] = (), everything: bool = False
) -> list[DeadLetter]:
    """The letters to replay: the named ones (even if replayed before), or all not yet replayed."""
    wanted = list(ids)
    if wanted:
        unknown = [w for w in wanted if not any(d.matches(w) for d in letters)]
        if unknown:
            raise ConfigurationError(f"no dead letter with id {', '.join(unknown)}")
        return [d for d in letters if any(d.matches(w) for w in wanted)]
    if everything:
        return [d for d in letters if not d.replayed]
    raise ConfigurationError("say which dead letters to replay: --id ID (repeatable) or --all")


def replay(
    producer: BusProducer, store: Store, letters: Iterable[DeadLetter],
    metrics: PivotMetrics | None = None, on_each: Callable[[DeadLetter], None] | None = None,
) -> int:
    """Send each letter back to its original topic, unchanged (same event id), and record it."""
    count = 0
    for letter in letters:
        if not letter.original_topic:
            raise ConfigurationError(f"dead letter {letter.id} does not name its original topic")
        headers = [(k, v) for k, v in letter.headers if not k.startswith(PREFIX) and k != REPLAY_OF]
        headers.append((REPLAY_OF, f"{topics.dlq(letter.connector)}/{letter.id}".encode()))
        producer.wait([producer.send_raw(letter.original_topic, letter.key, letter.value, headers)])
        with store.session() as session:
            session.merge(DeadLetterReplay(connector=letter.connector, partition=letter.partition,
                                           offset=letter.offset, failed_at=letter.failed_at,
                                           event_id=letter.event_id))
        if metrics is not None:
            metrics.replayed.labels(letter.connector).inc()
        count += 1
        if on_each is not None:
            on_each(letter)
    return count
