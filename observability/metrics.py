"""The hub's Prometheus metrics, in one container that takes an injected registry.

Label values are bounded: connector names, entity kinds, event types, stages and outcomes,
never an id or a tenant's data.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

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
