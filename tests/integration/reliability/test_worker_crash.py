"""SIGKILL a worker process at random points while tenants write: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from connectors.chatbot import ChatbotConnector
from connectors.chatbot import sandbox as chatbot_sandbox
from connectors.urbest import sandbox as urbest_sandbox
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.broker import EmbeddedBroker
from pivot.hub import Hub
from pivot.serving import ServerThread, free_port
from pivot.settings import PivotSettings
from pivot.store import Store, xref

ROOT = Path(__file__).resolve().parents[3]
MESSAGES = 300
KILLS = 4


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    database = f"sqlite:///{tmp_path / 'pivot.db'}"
    with EmbeddedBroker() as broker:
        api_port = free_port()
        urbest = ServerThread(urbest_sandbox.create_app(seed=11)).start()
        chatbot = ServerThread(chatbot_sandbox.create_app(
            seed=11, hub_url=f"http://127.0.0.1:{api_port}")).start()
        hub = Hub(PivotSettings(), broker.bootstrap, store=Store(database),
                  metrics=PivotMetrics(CollectorRegistry()), connectors={"chatbot": ChatbotConnector()})
        hub.prepare()
        api = ServerThread(create_app(hub), port=api_port).start()
        env = {**os.environ, "PIVOT_KAFKA_BOOTSTRAP": broker.bootstrap, "PIVOT_DATABASE_URL": database,
               "PIVOT_CONNECTOR_CHATBOT_BASE_URL": chatbot.url,
               "PIVOT_CONNECTOR_URBEST_BASE_URL": urbest.url, "PIVOT_LOG_LEVEL": "ERROR"}
        try:
            yield {"env": env, "chatbot": chatbot.url, "urbest": urbest.url, "store": hub.store}
        finally:
            api.stop()
            chatbot.stop()
            urbest.stop()
            hub.close()


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    connectors = ["-c", "chatbot", "-c", "ai_triage", "-c", "urbest"]
    return subprocess.Popen([sys.executable, "-m", "pivot", "worker", *connectors], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _state(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}/sandbox/state", timeout=30).json()


def _progress(world: dict[str, Any]) -> int:
    """Effects applied so far: interventions created plus replies sent to tenants."""
    return (len(_state(world["urbest"])["interventions"])
            + len(_state(world["chatbot"])["replies"]))


def test_sigkill_at_random_points_loses_and_doubles_nothing(world: dict[str, Any]) -> None:
    rng = random.Random(20261124)
    sender = threading.Thread(target=lambda: httpx.post(
        f"{world['chatbot']}/sandbox/simulate", json={"count": MESSAGES, "concurrency": 2,
                                 "kinds": "work_orders"},
        timeout=300))
    sender.start()
    kills_mid_work = 0
    for _ in range(KILLS):
        worker = _worker(world["env"])
        before = _progress(world)
        deadline = time.monotonic() + 60
        while _progress(world) == before and time.monotonic() < deadline:
            time.sleep(0.05)  # until this worker has joined its groups and applies effects
        time.sleep(rng.uniform(0.0, 0.6))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        kills_mid_work += _progress(world) > before
    sender.join(300)
    worker = _worker(world["env"])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (len(_state(world["urbest"])["interventions"]) >= MESSAGES
                    and len(_state(world["chatbot"])["replies"]) >= 2 * MESSAGES):
                break
            time.sleep(0.5)
        time.sleep(2.0)  # late duplicates, if any, would land now
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0

    assert kills_mid_work == KILLS, "a worker was killed before it did any work"
    assert _progress(world) == 3 * MESSAGES
    chatbot, urbest = _state(world["chatbot"]), _state(world["urbest"])
    accepted = [r for r in chatbot["sent"] if r["accepted"]]
    assert len(accepted) == MESSAGES
    with world["store"].read_session() as session:
        requests = {xref.lookup(session, "chatbot", "request", r["message_id"]) for r in accepted}
    assert None not in requests and len(requests) == MESSAGES
    refs = Counter(i["external_ref"] for i in urbest["interventions"])
    assert set(refs) == requests, "an intervention is missing or unexpected"
    assert max(refs.values()) == 1, "an intervention was created twice"
    assert urbest["ledger"]["duplicates_applied"] == 0
    assert chatbot["ledger"]["duplicates_applied"] == 0
    assert Counter(r["kind"] for r in chatbot["replies"]) == {"acknowledgement": MESSAGES,
                                                              "status": MESSAGES}
