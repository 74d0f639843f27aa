"""Deliver stage: canonical events → one satellite, exactly once per event id.

Records are applied in offset order (per-key order). For each event the connector's
outbound function calls the satellite with the event id as idempotency key, retrying
retryable failures in place; a final failure goes to ``pivot.dlq.<connector>`` and the
partition moves on. Links and golden records the delivery produced are written after the
call (no transaction stays open across HTTP), follow-up events are produced and acknowledged,
then the event ids are marked processed; offsets are committed last.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord

from canonical_model.events import UnknownEventType, parse_event
from connectors.sdk.base import Connector, DeliveryFailure, Outbound
from observability.metrics import Outcome, PivotMetrics, Stage
from observability.tracing import consumer_span
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import INGESTED_AT, Envelope, EnvelopeError
from pivot.errors import ContractViolation, PivotError
from pivot.pipeline import canonical
from pivot.pipeline.context import DeliveryContext
from pivot.pipeline.dlq import dead_letter
from pivot.pipeline.survivorship import Survivorship
from pivot.store import Store, idempotency, outbox

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
            data = json.loads(env.data)
            rank = row.priority(data) if isinstance(data, dict) else _LAST
        except ValueError:
            rank = _LAST
        key = (record.partition, record.key)
        ranks[key] = min(ranks.get(key, rank), rank)
    if not ranks:
        return envelopes
    # A stable sort on a per-key rank never swaps two records of the same key.
    return sorted(envelopes, key=lambda e: ranks.get((e[0].partition, e[0].key), _LAST))


class DeliverProcessor:
    """Batch handler of the canonical topics a connector delivers."""

    def __init__(
        self, connector: Connector, store: Store, producer: BusProducer, metrics: PivotMetrics,
        survivorship: Survivorship | None = None,
    ) -> None:
        self.connector = connector
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
        """Process one polled batch."""
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

        futures = []
        delivered: list[tuple[str, str]] = []
        skipped: list[tuple[str, str]] = []
        published: list[canonical.Staged] = []
        own_source = canonical.connector_source(name)
        for record, env, error in envelopes:
            if env is not None and env.type not in self.connector.outbound:
                continue
            if (env is not None and env.source == own_source and env.id not in done
                    and not self.connector.outbound[env.type].from_self):
                skipped.append((env.id, env.type))  # the satellite's own change: no echo
                done.add(env.id)
                continue
            headers = {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}
            with consumer_span(record.topic, headers, group=self.group, partition=record.partition,
                               offset=record.offset, message_id=env.id if env else None) as span:
                if env is None:
                    futures.append(self._dead(record, error or EnvelopeError("no envelope"), 1))
                    continue
                if env.id in done:
                    self.metrics.events_out.labels(name, env.type, Outcome.DUPLICATE).inc()
                    continue
                try:
                    staged = self._deliver(env)
                except DeliveryFailure as exc:
                    span.set_attribute("error.type", type(exc.cause).__name__)
                    self.metrics.delivery_errors.labels(name, type(exc.cause).__name__).inc()
                    futures.append(self._dead(record, exc.cause, exc.attempts))
                    continue
                for item in staged:
                    futures.append(item.send(self.producer))
                    published.append(item)
                done.add(env.id)
                delivered.append((env.id, env.type))
                self._observe_latency(env)
        self.producer.wait(futures)
        if delivered or skipped:
            with self.store.session() as session:
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

    def _deliver(self, env: Envelope) -> list[canonical.Staged]:
        """Call the satellite, then record links and golden records; return events to publish."""
        try:
            event = parse_event(env.type, env.data)
        except (UnknownEventType, ValueError) as exc:
            raise DeliveryFailure(ContractViolation(f"{env.type}: {exc}"), 1) from exc
        with self.store.read_session() as session:
            ctx = DeliveryContext(session, self.connector.name, self.connector.client, env.id,
                                  env.time)
            produced = self.connector.deliver(event, ctx)
        carried = canonical.carried_headers(env.headers)
        with self.store.session() as session:
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
