"""``pivot demo``: the whole hub on embedded defaults, a tenant day played through it.

Starts the broker (embedded unless configured), the store, the hub API, its workers and the
sandbox satellites on loopback; the chatbot sandbox sends tenant messages to the hub as signed
webhooks; they become tenant requests, acknowledgements in the chatbot and interventions in
the Urbest-like sandbox. Then it checks every satellite's final state against what the sent
messages imply: nothing lost, nothing applied twice.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from observability.metrics import Outcome, PivotMetrics
from pivot.pipeline.dlq import read_dead_letters, replay, select_letters
from pivot.settings import PivotSettings
from pivot.stack import Progress, Stack, running_stack
from pivot.store import Store, xref


@dataclass
class DemoOptions:
    """What a demo run does."""

    messages: int = 40
    #: Seed of the sandboxes; None picks 42 on a fresh store, a random one on a reused store
    #: (the same seed sends the same event ids, which a reused store would rightly dedupe).
    seed: int | None = None
    timeout_s: float = 45.0
    #: ``none``, or ``heavy``: a maintenance-tool outage, then 20 % 5xx and 5 % timeouts, 5 %
    #: malformed chatbot payloads; the outage's dead letters are replayed once it is over.
    faults: str = "none"
    database_url: str | None = None
    workdir: Path = Path("var/demo")


@dataclass
class Check:
    """One consistency check of the final state."""

    name: str
    ok: bool
    detail: str


@dataclass
class DemoReport:
    """Outcome of a demo run (also its ``--json`` form)."""

    consistent: bool
    connectors: dict[str, dict[str, int]]
    events: int
    latency_ms: dict[str, float]
    messages: int
    seed: int
    duration_s: float
    bootstrap: str
    database: str
    checks: list[Check] = field(default_factory=list)
    retries: int = 0
    dlq: int = 0
    replayed: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON object ``pivot demo --json`` prints."""
        return {
            "consistent": self.consistent,
            "connectors": self.connectors,
            "events": self.events,
            "latency_ms": self.latency_ms,
            "messages": self.messages,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 2),
            "bootstrap": self.bootstrap,
            "database": self.database,
            "retries": self.retries,
            "dlq": self.dlq,
            "replayed": self.replayed,
            "checks": [c.__dict__ for c in self.checks],
        }


def run_demo(
    settings: PivotSettings, options: DemoOptions, progress: Progress = lambda _m: None
) -> DemoReport:
    """Run the demo end to end and return its report."""
    began = time.monotonic()
    database = options.database_url or _fresh_sqlite(options.workdir)
    seed = options.seed if options.seed is not None else (
        random.randrange(1, 1_000_000) if options.database_url else 42)
    metrics = PivotMetrics(CollectorRegistry())
    progress(f"store: {_safe_url(database)}")
    heavy = options.faults == "heavy"
    replayed = 0
    with running_stack(settings, database, seed=seed, metrics=metrics, progress=progress,
                       connector_settings={"urbest": HEAVY_RETRIES} if heavy else None) as stack:
        chatbot, urbest = stack.sandboxes["chatbot"], stack.sandboxes["urbest"]
        if heavy:
            replayed = _play_faults(stack, options, progress)
        else:
            _simulate(chatbot, options.messages)
        sent = _sent(chatbot)
        wellformed = sum(1 for r in sent["records"] if not r.get("malformed"))
        progress(f"chatbot sent {len(sent['records'])}/{options.messages} tenant messages "
                 f"to the hub ({len(sent['records']) - wellformed} malformed)")
        final = _wait_settled(chatbot, urbest, wellformed, options.timeout_s, progress)
        checks, latencies = _check(stack.hub.store, final, sent, metrics)
        names = list(stack.hub.connectors)
        bootstrap = stack.hub.bootstrap
    return DemoReport(
        consistent=all(c.ok for c in checks),
        connectors=_connector_counts(metrics, names),
        events=int(metrics.count(metrics.published)),
        latency_ms=_percentiles(latencies),
        messages=options.messages,
        seed=seed,
        duration_s=time.monotonic() - began,
        bootstrap=bootstrap,
        database=_safe_url(database),
        checks=checks,
        retries=int(metrics.count(metrics.retries)),
        dlq=int(metrics.count(metrics.dlq_writes)),
        replayed=replayed,
    )


#: Retry settings of the maintenance tool's connector under heavy faults: quick to give up,
#: so the outage fills the dead-letter queue fast; a short timeout, so timeouts cost little.
HEAVY_RETRIES = {"max_attempts": 4, "initial_wait_s": 0.02, "max_wait_s": 0.2, "timeout_s": 0.5}


def _set_faults(url: str, **faults: float) -> None:
    httpx.put(f"{url}/sandbox/faults", json=faults, timeout=10).raise_for_status()


def _play_faults(stack: Stack, options: DemoOptions, progress: Progress) -> int:
    """Outage, flaky recovery, replay of the outage's dead letters; return how many replayed."""
    chatbot, urbest = stack.sandboxes["chatbot"], stack.sandboxes["urbest"]
    metrics = stack.hub.metrics
    during_outage = max(3, options.messages // 5)
    _set_faults(chatbot, malformed_rate=0.05)
    _set_faults(urbest, error_rate=1.0)
    progress(f"maintenance tool down: {during_outage} messages sent meanwhile")
    _simulate(chatbot, during_outage)
    expected = sum(1 for r in _sent(chatbot)["records"] if not r.get("malformed"))
    _wait_for(lambda: metrics.count(metrics.dlq_writes, connector="urbest") >= expected,
              options.timeout_s)
    _set_faults(urbest, error_rate=0.2, timeout_rate=0.05, timeout_delay_s=0.8)
    progress("maintenance tool back but flaky (20 % 5xx, 5 % timeouts)")
    _simulate(chatbot, options.messages - during_outage)
    wellformed = sum(1 for r in _sent(chatbot)["records"] if not r.get("malformed"))

    def settled() -> bool:
        created = len(httpx.get(f"{urbest}/sandbox/state", timeout=10).json()["interventions"])
        return created + metrics.count(metrics.dlq_writes, connector="urbest") >= wellformed

    _wait_for(settled, options.timeout_s)
    _set_faults(urbest, error_rate=0.0, timeout_rate=0.0)
    letters = read_dead_letters(stack.hub.bootstrap, ["urbest"], stack.hub.store)
    replayed = replay(stack.hub.producer, stack.hub.store, select_letters(letters, everything=True),
                      metrics)
    progress(f"maintenance tool healthy again: {replayed} dead letters replayed")
    return replayed


def _wait_for(predicate: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.1)


def _fresh_sqlite(workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"pivot-{time.strftime('%Y%m%d-%H%M%S')}-{threading.get_ident() % 10_000}.db"
    return f"sqlite:///{path}"


def _safe_url(url: str) -> str:
    return httpx.URL(url).copy_with(password=None).__str__() if "@" in url else url


def _simulate(chatbot_url: str, count: int) -> None:
    if count > 0:
        httpx.post(f"{chatbot_url}/sandbox/simulate", json={"count": count, "concurrency": 4},
                   timeout=120).raise_for_status()


def _sent(chatbot_url: str) -> dict[str, Any]:
    """What the chatbot sent, and which of it the hub accepted."""
    sent = httpx.get(f"{chatbot_url}/sandbox/state", timeout=30).json()["sent"]
    return {"sent": len(sent), "records": [r for r in sent if r.get("accepted")]}


def _wait_settled(
    chatbot_url: str, urbest_url: str, expected: int, timeout_s: float, progress: Progress
) -> dict[str, Any]:
    """Poll the sandboxes until every accepted message had its effects (or the timeout)."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=10) as client:
        while True:
            chatbot = client.get(f"{chatbot_url}/sandbox/state").json()
            urbest = client.get(f"{urbest_url}/sandbox/state").json()
            done = (len(urbest["interventions"]) >= expected
                    and len(chatbot["replies"]) >= 2 * expected)
            if done or time.monotonic() > deadline:
                if not done:
                    progress("timeout: checking what arrived")
                # settle a little so late duplicates, if any, would show up
                time.sleep(0.5)
                chatbot = client.get(f"{chatbot_url}/sandbox/state").json()
                urbest = client.get(f"{urbest_url}/sandbox/state").json()
                return {"chatbot": chatbot, "urbest": urbest}
            time.sleep(0.1)


def _check(
    store: Store, final: dict[str, Any], sent: dict[str, Any], metrics: PivotMetrics
) -> tuple[list[Check], list[float]]:
    accepted = sent["records"]
    records = [r for r in accepted if not r.get("malformed")]
    malformed = len(accepted) - len(records)
    interventions = final["urbest"]["interventions"]
    replies = final["chatbot"]["replies"]
    with store.read_session() as session:
        request_of = {
            r["message_id"]: xref.lookup(session, "chatbot", "request", r["message_id"])
            for r in records
        }
    by_ref = Counter(i["external_ref"] for i in interventions)
    missing = [m for m, rid in request_of.items() if rid is None or by_ref[rid] == 0]
    doubled = [ref for ref, n in by_ref.items() if n > 1]
    strangers = set(by_ref) - set(request_of.values())
    replies_by = Counter((r["conversation_id"], r["kind"]) for r in replies)
    expected_replies: Counter[tuple[str, str]] = Counter()
    for r in records:
        expected_replies[(r["conversation_id"], "acknowledgement")] += 1
        expected_replies[(r["conversation_id"], "status")] += 1
    created_at = {i["external_ref"]: i.get("created_ts") for i in interventions}
    latencies = [
        (created_at[request_of[r["message_id"]]] - r["sent_at"]) * 1000
        for r in records
        if request_of.get(r["message_id"]) in created_at and r.get("sent_at")
        and created_at[request_of[r["message_id"]]]
    ]
    rejected = int(metrics.count(metrics.dlq_writes, connector="chatbot", stage="translate"))
    urbest_ledger = final["urbest"]["ledger"]
    chatbot_ledger = final["chatbot"]["ledger"]
    checks = [
        Check("every message accepted by the hub", sent["sent"] == len(accepted) > 0,
              f"{len(accepted)} accepted of {sent['sent']} sent"),
        Check("every well-formed message became one intervention", not missing and not doubled
              and not strangers,
              f"{len(interventions)} interventions for {len(records)} messages; missing "
              f"{len(missing)}, doubled {len(doubled)}, unexpected {len(strangers)}"),
        Check("every tenant got one acknowledgement and one status", replies_by == expected_replies,
              f"{len(replies)} replies for {len(records)} messages"),
        Check("every malformed payload dead-lettered with its reason", rejected == malformed,
              f"{malformed} malformed, {rejected} in pivot.dlq.chatbot"),
        Check("no write applied twice in any satellite",
              urbest_ledger["duplicates_applied"] == 0 and chatbot_ledger["duplicates_applied"] == 0,
              f"urbest {urbest_ledger['duplicates_applied']}, "
              f"chatbot {chatbot_ledger['duplicates_applied']} duplicate applications"),
    ]
    return checks, latencies


def _connector_counts(metrics: PivotMetrics, names: list[str]) -> dict[str, dict[str, int]]:
    return {
        name: {
            "in": int(metrics.count(metrics.events_in, connector=name, outcome=Outcome.OK)),
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
