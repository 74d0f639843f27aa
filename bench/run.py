"""``pivot bench``: every figure of bench/, in one run, on one broker and one machine.

=========  ==================================================  =============================
figure     hub                                                 beside
=========  ==================================================  =============================
pipeline   the ERP translate stage (bench/pipeline.py)          a kafka-python raw copy
ceiling    a confluent-kafka raw copy (bench/ceiling.py)        the kafka-python raw copy
backfill   100,000 ERP records to Ublo (bench/backfill.py)      < 60 s, < 500 MB per process
ingest     signed webhooks/s of the hub API (bench/ingest.py)   a bare 202 endpoint
latency    webhook → effect at 200/s (bench/latency.py)         p99 < 100 ms
scaleout   translate, 1 then 2 workers (bench/scaleout.py)      the speed-up
=========  ==================================================  =============================

Each figure starts from nothing on the run's broker (topics re-created, a fresh store) and
checks that its run delivered everything once: ``consistent`` is true only when every check
of every figure held.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from bench import backfill, ceiling, ingest, latency, scaleout
from bench.harness import Check, reset_topics
from bench.pipeline import run as run_pipeline
from pivot.broker import kafka_bootstrap
from pivot.errors import ConfigurationError
from pivot.settings import PivotSettings

log = logging.getLogger(__name__)

FIGURES = ("pipeline", "ceiling", "backfill", "ingest", "latency", "scaleout")

#: Targets of the performance issue.
PIPELINE_TARGET = 0.6
BACKFILL_TARGET_S = 60.0
RSS_TARGET_MB = 500.0
INGEST_TARGET = 0.5
P99_TARGET_MS = 100.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    """How big a run is, and which figures it measures."""

    #: Raw ERP messages through the translate pipeline and the raw copies (figure 1, ceiling).
    messages: int = 30_000
    #: Records of the ERP export back-filled to Ublo (≈ 3.3 per lot: 100,000 ≈ 30,000 lots).
    backfill_records: int = 100_000
    #: Seconds of load on each server (ingest), in ``ingest_rounds`` alternations.
    ingest_seconds: float = 10.0
    ingest_rounds: int = 2
    ingest_warmup_s: float = 1.0
    #: Keep-alive connections sending webhooks, spread over ``load_processes`` processes.
    ingest_concurrency: int = 64
    load_processes: int = 1
    #: Webhooks per second, and for how long (latency).
    latency_rate: float = 200.0
    latency_seconds: float = 30.0
    #: Raw ERP messages translated by 1 then 2 workers, on ``partitions`` partitions.
    scaleout_messages: int = 20_000
    partitions: int = 4
    seed: int = 42
    #: PostgreSQL server on which each figure gets a database of its own (default: SQLite).
    database_url: str | None = None
    #: A Kafka cluster given to the benchmark (its pivot.* topics are deleted); default embedded.
    bootstrap: str | None = None
    #: Figures to measure (empty: all).
    only: tuple[str, ...] = ()
    quick_run: bool = False

    @classmethod
    def quick(cls) -> BenchOptions:
        """A run small enough for CI: proves every figure works, measures little."""
        return cls(messages=1_000, backfill_records=1_000, ingest_seconds=1.5, ingest_rounds=1,
                   ingest_warmup_s=0.5, latency_seconds=2.0, scaleout_messages=600,
                   quick_run=True)

    def replace(self, **changes: Any) -> BenchOptions:
        """These options with some changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def runs(self, figure: str) -> bool:
        """Whether ``figure`` is measured in this run."""
        return not self.only or figure in self.only


def run_bench(settings: PivotSettings, options: BenchOptions,
              progress: Progress = lambda _m: None) -> dict[str, Any]:
    """Measure the figures; one JSON-able dict of figures, checks and ``consistent``."""
    unknown = sorted(set(options.only) - set(FIGURES))
    if unknown:
        raise ConfigurationError(f"unknown figure(s) {', '.join(unknown)}: one of {', '.join(FIGURES)}")
    if options.database_url and not options.database_url.startswith("postgresql"):
        raise ConfigurationError("--database-url is a PostgreSQL server on which each figure gets a "
                                 "database of its own (postgresql+psycopg://user@host/db)")
    if settings.kafka.bootstrap and not options.bootstrap:
        raise ConfigurationError(
            "pivot bench deletes and re-creates the hub's topics between figures: it runs on its "
            "own embedded broker (unset PIVOT_KAFKA_BOOTSTRAP), or on a cluster given with "
            "--bootstrap")
    secret = settings.api.webhook_secret.get_secret_value()
    figures: dict[str, Any] = {"quick": options.quick_run,
                               "figures": [f for f in FIGURES if options.runs(f)]}
    checks: list[Check] = []
    with kafka_bootstrap(options.bootstrap, settings.broker) as (bootstrap, broker), \
            tempfile.TemporaryDirectory(prefix="pivot-bench-") as tmp:
        workdir = Path(tmp)
        broker_pid = broker.pid if broker is not None else None
        figures["broker"] = "embedded" if broker is not None else bootstrap

        def measure(name: str, what: str, body: Callable[[], dict[str, Any]]) -> None:
            if not options.runs(name):
                return
            progress(f"{name}: {what}")
            try:
                figures.update(body())
            except Exception as exc:  # one figure failing still reports the others
                log.exception("figure %s failed", name)
                checks.append(Check(name, "the figure ran", False, f"{type(exc).__name__}: {exc}"))

        def pipeline() -> dict[str, Any]:
            reset_topics(bootstrap)
            result = run_pipeline(bootstrap, options.messages, workdir)
            return {"messages": result.messages, "message_bytes": result.message_bytes,
                    "raw_copy_per_s": round(result.raw_copy_per_s, 1),
                    "pipeline_per_s": round(result.hub_per_s, 1),
                    "pipeline_ratio": round(result.ratio, 3), "spans": result.spans,
                    "traced_copy_per_s": round(result.traced_copy_per_s, 1),
                    "pipeline_floor_ratio": round(result.floor_ratio, 3)}

        def ceiling_copy() -> dict[str, Any]:
            result = ceiling.run(bootstrap, options.messages)
            if result.per_s is not None and result.copied < options.messages:
                checks.append(Check("ceiling", "every record copied", False,
                                    f"{result.copied}/{options.messages} copied"))
            return ceiling.as_json(result)

        def backfill_run() -> dict[str, Any]:
            result = backfill.run(bootstrap, workdir, records=options.backfill_records,
                                  seed=options.seed, broker_pid=broker_pid,
                                  database_server=options.database_url, progress=progress)
            checks.extend(result.checks)
            return backfill.as_json(result)

        def ingest_run() -> dict[str, Any]:
            result = ingest.run(bootstrap, workdir, seconds=options.ingest_seconds,
                                concurrency=options.ingest_concurrency,
                                load_processes=options.load_processes,
                                rounds=options.ingest_rounds, warmup_s=options.ingest_warmup_s,
                                secret=secret, database_server=options.database_url)
            checks.extend(result.checks)
            return ingest.as_json(result)

        def latency_run() -> dict[str, Any]:
            result = latency.run(bootstrap, workdir, rate=options.latency_rate,
                                 seconds=options.latency_seconds, secret=secret, seed=options.seed,
                                 database_server=options.database_url, broker_pid=broker_pid)
            checks.extend(result.checks)
            return latency.as_json(result)

        def scaleout_run() -> dict[str, Any]:
            result = scaleout.run(bootstrap, workdir, messages=options.scaleout_messages,
                                  partitions=options.partitions,
                                  database_server=options.database_url)
            checks.extend(result.checks)
            return scaleout.as_json(result)

        measure("pipeline", f"translate stage vs raw copy, {options.messages:,} messages", pipeline)
        measure("ceiling", "confluent-kafka raw copy", ceiling_copy)
        measure("backfill", f"ERP export of ~{options.backfill_records:,} records to Ublo",
                backfill_run)
        measure("ingest", "signed webhooks vs bare endpoint", ingest_run)
        measure("latency", f"{options.latency_rate:.0f} webhooks/s for "
                           f"{options.latency_seconds:.0f} s", latency_run)
        measure("scaleout", f"translate with 1 and 2 workers, {options.scaleout_messages:,} "
                            "messages", scaleout_run)
    figures["checks"] = [c.as_dict() for c in checks]
    figures["consistent"] = all(c.ok for c in checks)
    return figures


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _met(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]no[/]"


def _cpu_row(f: dict[str, Any], figure: str) -> list[tuple[str, str, str, str, str]]:
    """What each process of a figure's run used, in cores, beside the machine's cores."""
    shares = f.get(f"{figure}_cpu")
    if not shares:
        return []
    busy = ", ".join(f"{name} {share:.2f}" for name, share in
                     sorted(shares.items(), key=lambda item: -item[1]))
    return [("  CPU", f"{os.cpu_count()} cores",
             f"{f[f'{figure}_cpu_cores']:.2f} cores busy: {busy}", "—", "—")]


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, reference, hub, ratio or target, met?) for each figure measured."""
    out = []
    f = figures
    if "pipeline_ratio" in f:
        out.append(("translate pipeline", f"raw copy {_n(f['raw_copy_per_s'])} msg/s",
                    f"translate {_n(f['pipeline_per_s'])} msg/s",
                    f"{f['pipeline_ratio']:.2f} (target ≥ {PIPELINE_TARGET})",
                    _met(f["pipeline_ratio"] >= PIPELINE_TARGET)))
    if "pipeline_floor_ratio" in f:
        out.append(("  floor: tracing alone", f"raw copy {_n(f['raw_copy_per_s'])} msg/s",
                    f"raw copy + 2 spans a record {_n(f['traced_copy_per_s'])} msg/s",
                    f"{f['pipeline_floor_ratio']:.2f} (best ratio a traced stage can reach)",
                    "—"))
    if "confluent_kafka" in f:
        per_s = f["confluent_raw_copy_per_s"]
        if per_s is None:
            out.append(("ceiling", "—", "confluent-kafka: not installed", "—", "—"))
        else:
            share = (f"kafka-python copy at {f['raw_copy_per_s'] / per_s:.2f} of it"
                     if f.get("raw_copy_per_s") and per_s else "—")
            out.append(("ceiling", "—", f"confluent-kafka raw copy {_n(per_s)} msg/s", share, "—"))
    if "backfill_seconds" in f:
        rss = {k: v for k, v in f["backfill_peak_rss_mb"].items() if v is not None and k != "bench"}
        top = max(rss, key=rss.__getitem__) if rss else "-"
        out.append(("backfill ERP → Ublo",
                    f"< {BACKFILL_TARGET_S:.0f} s, < {RSS_TARGET_MB:.0f} MB per process",
                    f"{_n(f['backfill_records'])} records in {f['backfill_seconds']:.1f} s "
                    f"({_n(f['backfill_records_per_s'])}/s); lots in Ublo at "
                    f"{f['backfill_lots_in_ublo_seconds']:.1f} s; peak RSS {top} "
                    f"{rss.get(top, 0):.0f} MB",
                    f"{f['backfill_seconds'] / BACKFILL_TARGET_S:.2f} of the time, "
                    f"{rss.get(top, 0) / RSS_TARGET_MB:.2f} of the memory",
                    _met(f["backfill_seconds"] < BACKFILL_TARGET_S
                         and all(v < RSS_TARGET_MB for v in rss.values()))))
        out += _cpu_row(f, "backfill")
    if "ingest_ratio" in f:
        out.append(("webhook ingestion", f"bare endpoint {_n(f['bare_per_s'])}/s",
                    f"hub API {_n(f['ingest_per_s'])}/s",
                    f"{f['ingest_ratio']:.2f} (target ≥ {INGEST_TARGET})",
                    _met(f["ingest_ratio"] >= INGEST_TARGET)))
    if "ingest_floor_ratio" in f:
        out.append(("  floor: tracing alone", f"bare endpoint {_n(f['bare_per_s'])}/s",
                    f"bare endpoint + the API's tracing {_n(f['traced_bare_per_s'])}/s",
                    f"{f['ingest_floor_ratio']:.2f} (before any work of the hub's)", "—"))
    if "p99_ms" in f:
        out.append(("end-to-end latency",
                    f"{f['latency_rate_per_s']:.0f}/s for {f['latency_seconds']:.0f} s "
                    f"(sent {f['latency_sent_per_s']:.0f}/s)",
                    f"p50 {_n(f['p50_ms'])} ms, p99 {_n(f['p99_ms'])} ms, max {_n(f['max_ms'])} ms",
                    f"p99 < {P99_TARGET_MS:.0f} ms", _met(f["p99_ms"] < P99_TARGET_MS)))
    out += _cpu_row(f, "latency")
    if "scaleout_speedup" in f:
        out.append(("scale-out", f"1 worker {_n(f.get('scaleout_1_worker_per_s', 0))} msg/s",
                    f"2 workers {_n(f.get('scaleout_2_workers_per_s', 0))} msg/s",
                    f"speed-up {f['scaleout_speedup']:.2f}× ({f['scaleout_partitions']} partitions)",
                    "—"))
    return out


def render(figures: dict[str, Any]) -> list[Table]:
    """The figures beside their references, then the consistency checks."""
    table = Table(title="pivot bench" + (" (quick)" if figures.get("quick") else ""),
                  title_justify="left")
    for column in ("figure", "reference", "hub", "ratio / target", "met?"):
        table.add_column(column)
    for row in rows(figures):
        table.add_row(*row)
    checks = Table(title="Consistency: " + ("[green]consistent[/]" if figures.get("consistent")
                                             else "[red]NOT consistent[/]"), title_justify="left")
    for column in ("figure", "check", "result", "detail"):
        checks.add_column(column)
    for check in figures.get("checks", []):
        checks.add_row(check["figure"], check["name"],
                       "[green]ok[/]" if check["ok"] else "[red]FAILED[/]", check["detail"])
    return [table, checks]
