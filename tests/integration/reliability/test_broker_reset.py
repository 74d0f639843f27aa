"""The memory-only broker killed and restarted empty: the hub re-drives from the store."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from observability.metrics import PivotMetrics
from pivot.broker import EmbeddedBroker
from pivot.serving import free_port
from pivot.settings import EmbeddedBrokerSettings, KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack
from pivot.store import xref

MESSAGES = 60


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    own = EmbeddedBroker(EmbeddedBrokerSettings(port=free_port())).start()
    yield own
    own.stop()


@pytest.fixture
def stack(broker: EmbeddedBroker, store_url: str, topic_suffix: str) -> Iterator[Stack]:
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=broker.bootstrap, recovery_check_s=0.5))
    with running_stack(settings, store_url, seed=int(topic_suffix[:6], 16),
                       metrics=PivotMetrics(CollectorRegistry()), lots=40, start_pollers=False) as running:
        yield running


def _state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state", timeout=30).json()


def test_killed_broker_comes_back_empty_and_every_202_is_applied_once(
    broker: EmbeddedBroker, stack: Stack
) -> None:
    urbest = stack.sandboxes["urbest"]
    # a slow maintenance tool: work is still in flight when the broker dies
    httpx.put(f"{urbest}/sandbox/faults", json={"timeout_rate": 1.0, "timeout_delay_s": 0.08})
    sent = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                      json={"count": MESSAGES, "concurrency": 2,
                                 "kinds": "work_orders"}, timeout=120).json()
    assert sent["accepted"] == MESSAGES
    deadline = time.monotonic() + 30
    while len(_state(stack, "urbest")["interventions"]) < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    broker.stop(timeout_s=0.1)  # memory-only: everything it held is gone
    applied_before = len(_state(stack, "urbest")["interventions"])
    assert applied_before < MESSAGES, "the test must kill the broker mid-flow"
    broker.start()
    httpx.put(f"{urbest}/sandbox/faults", json={"timeout_rate": 0.0})

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if (len(_state(stack, "urbest")["interventions"]) >= MESSAGES
                and len(_state(stack, "chatbot")["replies"]) >= 2 * MESSAGES):
            break
        time.sleep(0.2)
    time.sleep(1.5)

    chatbot, urbest_state = _state(stack, "chatbot"), _state(stack, "urbest")
    with stack.hub.store.read_session() as session:
        requests = {xref.lookup(session, "chatbot", "request", r["message_id"])
                    for r in chatbot["sent"] if r["accepted"]}
    refs = Counter(i["external_ref"] for i in urbest_state["interventions"])
    assert set(refs) == requests and max(refs.values()) == 1
    assert urbest_state["ledger"]["duplicates_applied"] == 0
    assert chatbot["ledger"]["duplicates_applied"] == 0
    assert Counter(r["kind"] for r in chatbot["replies"]) == {"acknowledgement": MESSAGES,
                                                              "status": MESSAGES}
