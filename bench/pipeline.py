"""Translate pipeline vs raw copy: the same raw ERP messages, side by side on one broker.

(a) the reference: a kafka-python consumer copies the raw records to another topic, bytes
    untouched (no parsing);
(b) the hub: the real translate stage (``TranslateProcessor`` in a ``ConsumerLoop``): parse,
    validate into the canonical model, xref look-ups and golden-record writes in the store,
    quality rules, CloudEvents headers, outbox, tracing on (SDK tracer, batch span processor)
    and metrics on;
(c) the floor: the raw copy of (a) that also gives each record the two spans the hub gives
    it (its ``process`` span continuing the record's trace, the ``send`` span of the record it
    produces, whose context goes in that record's headers), through the same tracing helpers
    and batch span processor as (b), and does nothing else. No translate stage traced as the
    issue asks can be faster than (c): (c)/(a) bounds the ratio (b)/(a).

Each reads N records already on the broker and stops when N have been produced downstream.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry

from connectors.erp import ErpConnector
from connectors.erp.data import generate_dataset
from connectors.erp.poll import export_payload
from observability.metrics import PivotMetrics
from observability.tracing import (
    configure_tracing,
    consumer_span,
    inject,
    producer_span,
    span_processor,
)
from pivot.bus import topics
from pivot.bus.client import BusProducer, ensure_topics
from pivot.bus.consumer import ConsumerLoop, run_in_thread
from pivot.bus.envelope import INGESTED_AT, RAW_EVENT_TYPE, Envelope
from pivot.pipeline.canonical import connector_source
from pivot.pipeline.translate import TranslateProcessor
from pivot.settings import KafkaSettings
from pivot.store import Store


class _Discard(SpanExporter):
    """Counts the spans a batch processor hands over, keeps none."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans):  # type: ignore[no-untyped-def]
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


@dataclass
class PipelineResult:
    """Throughputs of the raw copy and of the hub's translate stage on the same records."""

    messages: int
    message_bytes: int
    raw_copy_per_s: float
    hub_per_s: float
    spans: int
    #: The raw copy with the two spans of each record and nothing else (the floor).
    traced_copy_per_s: float = 0.0

    @property
    def ratio(self) -> float:
        """Hub throughput over raw-copy throughput."""
        return self.hub_per_s / self.raw_copy_per_s if self.raw_copy_per_s else 0.0

    @property
    def floor_ratio(self) -> float:
        """Traced-copy throughput over raw-copy throughput: the best ratio tracing leaves."""
        return self.traced_copy_per_s / self.raw_copy_per_s if self.raw_copy_per_s else 0.0


def raw_erp_records(count: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """``count`` raw ERP lot payloads (~1 KB JSON each) as (key, value) pairs."""
    lots = max(20, count)
    dataset = generate_dataset(seed, lots)
    out = []
    for record in dataset.lots[:count]:
        payload = export_payload("lots", record)
        out.append((payload["key"].encode(), json.dumps(payload, ensure_ascii=False).encode()))
    return out


def _produce_raw(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = BusProducer(bootstrap, KafkaSettings(bootstrap=bootstrap))
    futures = []
    now = f"{time.time():.6f}"
    for key, value in records:
        env = Envelope(id=str(uuid.uuid4()), type=RAW_EVENT_TYPE, source=connector_source("erp"),
                       data=value, key=key.decode(), headers={INGESTED_AT: now})
        futures.append(producer.send(topic, env))
    producer.wait(futures, 120)
    producer.close()


def raw_copy(bootstrap: str, source: str, target: str, count: int, settings: KafkaSettings,
             *, traced: bool = False) -> float:
    """Copy ``count`` records ``source`` → ``target`` with kafka-python; return records/s.

    ``traced``: each record also gets the hub's ``process`` and ``send`` spans (the floor).
    """
    consumer = KafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"bench-copy-{uuid.uuid4()}",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             max_poll_records=settings.max_poll_records,
                             fetch_max_wait_ms=settings.fetch_max_wait_ms,
                             session_timeout_ms=settings.session_timeout_ms,
                             heartbeat_interval_ms=settings.heartbeat_interval_ms,
                             max_poll_interval_ms=settings.max_poll_interval_ms)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=settings.linger_ms)
    copied = 0
    started = None
    while copied < count:
        batch = consumer.poll(timeout_ms=1000)
        if started is None and batch:
            started = time.perf_counter()
        for records in batch.values():
            for record in records:
                if traced:
                    _traced_send(producer, target, record)
                else:
                    producer.send(target, key=record.key, value=record.value,
                                  headers=record.headers)
                copied += 1
        producer.flush()
        consumer.commit()
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    producer.close()
    return count / elapsed if elapsed else 0.0


def _traced_send(producer: KafkaProducer, target: str, record: ConsumerRecord) -> None:
    """Send a record as it is, in the two spans the hub's translate stage gives a record."""
    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
    with consumer_span(record.topic, headers, group="bench-floor", partition=record.partition,
                       offset=record.offset, message_id=headers.get("ce_id")), \
            producer_span(target, headers.get("ce_id"), event_type=headers.get("ce_type")):
        context = inject({})
        out = [(k, v) for k, v in record.headers if k not in context]
        out += [(k, v.encode()) for k, v in context.items()]
        producer.send(target, key=record.key, value=record.value, headers=out)


@contextlib.contextmanager
def _tracing() -> Iterator[_Discard]:
    """The hub's tracing as the benchmark runs it: SDK provider, batch processor, no export."""
    exporter = _Discard()
    if configure_tracing("pivot-bench") is None:  # OTEL_SDK_DISABLED=true: no spans
        yield exporter
        return
    processor = BatchSpanProcessor(exporter)
    try:
        with span_processor(processor):
            yield exporter
    finally:
        processor.shutdown()


def hub_translate(bootstrap: str, count: int, workdir: Path, settings: KafkaSettings) -> tuple[float, int]:
    """Run the real translate stage of the ERP connector over ``count`` raw records."""
    store = Store(f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}")
    store.migrate()
    metrics = PivotMetrics(CollectorRegistry())
    producer = BusProducer(bootstrap, settings)
    processor = TranslateProcessor(ErpConnector(), store, producer, metrics)
    loop = ConsumerLoop(bootstrap, [processor.topic], f"bench-{uuid.uuid4()}", processor, settings)
    with _tracing() as exporter:
        thread = run_in_thread(loop)
        started = None
        while metrics.count(metrics.events_in, connector="erp") < count:
            if started is None and metrics.count(metrics.events_in, connector="erp") > 0:
                started = time.perf_counter()
            time.sleep(0.05)
        elapsed = time.perf_counter() - (started or time.perf_counter())
        loop.stop()
        thread.join(15)
    producer.close()
    store.dispose()
    return (count / elapsed if elapsed else 0.0), exporter.spans


def run(bootstrap: str, count: int, workdir: Path) -> PipelineResult:
    """The three measurements on the same records and broker."""
    settings = KafkaSettings(bootstrap=bootstrap, partitions=1)
    records = raw_erp_records(count)
    tag = uuid.uuid4().hex[:8]
    source, target, floor = f"bench.raw.{tag}", f"bench.copy.{tag}", f"bench.floor.{tag}"
    ensure_topics(bootstrap, [source, target, floor, topics.raw("erp"), topics.dlq("erp"),
                              *(topics.canonical(k) for k in ("residence", "building", "lot",
                                                              "tenant", "lease"))], settings)
    _produce_raw(bootstrap, source, records)
    _produce_raw(bootstrap, topics.raw("erp"), records)
    copy_rate = raw_copy(bootstrap, source, target, count, settings)
    with _tracing():
        floor_rate = raw_copy(bootstrap, source, floor, count, settings, traced=True)
    hub_rate, spans = hub_translate(bootstrap, count, workdir, settings)
    size = sum(len(v) for _, v in records) // max(1, len(records))
    return PipelineResult(count, size, copy_rate, hub_rate, spans, traced_copy_per_s=floor_rate)
