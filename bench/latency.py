"""Figure 4: end-to-end latency at a fixed rate, webhook accepted → effect applied in a satellite.

The flow is a tenant writing to the chatbot: the chatbot's ``message.created`` webhook is
accepted by the hub API, translated into ``fr.pivot.request.received.v1``, and delivered back
to the chatbot as the acknowledgement reply with the request's reference (the effect). Every
part runs in a process of its own, as in production: the chatbot sandbox, the hub API
(``python -m bench.serve hub``), the chatbot's translate and deliver workers (``python -m
bench.worker -c chatbot``), and the sender (``python -m bench.load rate``), which sends the
chatbot's own webhook bodies on a fixed schedule of ``rate`` per second for ``seconds``.

Latency of one message = the time the chatbot sandbox applied its acknowledgement (``time.time()``
in the sandbox when the reply was written) − the time the hub accepted the webhook (its
journal's ``ingested_at``: durable, the instant the hub's own end-to-end metric starts from).
All processes share one clock. Send → 202 times are reported beside (``accept_*``).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.harness import (
    Check,
    child_env,
    fresh_store,
    get_json,
    percentiles,
    post_json,
    prepare_hub,
    reset_topics,
    store_for,
    wait_for_progress,
)
from bench.processes import Child, CpuMeter, expect_all, stop_all
from pivot.serving import free_port
from pivot.store.tables import Ingestion


@dataclass
class LatencyResult:
    """Latency percentiles of ``events`` webhooks sent at ``rate`` per second."""

    rate: float
    seconds: float
    events: int
    accepted: int = 0
    applied: int = 0
    #: Webhook accepted (journaled) → acknowledgement applied in the chatbot, in ms.
    latency_ms: dict[str, float] = field(default_factory=dict)
    #: Webhook sent → 202 received by the sender, in ms.
    accept_ms: dict[str, float] = field(default_factory=dict)
    #: Webhooks per second the sender really sent (the schedule held when ≈ ``rate``).
    sent_per_s: float = 0.0
    peak_rss_mb: dict[str, float | None] = field(default_factory=dict)
    #: CPU of each process from the first webhook sent to the last effect applied (cores).
    cpu: dict[str, float] = field(default_factory=dict)
    #: Those shares added up: near the machine's cores, the machine itself was the limit.
    cpu_cores: float = 0.0
    checks: list[Check] = field(default_factory=list)


def run(bootstrap: str, workdir: Path, *, rate: float, seconds: float, secret: str,
        seed: int = 42, concurrency: int = 64, database_server: str | None = None,
        broker_pid: int | None = None, stall_s: float = 30.0) -> LatencyResult:
    """Send ``rate`` × ``seconds`` chatbot messages on schedule; time each one's effect."""
    events = max(1, round(rate * seconds))
    result = LatencyResult(rate=rate, seconds=seconds, events=events)
    reset_topics(bootstrap)
    with fresh_store(workdir, "latency", database_server) as database_url, \
            contextlib.ExitStack() as stack:
        prepare_hub(bootstrap, database_url)
        chatbot_port, api_port = free_port(), free_port()
        chatbot_url = f"http://127.0.0.1:{chatbot_port}"
        env = child_env(bootstrap, database_url, PIVOT_API_WEBHOOK_SECRET=secret,
                        PIVOT_CONNECTOR_CHATBOT_BASE_URL=chatbot_url)
        children = [
            stack.enter_context(Child("chatbot-sandbox", "bench.satellite", [
                "chatbot", "--seed", str(seed), "--port", str(chatbot_port)], env, workdir)),
            stack.enter_context(Child("hub-api", "bench.serve", [
                "hub", "--port", str(api_port)], env, workdir)),
            stack.enter_context(Child("worker-chatbot", "bench.worker", [
                "-c", "chatbot"], env, workdir)),
        ]
        expect_all(children, "ready", 120)
        payloads = post_json(f"{chatbot_url}/bench/messages", {"count": events})["payloads"]
        payload_file = workdir / "latency-payloads.json"
        payload_file.write_text(json.dumps(payloads, ensure_ascii=False))
        sender = stack.enter_context(Child("sender", "bench.load", [
            "rate", "--url", f"http://127.0.0.1:{api_port}", "--connector", "chatbot",
            "--rate", f"{rate}", "--concurrency", str(concurrency),
            "--payloads", str(payload_file)], env, workdir))
        sender.expect("ready", 60)
        meter = CpuMeter({**{c.key: c.pid for c in [*children, sender]},
                          "broker": broker_pid, "bench": 0}).start()
        sender.send("go")
        sent = sender.expect("done", seconds + 120)["results"]
        accepted = [r for r in sent if r[2] == 202]
        result.accepted = len(accepted)
        wait_for_progress(lambda: get_json(f"{chatbot_url}/bench/progress")["count"],
                          result.accepted, stall_s=stall_s, every_s=0.2)
        result.cpu, result.cpu_cores = meter.stop(), meter.cores
        time.sleep(0.5)  # a duplicate would arrive now
        summary = get_json(f"{chatbot_url}/bench/summary")
        stop_all(children)
        result.peak_rss_mb = {c.key: c.peak_rss_mb for c in children}
        # read the journal before the block ends (a PostgreSQL database is dropped then)
        store = store_for(database_url)
        try:
            with store.read_session() as session:
                ingested = dict(session.execute(
                    select(Ingestion.ingestion_id, Ingestion.ingested_at)).tuples().all())
        finally:
            store.dispose()
    conversations = [p["conversation"]["id"] for p in payloads]
    replies = [r for r in summary["replies"] if r[2] == "acknowledgement"]
    result.applied = len(replies)
    per_conversation = Counter(r[0] for r in replies)
    applied_at = {r[0]: r[1] for r in replies}
    latencies, accepts, missing = [], [], 0
    for conversation, (sent_at, answered_at, _status, ingestion_id) in zip(
            conversations, sent, strict=True):
        if ingestion_id is None:
            continue
        accepts.append((answered_at - sent_at) * 1000)
        if conversation not in applied_at or ingestion_id not in ingested:
            missing += 1
            continue
        latencies.append((applied_at[conversation] - ingested[ingestion_id]) * 1000)
    result.latency_ms = {k: round(v, 1) for k, v in percentiles(latencies).items()}
    result.accept_ms = {k: round(v, 1) for k, v in percentiles(accepts).items()}
    if accepted:
        span = max(r[0] for r in accepted) - min(r[0] for r in accepted)
        result.sent_per_s = round((len(accepted) - 1) / span, 1) if span > 0 else 0.0
    twice = sum(1 for n in per_conversation.values() if n > 1)
    strangers = len(set(per_conversation) - set(conversations))
    refused = Counter(str(r[2]) for r in sent if r[2] != 202)
    result.checks = [
        Check("latency", "every webhook accepted", result.accepted == events,
              f"{result.accepted}/{events} answered 202" + (f", others {dict(refused)}"
                                                          if refused else "")),
        Check("latency", "every accepted message acknowledged once in the chatbot",
              missing == 0 and twice == 0 and strangers == 0
              and summary["ledger"]["duplicates_applied"] == 0,
              f"{len(latencies)} acknowledged, {missing} missing, {twice} twice, "
              f"{summary['ledger']['duplicates_applied']} duplicate applications"),
    ]
    return result


def as_json(result: LatencyResult) -> dict[str, Any]:
    """The figure's keys in ``pivot bench --json``."""
    return {
        "p50_ms": result.latency_ms.get("p50", 0.0),
        "p99_ms": result.latency_ms.get("p99", 0.0),
        "max_ms": result.latency_ms.get("max", 0.0),
        "latency_rate_per_s": result.rate,
        "latency_sent_per_s": result.sent_per_s,
        "latency_seconds": result.seconds,
        "latency_events": result.events,
        "accept_p50_ms": result.accept_ms.get("p50", 0.0),
        "accept_p99_ms": result.accept_ms.get("p99", 0.0),
        "latency_peak_rss_mb": result.peak_rss_mb,
        "latency_cpu": result.cpu,
        "latency_cpu_cores": result.cpu_cores,
    }
