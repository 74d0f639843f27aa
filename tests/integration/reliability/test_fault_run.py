"""5,000 canonical events through a maintenance tool at 20 % 5xx and 5 % timeouts."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from observability.metrics import PivotMetrics
from pivot.settings import KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack
from pivot.store import xref

MESSAGES = 2_500  # each one is two canonical events: request received, intervention created
FLAKY = {"max_attempts": 8, "initial_wait_s": 0.005, "max_wait_s": 0.05, "timeout_s": 0.15}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=None))
    with running_stack(settings, f"sqlite:///{tmp_path / 'pivot.db'}", seed=5,
                       metrics=PivotMetrics(CollectorRegistry()), lots=40, start_pollers=False,
                       connector_settings={"urbest": FLAKY}) as running:
        yield running


def _state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state", timeout=60).json()


@pytest.mark.timeout(600)  # the run's own deadline (400 s) is the one that should speak
def test_five_thousand_events_through_a_flaky_satellite(stack: Stack) -> None:
    urbest = stack.sandboxes["urbest"]
    httpx.put(f"{urbest}/sandbox/faults",
              json={"error_rate": 0.2, "timeout_rate": 0.05, "timeout_delay_s": 0.25}).raise_for_status()
    sent = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                      json={"count": MESSAGES, "concurrency": 8,
                                 "kinds": "work_orders"}, timeout=600).json()
    assert sent["accepted"] == MESSAGES
    deadline = time.monotonic() + 400
    while len(_state(stack, "urbest")["interventions"]) < MESSAGES:
        assert time.monotonic() < deadline, "the run did not finish in time"
        time.sleep(1.0)
    metrics = stack.hub.metrics
    # The last call may be applied while its batch still retries a timed-out answer: the
    # batch counts its deliveries when it ends.
    while metrics.count(metrics.events_out, connector="urbest", outcome="ok") < MESSAGES:
        assert time.monotonic() < deadline, "the last batch did not finish in time"
        time.sleep(0.5)
    time.sleep(2.0)  # a duplicate would show now

    urbest_state = _state(stack, "urbest")
    assert metrics.count(metrics.events_out, connector="urbest", outcome="ok") == MESSAGES
    assert metrics.count(metrics.dlq_writes, connector="urbest") == 0
    assert metrics.count(metrics.retries, connector="urbest") > MESSAGES * 0.2
    with stack.hub.store.read_session() as session:
        requests = {xref.lookup(session, "chatbot", "request", r["message_id"])
                    for r in _state(stack, "chatbot")["sent"]}
    refs = Counter(i["external_ref"] for i in urbest_state["interventions"])
    assert set(refs) == requests and max(refs.values()) == 1
    ledger = urbest_state["ledger"]
    assert ledger["duplicates_applied"] == 0
    assert ledger["redeliveries"] > 0, "timeouts must have made the hub call again"
    assert int(metrics.count(metrics.published)) >= 2 * MESSAGES
