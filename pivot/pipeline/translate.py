"""Translate stage: ``pivot.raw.<connector>`` → canonical events on ``pivot.canonical.<entity>``.

Per polled batch: map every record reading the store (xref look-ups, golden records), then
write what the batch made (links, golden records, lineage, outbox) set-based in one short
transaction (a few statements per batch, not per record), so other writers (the API's journal,
other workers) wait for the writes only, not for the mapping. A mapping that must read its own
batch's writes of that entity kind has them written first (look-ups see the batch's links
without). Then produce the canonical events and the dead letters
and wait for the broker's acks; the consumer loop commits the offsets afterwards. A link made
meanwhile by another worker fails the write (:class:`~pivot.errors.StoreConflict`) and the batch
is redone. A crash anywhere replays the batch, which maps to the same canonical ids and event
ids, so nothing is lost and nothing is applied twice.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kafka.consumer.fetcher import ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext

from connectors.sdk.base import Connector
from observability.metrics import Outcome, PivotMetrics, Stage
from observability.tracing import consumer_span
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import Envelope
from pivot.errors import MappingError, PivotError, StoreConflict
from pivot.pipeline import canonical
from pivot.pipeline.context import StoreContext
from pivot.pipeline.dlq import dead_letter
from pivot.pipeline.survivorship import Survivorship
from pivot.store import Store, journal, outbox

log = logging.getLogger(__name__)


class TranslateProcessor:
    """Batch handler of a connector's raw topic."""

    def __init__(
        self, connector: Connector, store: Store, producer: BusProducer, metrics: PivotMetrics,
        survivorship: Survivorship | None = None,
    ) -> None:
        self.connector = connector
        self.survivorship = survivorship
        self.store = store
        self.producer = producer
        self.metrics = metrics
        self.group = f"pivot.translate.{connector.name}"
        self.topic = topics.raw(connector.name)

    def __call__(self, records: list[ConsumerRecord]) -> None:
        """Process one polled batch."""
        started = time.perf_counter()
        name = self.connector.name
        translated: list[str] = []
        rejected: list[tuple[ConsumerRecord, PivotError, SpanContext]] = []
        counted: list[tuple[str, str]] = []
        stager = canonical.Stager(None, connector=name,
                                  mapping_version=self.connector.mapping_version,
                                  survivorship=self.survivorship)
        with self.store.reader() as reading:

            def write_queued(done: list[str] | None = None) -> None:
                if not (ctx.pending_links or stager.dirty or done):
                    return
                with self.store.session() as writing:
                    ctx.flush(writing)
                    stager.flush(writing)
                    journal.mark_translated(writing, done or [])
                reading.rollback()  # its snapshot predates these writes: the next read sees them

            def before_read(kind: str | None) -> None:
                if stager.holds(kind):
                    write_queued()

            ctx = StoreContext(reading, name, defer_writes=True, before_read=before_read)
            batch = [self._read(record) for record in records]
            ctx.prefetch(key for item in batch for key in item.hints)
            for item in batch:
                record, raw = item.record, item.raw
                headers = _headers(record)
                with consumer_span(record.topic, headers, group=self.group,
                                   partition=record.partition, offset=record.offset) as span:
                    try:
                        if item.error is not None or raw is None:
                            raise item.error or MappingError("no envelope")
                        span.set_attribute("messaging.message.id", raw.id)
                        result = self.connector.translate_payload(item.payload, ctx)
                        stager.add(result.events, origin_id=result.source_event_id or raw.id,
                                   source_id=raw.key,
                                   headers=canonical.carried_headers(raw.headers))
                        counted.extend((e.entity_model.kind, e.event_type) for e in result.events)
                        translated.append(raw.id)
                    except StoreConflict:
                        raise  # the whole batch is redone, not this record dead-lettered
                    except PivotError as exc:
                        span.set_attribute("error.type", type(exc).__name__)
                        rejected.append((record, exc, span.get_span_context()))
        write_queued(translated)
        staged = stager.staged
        futures = [item.send(self.producer) for item in staged]
        for record, exc, failed in rejected:
            log.warning("dead-lettering %s[%d]@%d: %s", record.topic, record.partition,
                        record.offset, exc)
            with trace.use_span(NonRecordingSpan(failed)):  # the letter is sent from the failure
                futures.append(dead_letter(self.producer, name, record, stage=Stage.TRANSLATE,
                                           error=exc))
        self.producer.wait(futures)
        if staged:
            with self.store.session() as session:
                outbox.mark_published(session, [item.event_id for item in staged])
        for (entity, event_type), n in Counter(counted).items():
            self.metrics.events_in.labels(name, entity, event_type, Outcome.OK).inc(n)
            self.metrics.published.labels(name, entity).inc(n)
        for (entity, rule, severity), n in Counter(stager.findings).items():
            self.metrics.quality_findings.labels(name, entity, rule, severity).inc(n)
        if rejected:
            self.metrics.events_in.labels(name, "-", "-", Outcome.DLQ).inc(len(rejected))
            self.metrics.dlq_writes.labels(name, Stage.TRANSLATE).inc(len(rejected))
        elapsed = (time.perf_counter() - started) / max(1, len(records))
        self.metrics.processing_seconds.labels(Stage.TRANSLATE, name).observe(elapsed)


    def _read(self, record: ConsumerRecord) -> _Read:
        """Envelope, payload (or why it cannot be read) and identity hints of one record."""
        try:
            raw = Envelope.from_kafka(record.key, record.value, record.headers)
            payload = self.connector.parse(raw.data)
        except PivotError as exc:
            return _Read(record, error=exc)
        try:
            hints = list(self.connector.identities(payload))
        except Exception:  # a hint is never worth a record: map it without
            log.debug("no identity hints for %s@%d", record.topic, record.offset, exc_info=True)
            hints = []
        return _Read(record, raw, payload, hints)


@dataclass(slots=True)
class _Read:
    """A record of the batch, read before it is mapped."""

    record: ConsumerRecord
    raw: Envelope | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    hints: list[tuple[str, str, str]] = field(default_factory=list)
    error: PivotError | None = None


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (record.headers or [])}
