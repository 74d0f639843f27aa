"""Figure 3: signed webhooks accepted per second by the hub API, beside a bare endpoint.

(a) the reference: a FastAPI app whose ``POST /v1/ingest/{connector}`` answers 202 and does
    nothing (``python -m bench.serve bare``);
(b) the hub: the hub API as ``pivot serve --no-workers`` runs it (``python -m bench.serve
    hub``): signature checked, payload committed to the store's journal before the 202, then
    produced to ``pivot.raw.<connector>`` by the ingestion relay (the check below waits for
    every 202 to be on the topic);
(c) the floor: the bare endpoint of (a) with the hub API's tracing, one server span a request
    (``python -m bench.serve traced``). The hub traces every request, so (c)/(a) bounds the
    ratio (b)/(a) before the hub does any work of its own.

Each server is its own process, served by the same ``ServerThread`` (same uvicorn settings);
the load comes from other processes (``python -m bench.load max``): ``concurrency`` keep-alive
connections sending unique signed chatbot webhooks back to back. The figure is the 202s
completed per second after a warm-up. The servers are measured one after the other, in
``rounds`` alternations, so a change of the machine's load touches both alike.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.harness import (
    BusWatch,
    Check,
    child_env,
    fresh_store,
    prepare_hub,
    reset_topics,
    store_for,
    wait_for_progress,
)
from bench.processes import Child, cpu_seconds, expect_all, stop_all
from pivot.bus import topics
from pivot.serving import free_port
from pivot.store.tables import Ingestion

CONNECTOR = "chatbot"
SERVERS = ("bare", "traced", "hub")


@dataclass
class IngestResult:
    """Webhooks accepted per second by the bare endpoint and by the hub API."""

    seconds: float
    concurrency: int
    load_processes: int
    bare_per_s: float
    hub_per_s: float
    #: The bare endpoint with the hub API's tracing (the floor).
    traced_per_s: float = 0.0
    #: 202s the hub gave in all (warm-ups included), rows in its journal, records on the topic.
    hub_accepted: int = 0
    hub_journaled: int = 0
    hub_on_topic: int = 0
    #: Answers other than 202, per server.
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    #: CPU each server process used over its measurements, as a share of one core.
    server_cpu: dict[str, float] = field(default_factory=dict)
    #: CPU the load processes used, as a share of one core each (near 1: the load was the limit).
    load_cpu: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float | None] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Hub throughput over bare-endpoint throughput."""
        return self.hub_per_s / self.bare_per_s if self.bare_per_s else 0.0

    @property
    def floor_ratio(self) -> float:
        """Traced bare endpoint over bare endpoint: the best ratio tracing leaves."""
        return self.traced_per_s / self.bare_per_s if self.bare_per_s else 0.0


@dataclass
class _Tally:
    in_window: int = 0
    window_s: float = 0.0
    accepted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    server_cpu_s: float = 0.0
    load_cpu_s: float = 0.0
    elapsed_s: float = 0.0
    load_elapsed_s: float = 0.0


def _measure(server: Child, url: str, tally: _Tally, *, seconds: float, warmup_s: float,
             concurrency: int, load_processes: int, env: dict[str, str], workdir: Path,
             label: str) -> None:
    per_process = max(1, math.ceil(concurrency / load_processes))
    args = ["max", "--url", url, "--connector", CONNECTOR, "--concurrency", str(per_process),
            "--seconds", f"{seconds}", "--warmup", f"{warmup_s}"]
    with contextlib.ExitStack() as stack:
        loaders = [stack.enter_context(Child(f"{label}-load{i}", "bench.load", args, env, workdir))
                   for i in range(load_processes)]
        expect_all(loaders, "ready", 60)
        before = cpu_seconds(server.pid) or 0.0
        for loader in loaders:
            loader.send("go")
        done = [loader.expect("done", seconds + warmup_s + 120) for loader in loaders]
        tally.server_cpu_s += (cpu_seconds(server.pid) or 0.0) - before
    tally.in_window += sum(d["in_window"] for d in done)
    tally.window_s += seconds
    tally.accepted += sum(d["accepted"] for d in done)
    for d in done:
        tally.statuses.update(d["statuses"])
    tally.load_cpu_s += sum(d["cpu_s"] for d in done)
    tally.elapsed_s += max(d["elapsed_s"] for d in done)
    tally.load_elapsed_s += sum(d["elapsed_s"] for d in done)


def run(bootstrap: str, workdir: Path, *, seconds: float, concurrency: int = 64,
        load_processes: int = 1, rounds: int = 1, warmup_s: float = 1.0, secret: str,
        database_server: str | None = None) -> IngestResult:
    """Measure both servers under the same load; check the hub kept every 202 it gave."""
    reset_topics(bootstrap)
    with fresh_store(workdir, "ingest", database_server) as database_url:
        prepare_hub(bootstrap, database_url)
        env = child_env(bootstrap, database_url, PIVOT_API_WEBHOOK_SECRET=secret)
        tallies = {name: _Tally() for name in SERVERS}
        with contextlib.ExitStack() as stack:
            servers = {name: stack.enter_context(Child(
                f"{name}-api", "bench.serve", [name, "--port", str(free_port())], env, workdir))
                for name in SERVERS}
            urls = {name: said["url"] for name, said in
                    zip(SERVERS, expect_all(servers.values(), "ready", 120), strict=True)}
            for round_no in range(rounds):
                for name in SERVERS:
                    _measure(servers[name], urls[name], tallies[name], seconds=seconds / rounds,
                             warmup_s=warmup_s, concurrency=concurrency,
                             load_processes=load_processes, env=env, workdir=workdir,
                             label=f"{name}{round_no}")
            hub = tallies["hub"]
            # a payload spooled while the broker was slow is published a little later
            watch = BusWatch(bootstrap, [topics.raw(CONNECTOR)])
            try:
                wait_for_progress(watch, hub.accepted, stall_s=3.0)
                on_topic = watch.settle(idle_s=0.3)
            finally:
                watch.close()
            stop_all(servers.values())
        store = store_for(database_url)
        try:
            with store.read_session() as session:
                journaled = int(session.scalar(select(func.count()).select_from(Ingestion)) or 0)
        finally:
            store.dispose()
    result = IngestResult(
        seconds=seconds, concurrency=concurrency, load_processes=load_processes,
        bare_per_s=_rate(tallies["bare"]), hub_per_s=_rate(hub),
        traced_per_s=_rate(tallies["traced"]),
        hub_accepted=hub.accepted, hub_journaled=journaled, hub_on_topic=on_topic,
        errors={name: {s: n for s, n in t.statuses.items() if s != "202"}
                for name, t in tallies.items()},
        server_cpu={name: round(t.server_cpu_s / t.elapsed_s, 2) if t.elapsed_s else 0.0
                    for name, t in tallies.items()},
        load_cpu={name: round(t.load_cpu_s / t.load_elapsed_s, 2) if t.load_elapsed_s else 0.0
                  for name, t in tallies.items()},
        peak_rss_mb={f"{name}_api": s.peak_rss_mb for name, s in servers.items()},
    )
    result.checks = _checks(result)
    return result


def _rate(tally: _Tally) -> float:
    return tally.in_window / tally.window_s if tally.window_s else 0.0


def _checks(result: IngestResult) -> list[Check]:
    refused = {name: errors for name, errors in result.errors.items() if errors}
    return [
        Check("ingest", "every webhook answered 202", not refused,
              f"other answers: {refused}" if refused else "none refused"),
        Check("ingest", "every 202 journaled once and on the raw topic once",
              result.hub_accepted == result.hub_journaled == result.hub_on_topic > 0,
              f"202s {result.hub_accepted}, journal {result.hub_journaled}, "
              f"pivot.raw.{CONNECTOR} {result.hub_on_topic}"),
    ]


def as_json(result: IngestResult) -> dict[str, Any]:
    """The figure's keys in ``pivot bench --json``."""
    return {
        "ingest_ratio": round(result.ratio, 3),
        "ingest_per_s": round(result.hub_per_s, 1),
        "bare_per_s": round(result.bare_per_s, 1),
        "traced_bare_per_s": round(result.traced_per_s, 1),
        "ingest_floor_ratio": round(result.floor_ratio, 3),
        "ingest_seconds": result.seconds,
        "ingest_concurrency": result.concurrency,
        "ingest_load_processes": result.load_processes,
        "ingest_server_cpu": result.server_cpu,
        "ingest_load_cpu": result.load_cpu,
        "ingest_peak_rss_mb": result.peak_rss_mb,
    }
