"""A satellite that keeps failing: bounded retries, the DLQ, then a replay that applies once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from observability.metrics import PivotMetrics
from pivot.settings import ApiSettings, KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack

ADMIN = {"X-API-Key": "pivot-dev-secret"}
READER = {"X-API-Key": "ops-read-only-7f3a"}
FAST_RETRIES = {"max_attempts": 3, "initial_wait_s": 0.01, "max_wait_s": 0.05, "timeout_s": 1.0}


@pytest.fixture
def stack(store_url: str, topic_suffix: str) -> Iterator[Stack]:
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=None),
                             api=ApiSettings(api_keys={READER["X-API-Key"]: ["dlq:read"]}))
    with running_stack(settings, store_url, seed=int(topic_suffix[:6], 16),
                       metrics=PivotMetrics(CollectorRegistry()), lots=40, start_pollers=False,
                       connector_settings={"urbest": FAST_RETRIES}) as running:
        yield running


def _state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state").json()


def _wait(predicate: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _letters(stack: Stack, headers: dict[str, str] = ADMIN) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.api_url}/v1/dlq", params={"connector": "urbest"}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["dead_letters"]


def _fail_then_dead_letter(stack: Stack, count: int) -> None:
    urbest = stack.sandboxes["urbest"]
    assert httpx.put(f"{urbest}/sandbox/faults", json={"error_rate": 1.0}).status_code == 200
    sent = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                      json={"count": count, "concurrency": 2,
                                 "kinds": "work_orders"}, timeout=60).json()
    assert sent["accepted"] == count
    _wait(lambda: len(_letters(stack)) >= count)
    assert httpx.put(f"{urbest}/sandbox/faults", json={"error_rate": 0.0}).status_code == 200


def test_api_replay_applies_each_dead_letter_once(stack: Stack) -> None:
    _fail_then_dead_letter(stack, 3)
    letters = _letters(stack)
    assert len(letters) == 3
    assert {d["stage"] for d in letters} == {"deliver"}
    assert {d["error_class"] for d in letters} == {"RetryableError"}
    assert {d["attempts"] for d in letters} == {FAST_RETRIES["max_attempts"]}
    assert all(d["original"]["topic"] == "pivot.canonical.request" for d in letters)
    metrics = stack.hub.metrics
    assert metrics.count(metrics.retries, connector="urbest") == 3 * (FAST_RETRIES["max_attempts"] - 1)
    assert _state(stack, "urbest")["interventions"] == []

    # reading is not replaying: a read-only key is refused, no key is refused
    body = {"connector": "urbest", "all": True}
    assert httpx.post(f"{stack.api_url}/v1/dlq/replay", json=body).status_code == 401
    refused = httpx.post(f"{stack.api_url}/v1/dlq/replay", json=body, headers=READER)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert len(_letters(stack, READER)) == 3

    replayed = httpx.post(f"{stack.api_url}/v1/dlq/replay", json=body, headers=ADMIN).json()
    assert replayed["count"] == 3
    _wait(lambda: len(_state(stack, "urbest")["interventions"]) >= 3
          and len(_state(stack, "chatbot")["replies"]) >= 6)
    time.sleep(1.0)
    urbest, chatbot = _state(stack, "urbest"), _state(stack, "chatbot")
    assert len(urbest["interventions"]) == 3
    assert urbest["ledger"]["duplicates_applied"] == 0
    # the chatbot had acknowledged before the failure: the replayed event is a duplicate for it
    assert Counter(r["kind"] for r in chatbot["replies"]) == {"acknowledgement": 3, "status": 3}
    assert all(d["replayed"] for d in _letters(stack))
    again = httpx.post(f"{stack.api_url}/v1/dlq/replay", json=body, headers=ADMIN).json()
    assert again["count"] == 0, "--all replays only what was not replayed yet"
    assert metrics.count(metrics.replayed, connector="urbest") == 3


def test_cli_lists_and_replays_one_letter_by_id(stack: Stack, store_url: str) -> None:
    _fail_then_dead_letter(stack, 2)
    env = {**os.environ, "PIVOT_KAFKA_BOOTSTRAP": stack.hub.bootstrap,
           "PIVOT_DATABASE_URL": store_url}
    root = Path(__file__).resolve().parents[3]

    def pivot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pivot", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120)

    listed = pivot("dlq", "list", "--connector", "urbest", "--json")
    assert listed.returncode == 0, listed.stderr
    letters = json.loads(listed.stdout)["dead_letters"]
    assert len(letters) == 2
    nothing = pivot("dlq", "replay", "--connector", "urbest")
    assert nothing.returncode != 0 and "--all" in nothing.stderr
    unknown = pivot("dlq", "replay", "--connector", "urbest", "--id", "9-999")
    assert unknown.returncode != 0 and "9-999" in unknown.stderr
    done = pivot("dlq", "replay", "--connector", "urbest", "--id", letters[0]["event_id"])
    assert done.returncode == 0, done.stderr
    assert "replayed 1" in done.stdout
    _wait(lambda: len(_state(stack, "urbest")["interventions"]) >= 1)
    time.sleep(1.0)
    [intervention] = _state(stack, "urbest")["interventions"]
    assert intervention["external_ref"].startswith("request_")
