"""Dead letters: the original record, unchanged, plus headers saying what went wrong.

Written by the stages (:func:`dead_letter`), read by operators (:func:`read_dead_letters`) and
sent back to their original topic by :func:`replay`, unchanged, so the event keeps its id and
idempotency still holds (consumers that had applied it skip it).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata
from sqlalchemy import select

from observability.logging import scrub
from observability.metrics import PivotMetrics
from observability.tracing import (
    carrier,
    consumer_span,
    current_link,
    current_trace_id,
    trace_id_of,
    with_current_context,
)
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
    """Send ``record`` to ``pivot.dlq.<connector>`` with its error headers.

    The letter keeps the record's trace: its send span is a child of the current span (the
    failing ``process`` span) when there is one, else of the record's own ``traceparent``.
    The error message is scrubbed of contact data and quoted inputs.
    """
    headers = [(k, v) for k, v in (record.headers or []) if not k.startswith(PREFIX)]
    trace_id = current_trace_id()
    if trace_id is not None:
        headers = with_current_context(headers)
    else:
        trace_id = trace_id_of(carrier(headers))
    meta = {
        STAGE: stage,
        ERROR_CLASS: type(error).__name__,
        MESSAGE: scrub(str(error)[:1000]),
        ATTEMPTS: str(attempts),
        ORIGINAL_TOPIC: record.topic,
        ORIGINAL_PARTITION: str(record.partition),
        ORIGINAL_OFFSET: str(record.offset),
        TRACE_ID: trace_id or "",
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
            while True:
                if time.monotonic() > deadline:
                    raise BrokerUnavailable(f"reading {topic} took longer than {timeout_s} s")
                polled = consumer.poll(timeout_ms=200)
                for records in polled.values():
                    letters.extend(_letter(connector, r) for r in records)
                # Past the reported ends and nothing more came: done. (Some brokers report an
                # end short of the last batch's records, so the ends alone do not tell.)
                if not polled and all(consumer.position(tp) >= ends[tp] for tp in partitions):
                    break
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


class DeadLetterDepth:
    """Dead letters not replayed yet, per connector: the source of ``pivot_dlq_depth``.

    The letters of ``pivot.dlq.<connector>`` (end minus beginning offsets of its partitions)
    less those the store records as replayed: a short-lived consumer (two offset requests, one
    fetch of the last batch) and one query, whatever the number of letters. A connector without
    a dead-letter topic has 0. After a memory-only broker restarted empty, replays recorded for
    its former letters may hide as many new ones at the same offsets.
    """

    def __init__(
        self, bootstrap: str, connectors: Iterable[str], store: Store, timeout_ms: int = 3_000
    ) -> None:
        self.bootstrap = bootstrap
        self.connectors = list(connectors)
        self.store = store
        self.timeout_ms = timeout_ms
        self._lock = threading.Lock()  # one count at a time, whatever the scraping threads

    def __call__(self) -> dict[str, int]:
        """The count of each connector; raises :class:`BrokerUnavailable` when Kafka does not answer."""
        with self._lock:
            partitions, begin, end = self._offsets()
        with self.store.read_session() as session:
            rows = session.execute(select(DeadLetterReplay.connector, DeadLetterReplay.partition,
                                          DeadLetterReplay.offset)).all()
        replayed: dict[str, set[tuple[int, int]]] = {}
        for connector, partition, offset in rows:
            tp = TopicPartition(topics.dlq(connector), partition)
            if tp in end and begin[tp] <= offset < end[tp]:  # a letter still in the topic
                replayed.setdefault(connector, set()).add((partition, offset))
        depth = {connector: 0 for connector in self.connectors}
        for connector, tps in partitions.items():
            letters = sum(end[tp] - begin[tp] for tp in tps)
            depth[connector] = max(0, letters - len(replayed.get(connector, ())))
        return depth

    def _offsets(
        self,
    ) -> tuple[dict[str, list[TopicPartition]], dict[TopicPartition, int], dict[TopicPartition, int]]:
        """Partitions of each existing dead-letter topic, their beginning and end offsets.

        The end is the highwater of a fetch at the last record: the embedded broker answers
        offset requests with the start of the last batch + 1, a fetch tells the truth.
        """
        consumer: KafkaConsumer | None = None
        try:
            consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                client_id="pivot-dlq-depth", request_timeout_ms=self.timeout_ms + 1_000,
                bootstrap_timeout_ms=self.timeout_ms, fetch_max_wait_ms=50,
            )
            existing = consumer.topics()
            partitions = {
                connector: [TopicPartition(topics.dlq(connector), p)
                            for p in sorted(consumer.partitions_for_topic(topics.dlq(connector)) or [])]
                for connector in self.connectors if topics.dlq(connector) in existing
            }
            every = [tp for tps in partitions.values() for tp in tps]
            if not every:
                return partitions, {}, {}
            begin = consumer.beginning_offsets(every, timeout_ms=self.timeout_ms)
            listed = consumer.end_offsets(every, timeout_ms=self.timeout_ms)
            end = {tp: begin[tp] for tp in every}
            filled = [tp for tp in every if listed[tp] > begin[tp]]
            if filled:
                consumer.assign(filled)
                for tp in filled:
                    consumer.seek(tp, max(begin[tp], listed[tp] - 1))
                deadline = time.monotonic() + self.timeout_ms / 1000
                while any(consumer.highwater(tp) is None for tp in filled):
                    if time.monotonic() > deadline:
                        raise BrokerUnavailable("the dead-letter topics did not answer a fetch")
                    consumer.poll(timeout_ms=100)
                end.update({tp: consumer.highwater(tp) for tp in filled})
            return partitions, begin, end
        except KafkaError as exc:
            raise BrokerUnavailable(f"cannot count dead letters: {exc}") from exc
        finally:
            if consumer is not None:
                with contextlib.suppress(KafkaError):  # best effort
                    consumer.close()


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
    """Send each letter back to its original topic, unchanged (same event id), and record it.

    Each replay is a ``"pivot.dlq.<connector> process"`` span continuing the letter's trace
    (so the redelivery joins the trace of the original message) and linked to the current
    span (the operator's request).
    """
    count = 0
    for letter in letters:
        if not letter.original_topic:
            raise ConfigurationError(f"dead letter {letter.id} does not name its original topic")
        headers = [(k, v) for k, v in letter.headers if not k.startswith(PREFIX) and k != REPLAY_OF]
        headers.append((REPLAY_OF, f"{topics.dlq(letter.connector)}/{letter.id}".encode()))
        with consumer_span(topics.dlq(letter.connector), carrier(letter.headers), group=None,
                           partition=letter.partition, offset=letter.offset,
                           message_id=letter.event_id, links=current_link()):
            future = producer.send_raw(letter.original_topic, letter.key, letter.value,
                                       with_current_context(headers))
        producer.wait([future])
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
