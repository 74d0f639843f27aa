"""The hub's Prometheus metrics, in one container that takes an injected registry.

Label values are bounded: connector names, entity kinds, event types, stages and outcomes,
never an id or a tenant's data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from functools import lru_cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from canonical_model.entities.request import Urgency

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Outcome(StrEnum):
    """Outcome label values."""

    OK = "ok"
    DUPLICATE = "duplicate"
    DLQ = "dlq"
    REJECTED = "rejected"
    ERROR = "error"
    SKIPPED = "skipped"
    SPOOLED = "spooled"


class Stage(StrEnum):
    """Stage label values: where in the pipeline a message is."""

    INGEST = "ingest"
    TRANSLATE = "translate"
    DELIVER = "deliver"


#: Counts of dead letters not replayed yet, by connector (see :meth:`PivotMetrics.watch_dlq_depth`).
DepthSource = Callable[[], Mapping[str, int]]


class _DeadLetterDepth(Collector):
    """``pivot_dlq_depth{connector}``, read from a source on scrape, at most every ``min_interval_s``.

    The source asks the broker and the store, so it is not called more often than that; when it
    fails, or once it is removed, the last values it gave are exported.
    """

    name = "pivot_dlq_depth"
    documentation = "Dead letters not replayed yet."

    def __init__(self, min_interval_s: float) -> None:
        self.source: DepthSource | None = None
        self.min_interval_s = min_interval_s
        self._values: dict[str, int] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(self.name, self.documentation, labels=["connector"])

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            source = self.source
            if source is not None and time.monotonic() - self._read_at >= self.min_interval_s:
                try:
                    self._values = dict(source())
                except Exception as exc:  # a scrape must never fail: keep the last values
                    log.warning("dead-letter depth not refreshed: %s", exc)
                self._read_at = time.monotonic()
            values = dict(self._values)
        family = GaugeMetricFamily(self.name, self.documentation, labels=["connector"])
        for connector, depth in sorted(values.items()):
            family.add_metric([connector], depth)
        yield family


#: Urgency label values of the case metrics: the request urgencies, and not triaged yet.
CASE_URGENCIES = (*(u.value for u in Urgency), "untriaged")


class PivotMetrics:
    """Every metric the hub exports."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else REGISTRY
        r = self.registry
        self.ingested = Counter(
            "pivot_ingest_requests", "Payloads offered to the ingest API.",
            ["connector", "outcome"], registry=r,
        )
        self.events_in = Counter(
            "pivot_events_in", "Satellite messages translated by a connector.",
            ["connector", "entity", "event_type", "outcome"], registry=r,
        )
        self.events_out = Counter(
            "pivot_events_out", "Canonical events delivered to a satellite.",
            ["connector", "event_type", "outcome"], registry=r,
        )
        self.published = Counter(
            "pivot_canonical_events_published", "Canonical events acknowledged by the broker.",
            ["connector", "entity"], registry=r,
        )
        self.dlq_writes = Counter(
            "pivot_dlq_writes", "Messages written to a dead-letter topic.",
            ["connector", "stage"], registry=r,
        )
        self.replayed = Counter(
            "pivot_dlq_replayed", "Dead letters sent back to their original topic.",
            ["connector"], registry=r,
        )
        self.retries = Counter(
            "pivot_retries", "Retried attempts of a retryable failure.",
            ["connector", "stage"], registry=r,
        )
        self.delivery_errors = Counter(
            "pivot_delivery_errors", "Failed outbound calls by error class.",
            ["connector", "error_class"], registry=r,
        )
        self.spool_depth = Gauge(
            "pivot_spool_depth", "Accepted payloads waiting in the store for the broker.",
            registry=r,
        )
        self.processing_seconds = Histogram(
            "pivot_processing_seconds", "Time to process one polled batch, per record.",
            ["stage", "connector"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.end_to_end_seconds = Histogram(
            "pivot_end_to_end_seconds", "From ingestion to effect applied in the target satellite.",
            ["connector"], buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.quality_findings = Counter(
            "pivot_quality_findings", "Quality rules broken by new golden-record versions.",
            ["connector", "entity", "rule", "severity"], registry=r,
        )
        self.cases_open = Gauge(
            "pivot_cases_open", "Cases (tenant requests) not closed yet, from the case index.",
            ["urgency"], registry=r,
        )
        self.cases_overdue = Gauge(
            "pivot_cases_overdue", "Cases still open past their urgency's deadline.",
            ["urgency"], registry=r,
        )
        self.case_deadline_breaches = Counter(
            "pivot_case_deadline_breaches",
            "Cases that missed their deadline, each counted once (found overdue, or closed late).",
            ["urgency"], registry=r,
        )
        for urgency in CASE_URGENCIES:  # every series exists from the start: 0, not "no data"
            self.cases_open.labels(urgency)
            self.cases_overdue.labels(urgency)
            self.case_deadline_breaches.labels(urgency)
        self.consumer_lag = Gauge(
            "pivot_consumer_lag",
            "Records of a partition not processed yet by a consumer group (highwater - position).",
            ["group", "topic", "partition"], registry=r,
        )
        self._dlq_depth = _DeadLetterDepth(min_interval_s=10.0)
        r.register(self._dlq_depth)

    def watch_dlq_depth(self, source: DepthSource | None) -> None:
        """Export ``pivot_dlq_depth{connector}`` from ``source``, read on scrape (10 s at most).

        ``None`` stops reading; the last values stay exported.
        """
        self._dlq_depth.source = source

    @property
    def dlq_depth_source(self) -> DepthSource | None:
        """The source of ``pivot_dlq_depth`` (None when nothing is watched)."""
        return self._dlq_depth.source

    def count(self, counter: Counter, **labels: str) -> float:
        """Current value of ``counter`` summed over the series matching ``labels``."""
        total = 0.0
        for metric in counter.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total") and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
        return total


@lru_cache(maxsize=1)
def default_metrics() -> PivotMetrics:
    """The process-wide metrics on the default Prometheus registry."""
    return PivotMetrics()
