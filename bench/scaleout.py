"""Figure 5: the translate stage with 1 worker process, then 2 in one consumer group.

Scaling out as an operator does it: one worker process (``python -m bench.worker -c erp
--stage translate``: the ERP connector's translate loop as ``pivot worker`` runs it) consumes
``pivot.raw.erp``, a topic of ``partitions`` partitions; once it is assigned, ``messages`` raw
ERP lot records (those of figure 1) are put on the topic and timed from the first record sent
to the last canonical event read back from ``pivot.canonical.lot``. Then a second worker joins
the group; once the group is rebalanced (the newcomer has partitions), as many other lot
records are timed the same way. Same broker, same store (the second run's store already holds
the first run's lots: if anything, that slows the second run).

Each run must produce exactly ``messages`` canonical events, all distinct, and no dead letter.
The speed-up is the throughput with 2 workers over the throughput with 1.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from bench.harness import (
    BusWatch,
    Check,
    child_env,
    fresh_store,
    prepare_hub,
    raw_envelopes,
    reset_topics,
    wait_for_progress,
)
from bench.pipeline import raw_erp_records
from bench.processes import Child, stop_all
from pivot.bus import topics


@dataclass
class ScaleRun:
    """One run: ``workers`` processes translating ``messages`` records."""

    workers: int
    per_s: float = 0.0
    seconds: float = 0.0
    #: How long putting the records on the raw topic took (within ``seconds``).
    produce_seconds: float = 0.0
    canonical: int = 0
    distinct: int = 0
    dead_letters: int = 0
    peak_rss_mb: dict[str, float | None] = field(default_factory=dict)


@dataclass
class ScaleoutResult:
    """Throughput of the translate stage with 1 and 2 worker processes."""

    messages: int
    partitions: int
    runs: dict[int, ScaleRun] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        """Throughput with 2 workers over throughput with 1."""
        one, two = self.runs.get(1), self.runs.get(2)
        return two.per_s / one.per_s if one and two and one.per_s else 0.0


def _measure(bootstrap: str, watch: BusWatch, run: ScaleRun,
             records: list[tuple[bytes, bytes]], stall_s: float) -> None:
    lots, dlq = topics.canonical("lot"), topics.dlq("erp")
    before = {topic: watch.by_topic[topic] for topic in (lots, dlq)}
    first = len(watch.ids)
    target = before[lots] + before[dlq] + len(records)
    serialised = raw_envelopes(records)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             batch_size=256 * 1024)
    began = time.time()
    for key, value, headers in serialised:
        producer.send(topics.raw("erp"), key=key, value=value, headers=headers)
    producer.flush()
    run.produce_seconds = round(time.time() - began, 2)
    producer.close()
    wait_for_progress(lambda: watch.by_topic[lots] + watch.by_topic[dlq], target, stall_s=stall_s)
    ended = watch.last_at
    watch.settle()
    run.seconds = round(ended - began, 2)
    run.per_s = round(len(records) / (ended - began), 1) if ended > began else 0.0
    run.canonical = watch.by_topic[lots] - before[lots]
    run.dead_letters = watch.by_topic[dlq] - before[dlq]
    run.distinct = len(set(watch.ids[first:])) - run.dead_letters


def run(bootstrap: str, workdir: Path, *, messages: int, partitions: int = 4,
        database_server: str | None = None, stall_s: float = 60.0) -> ScaleoutResult:
    """1 worker translates ``messages`` records; a 2nd joins its group; both translate as many."""
    result = ScaleoutResult(messages=messages, partitions=partitions)
    records = raw_erp_records(2 * messages)
    reset_topics(bootstrap)
    with fresh_store(workdir, "scaleout", database_server) as database_url, \
            contextlib.ExitStack() as stack:
        prepare_hub(bootstrap, database_url, partitions)
        env = child_env(bootstrap, database_url, partitions)
        watch = stack.enter_context(contextlib.closing(BusWatch(
            bootstrap, [topics.canonical("lot"), topics.dlq("erp")])))
        # both processes load at once; the second joins the group when the first run is done
        workers = [stack.enter_context(Child(f"translate-{n}", "bench.worker", [
            "-c", "erp", "--stage", "translate", "--start", "now" if n == 1 else "on-go"],
            env, workdir)) for n in (1, 2)]
        workers[1].expect("loaded", 120)
        for count, lot_records in ((1, records[:messages]), (2, records[messages:])):
            if count == 2:
                workers[1].send("go")
            # the newcomer has partitions once the group is rebalanced among all its workers
            workers[count - 1].expect("ready", 120)
            one = result.runs[count] = ScaleRun(count)
            _measure(bootstrap, watch, one, lot_records, stall_s)
            result.checks.append(Check(
                "scaleout", f"{count} worker(s): exactly one canonical event per record",
                one.canonical == one.distinct == messages and one.dead_letters == 0,
                f"{one.canonical} canonical events ({one.distinct} distinct) for {messages} "
                f"records, {one.dead_letters} dead letters"))
        stop_all(workers)
        peak = {c.key: c.peak_rss_mb for c in workers}
    for one in result.runs.values():
        one.peak_rss_mb = peak
    return result


def as_json(result: ScaleoutResult) -> dict[str, Any]:
    """The figure's keys in ``pivot bench --json``."""
    out: dict[str, Any] = {
        "scaleout_speedup": round(result.speedup, 2),
        "scaleout_messages": result.messages,
        "scaleout_partitions": result.partitions,
    }
    for count, one in sorted(result.runs.items()):
        out[f"scaleout_{count}_worker{'s' if count > 1 else ''}_per_s"] = one.per_s
    out["scaleout_peak_rss_mb"] = result.runs[max(result.runs)].peak_rss_mb if result.runs else {}
    return out
