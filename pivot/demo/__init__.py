"""``pivot demo``: the whole hub on embedded defaults, a landlord's day played through it.

Starts the broker (embedded unless configured), the store, the hub API, its workers, the ERP
poller and the four sandbox satellites on loopback, then plays the day of
:mod:`pivot.demo.day`. Each step reports its outcome and checks every satellite's state
against what the events imply: nothing lost, nothing applied twice.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from observability.metrics import Outcome, PivotMetrics
from observability.tracing import TraceCollector, configure_tracing, span_processor
from pivot.bus import topics
from pivot.demo.checks import Check, no_duplicates
from pivot.demo.day import LandlordDay, Step
from pivot.demo.satellites import Satellites
from pivot.settings import PivotSettings
from pivot.stack import Progress, running_stack

__all__ = ["Check", "DemoOptions", "DemoReport", "run_demo"]


@dataclass
class DemoOptions:
    """What a demo run does."""

    messages: int = 40
    #: Lots of the landlord's estate in the ERP.
    scale: int = 2000
    #: Seed of the sandboxes; None picks 42 on a fresh store, a random one on a reused store
    #: (the same seed sends the same event ids, which a reused store would rightly dedupe).
    seed: int | None = None
    timeout_s: float = 60.0
    #: ``none``; ``light`` (default): 10 % 5xx in Ublo and Urbest, 5 % malformed chatbot
    #: payloads; ``heavy``: a maintenance-tool outage first, then 20 % 5xx and 5 % timeouts;
    #: the dead letters are replayed once the satellites are healthy.
    faults: str = "light"
    database_url: str | None = None
    workdir: Path = Path("var/demo")
    #: Where the run's metrics go (a fresh registry when None); a caller may serve it.
    registry: CollectorRegistry | None = None


@dataclass
class DemoReport:
    """Outcome of a demo run (also its ``--json`` form)."""

    consistent: bool
    connectors: dict[str, dict[str, int]]
    events: int
    latency_ms: dict[str, float]
    messages: int
    scale: int
    seed: int
    duration_s: float
    bootstrap: str
    database: str
    steps: list[Step] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    retries: int = 0
    dlq: int = 0
    replayed: int = 0
    #: One chatbot message that led to an intervention, followed end to end:
    #: ``{"trace_id", "span_count"}`` (None when tracing is disabled).
    sample_trace: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object ``pivot demo --json`` prints."""
        return {
            "consistent": self.consistent,
            "connectors": self.connectors,
            "events": self.events,
            "latency_ms": self.latency_ms,
            "messages": self.messages,
            "scale": self.scale,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 2),
            "bootstrap": self.bootstrap,
            "database": self.database,
            "retries": self.retries,
            "dlq": self.dlq,
            "replayed": self.replayed,
            "sample_trace": self.sample_trace,
            "steps": [s.as_dict() for s in self.steps],
            "checks": [c.__dict__ for c in self.checks],
        }


#: Retry settings of the delivering connectors under heavy faults: quick to give up, so the
#: outage fills the dead-letter queue fast; a short timeout, so timeouts cost little.
HEAVY_RETRIES = {"max_attempts": 4, "initial_wait_s": 0.02, "max_wait_s": 0.2, "timeout_s": 0.5}


def run_demo(
    settings: PivotSettings, options: DemoOptions, progress: Progress = lambda _m: None
) -> DemoReport:
    """Run the demo end to end and return its report."""
    began = time.monotonic()
    database = options.database_url or _fresh_sqlite(options.workdir)
    seed = options.seed if options.seed is not None else (
        random.randrange(1, 1_000_000) if options.database_url else 42)
    metrics = PivotMetrics(options.registry if options.registry is not None else CollectorRegistry())
    progress(f"store: {_safe_url(database)}")
    overrides = ({name: HEAVY_RETRIES for name in ("urbest", "ublo")}
                 if options.faults == "heavy" else None)
    traced = configure_tracing("pivot-demo") is not None
    collector = TraceCollector(_chatbot_webhook, max_traces=100)
    recording = span_processor(collector) if traced else contextlib.nullcontext()
    with recording, running_stack(settings, database, seed=seed, lots=options.scale, metrics=metrics,
                                  progress=progress, connector_settings=overrides,
                                  start_pollers=False) as stack:
        day = LandlordDay(stack, options.messages, options.faults, options.timeout_s, progress)
        steps = day.play()
        time.sleep(0.5)  # late duplicates, if any, would show up
        satellites = Satellites(stack.sandboxes)
        states = {name: satellites.state(name) for name in stack.sandboxes}
        satellites.close()
        checks = [c for step in steps for c in step.checks] + [no_duplicates(states)]
        names = list(stack.hub.connectors)
        bootstrap = stack.hub.bootstrap
    return DemoReport(
        consistent=all(c.ok for c in checks),
        connectors=_connector_counts(metrics, names),
        events=int(metrics.count(metrics.published)),
        latency_ms=_percentiles(day.latencies_ms),
        messages=options.messages,
        scale=options.scale,
        seed=seed,
        duration_s=time.monotonic() - began,
        bootstrap=bootstrap,
        database=_safe_url(database),
        steps=steps,
        checks=checks,
        retries=int(metrics.count(metrics.retries)),
        dlq=int(metrics.count(metrics.dlq_writes)),
        replayed=day.replayed,
        sample_trace=_sample_trace(collector) if traced else None,
    )


def _chatbot_webhook(span: ReadableSpan) -> bool:
    """A trace starting at a chatbot webhook (the server span of ``/v1/ingest/chatbot``)."""
    if span.kind is not SpanKind.SERVER:
        return False
    attributes = span.attributes or {}
    path = attributes.get("url.path") or attributes.get("http.target") or ""
    return str(path).startswith("/v1/ingest/chatbot")


def _sample_trace(collector: TraceCollector) -> dict[str, Any] | None:
    """The first chatbot message whose trace reaches an intervention the maintenance tool created."""
    created = f"{topics.canonical('intervention')} send"
    for trace_id, spans in collector.traces().items():
        if any(span.name == created for span in spans):
            return {"trace_id": trace_id, "span_count": len(spans)}
    return None


def _fresh_sqlite(workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"pivot-{time.strftime('%Y%m%d-%H%M%S')}-{threading.get_ident() % 10_000}.db"
    return f"sqlite:///{path}"


def _safe_url(url: str) -> str:
    return httpx.URL(url).copy_with(password=None).__str__() if "@" in url else url


def _connector_counts(metrics: PivotMetrics, names: list[str]) -> dict[str, dict[str, int]]:
    """Per connector: events its satellite brought in, deliveries out, dead letters.

    ``in`` counts canonical events the connector published (translated from its satellite,
    or answered by it: the intervention Urbest created, the AI's triage).
    """
    return {
        name: {
            "in": int(metrics.count(metrics.published, connector=name)),
            "out": int(metrics.count(metrics.events_out, connector=name, outcome=Outcome.OK)),
            "dlq": int(metrics.count(metrics.dlq_writes, connector=name)),
        }
        for name in names
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)
    p99 = statistics.quantiles(ordered, n=100)[98] if len(ordered) > 1 else ordered[0]
    return {"p50": round(statistics.median(ordered), 1), "p99": round(p99, 1),
            "max": round(ordered[-1], 1)}
