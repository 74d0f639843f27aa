"""Deliver stage: canonical events → one satellite, exactly once per event id.

Records are applied in offset order (per-key order). For each event the connector's
outbound function calls the satellite with the event id as idempotency key, retrying
retryable failures in place; a final failure goes to ``pivot.dlq.<connector>`` and the
partition moves on. No transaction stays open across HTTP. The links and AI decisions the
batch's deliveries made are kept in memory (later events of the batch see them) and written
in one transaction with the batch's "processed" marks, once the follow-up events are
acknowledged; a delivery that produced follow-up events writes them, with the links so far,
before they are sent. Offsets are committed last. A crash before the batch's transaction
redoes the batch: the satellite calls carry the same idempotency keys.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord
from kafka.producer.future import FutureRecordMetadata

from canonical_model.events import UnknownEventType, parse_event
from connectors.sdk.base import Connector, DeliveryFailure, Outbound
from observability.metrics import Outcome, PivotMetrics, Stage
from observability.tracing import consumer_span
from pivot import jsoncodec
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import INGESTED_AT, Envelope, EnvelopeError
from pivot.errors import ContractViolation, PivotError
from pivot.pipeline import canonical
from pivot.pipeline.context import DeliveryContext, LinkBuffer
from pivot.pipeline.dlq import dead_letter
from pivot.pipeline.survivorship import Survivorship
from pivot.store import Store, idempotency, outbox
from pivot.store.decisions import Decision

log = logging.getLogger(__name__)

#: Rank of events without a priority: after every ranked one.
_LAST = 1_000


Parsed = tuple[ConsumerRecord, Envelope | None, PivotError | None]


def most_urgent_first(envelopes: list[Parsed], outbound: Mapping[str, Outbound[Any]]) -> list[Parsed]:
    """Reorder a batch by the rank of each key's most urgent event; per-key order is kept.

    Ranks come from the outbound rows' ``priority`` (lower first); a key without a ranked
    event goes last. Offsets are committed after the whole batch, so reordering is safe.
    """
    ranks: dict[tuple[int, bytes | None], int] = {}
    for record, env, _ in envelopes:
        row = outbound.get(env.type) if env is not None else None
        if env is None or row is None or row.priority is None:
            continue
        try:
            data = jsoncodec.loads(env.data)
            rank = row.priority(data) if isinstance(data, dict) else _LAST
        except ValueError:
            rank = _LAST
        key = (record.partition, record.key)
        ranks[key] = min(ranks.get(key, rank), rank)
    if not ranks:
        return envelopes
    # A stable sort on a per-key rank never swaps two records of the same key.
    return sorted(envelopes, key=lambda e: ranks.get((e[0].partition, e[0].key), _LAST))


@dataclass
class _Batch:
    """What the lanes of one batch share: appended to from several threads."""

    #: Event ids already delivered (before or in this batch).
    done: set[str]
    links: LinkBuffer = field(default_factory=LinkBuffer)
    decisions: list[tuple[str, Decision]] = field(default_factory=list)
    futures: list[FutureRecordMetadata] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    published: list[canonical.Staged] = field(default_factory=list)
    #: Held while a lane writes the buffers: one writer at a time.
    writing: threading.Lock = field(default_factory=threading.Lock)


class DeliverProcessor:
    """Batch handler of the canonical topics a connector delivers."""

    def __init__(
        self, connector: Connector, store: Store, producer: BusProducer, metrics: PivotMetrics,
        survivorship: Survivorship | None = None, concurrency: int = 1,
    ) -> None:
        self.connector = connector
        #: Keys of a batch delivered side by side (each key's records stay in order).
        self.concurrency = max(1, concurrency)
        self._executor: ThreadPoolExecutor | None = None
        self.survivorship = survivorship
        self.store = store
        self.producer = producer
        self.metrics = metrics
        self.group = f"pivot.deliver.{connector.name}"
        self.consumer_name = f"deliver:{connector.name}"
        self.topics = [topics.canonical(kind) for kind in connector.outbound_entities()]
        connector.on_retry = lambda _state: metrics.retries.labels(
            connector.name, Stage.DELIVER
        ).inc()

    def __call__(self, records: list[ConsumerRecord]) -> None:
        """Process one polled batch: its keys side by side, each key's records in order."""
        started = time.perf_counter()
        name = self.connector.name
        envelopes: list[Parsed] = []
        for record in records:
            try:
                env = Envelope.from_kafka(record.key, record.value, record.headers)
                envelopes.append((record, env, None))
            except EnvelopeError as exc:
                envelopes.append((record, None, exc))
        envelopes = most_urgent_first(envelopes, self.connector.outbound)
        wanted = [env.id for _, env, _ in envelopes if env and env.type in self.connector.outbound]
        with self.store.read_session() as session:
            done = idempotency.seen(session, self.consumer_name, wanted)

        batch = _Batch(done)
        lanes: dict[tuple[int, bytes | None], list[Parsed]] = {}
        for parsed in envelopes:
            lanes.setdefault((parsed[0].partition, parsed[0].key), []).append(parsed)
        if self.concurrency == 1 or len(lanes) == 1:
            for lane in lanes.values():
                self._lane(lane, batch)
        else:
            running = [self._pool().submit(self._lane, lane, batch) for lane in lanes.values()]
            wait(running)  # all of them, even when one failed: no call outlives its batch
            for future in running:
                future.result()
        self.producer.wait(batch.futures)
        delivered, skipped, published = batch.delivered, batch.skipped, batch.published
        if delivered or skipped or batch.links.pending or batch.decisions:
            with self.store.session() as session:
                DeliveryContext.write(session, batch.links, batch.decisions)
                outbox.mark_published(session, [item.event_id for item in published])
                idempotency.mark_many(session, self.consumer_name,
                                      [(eid, Outcome.OK) for eid, _ in delivered]
                                      + [(eid, Outcome.SKIPPED) for eid, _ in skipped])
        for _, event_type in delivered:
            self.metrics.events_out.labels(name, event_type, Outcome.OK).inc()
        for _, event_type in skipped:
            self.metrics.events_out.labels(name, event_type, Outcome.SKIPPED).inc()
        for item in published:
            self.metrics.published.labels(name, item.entity).inc()
        elapsed = (time.perf_counter() - started) / max(1, len(records))
        self.metrics.processing_seconds.labels(Stage.DELIVER, name).observe(elapsed)

    def _lane(self, lane: list[Parsed], batch: _Batch) -> None:
        """Deliver the records of one key, in order."""
        name = self.connector.name
        own_source = canonical.connector_source(name)
        for record, env, error in lane:
            if env is not None and env.type not in self.connector.outbound:
                continue
            if (env is not None and env.source == own_source and env.id not in batch.done
                    and not self.connector.outbound[env.type].from_self):
                batch.skipped.append((env.id, env.type))  # the satellite's own change: no echo
                batch.done.add(env.id)
                continue
            headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}
            with consumer_span(record.topic, headers, group=self.group, partition=record.partition,
                               offset=record.offset, message_id=env.id if env else None) as span:
                if env is None:
                    batch.futures.append(
                        self._dead(record, error or EnvelopeError("no envelope"), 1))
                    continue
                if env.id in batch.done:
                    self.metrics.events_out.labels(name, env.type, Outcome.DUPLICATE).inc()
                    continue
                try:
                    staged = self._deliver(env, batch)
                except DeliveryFailure as exc:
                    span.set_attribute("error.type", type(exc.cause).__name__)
                    self.metrics.delivery_errors.labels(name, type(exc.cause).__name__).inc()
                    batch.futures.append(self._dead(record, exc.cause, exc.attempts))
                    continue
                for item in staged:
                    batch.futures.append(item.send(self.producer))
                    batch.published.append(item)
                batch.done.add(env.id)
                batch.delivered.append((env.id, env.type))
                self._observe_latency(env)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency,
                                                thread_name_prefix=f"deliver-{self.connector.name}")
        return self._executor

    def _deliver(self, env: Envelope, batch: _Batch) -> list[canonical.Staged]:
        """Call the satellite; return the follow-up events to publish, already recorded.

        The links and decisions it makes join the batch's buffers; when it produced events,
        the buffers are written with their golden records now (before the events are sent).
        """
        try:
            event = parse_event(env.type, env.data)
        except (UnknownEventType, ValueError) as exc:
            raise DeliveryFailure(ContractViolation(f"{env.type}: {exc}"), 1) from exc
        with self.store.reader() as session:
            ctx = DeliveryContext(session, self.connector.name, self.connector.client, env.id,
                                  env.time, links=batch.links, decisions=batch.decisions)
            produced = self.connector.deliver(event, ctx)
        if not produced:
            return []  # its links and decisions are written with the batch
        carried = canonical.carried_headers(env.headers)
        with batch.writing, self.store.session() as session:
            ctx.flush(session)
            stager = canonical.Stager(session, connector=self.connector.name,
                                      mapping_version=self.connector.mapping_version,
                                      survivorship=self.survivorship)
            stager.add(produced, origin_id=env.id, headers=carried)
            staged = stager.flush()
        for entity, rule, severity in stager.findings:
            self.metrics.quality_findings.labels(self.connector.name, entity, rule, severity).inc()
        return staged

    def _dead(self, record: ConsumerRecord, error: BaseException, attempts: int):  # type: ignore[no-untyped-def]
        log.warning("dead-lettering %s[%d]@%d after %d attempt(s): %s", record.topic,
                    record.partition, record.offset, attempts, error)
        self.metrics.events_out.labels(self.connector.name, "-", Outcome.DLQ).inc()
        self.metrics.dlq_writes.labels(self.connector.name, Stage.DELIVER).inc()
        return dead_letter(self.producer, self.connector.name, record, stage=Stage.DELIVER,
                           error=error, attempts=attempts)

    def _observe_latency(self, env: Envelope) -> None:
        ingested = env.headers.get(INGESTED_AT)
        if ingested:
            try:
                latency = time.time() - float(ingested)
            except ValueError:
                return
            self.metrics.end_to_end_seconds.labels(self.connector.name).observe(max(0.0, latency))
