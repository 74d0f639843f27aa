"""End to end on real Kafka protocol, a real store and real HTTP: chatbot → hub → AI triage → urbest."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer
from prometheus_client import CollectorRegistry

from canonical_model import TenantRequest
from connectors.urbest.mapping import needs_work_order
from observability.metrics import PivotMetrics
from pivot import webhooks
from pivot.settings import KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack
from pivot.store import golden, xref

SECRET = "pivot-dev-secret"


@pytest.fixture
def stack(store_url: str, topic_suffix: str) -> Any:
    # A broker of its own (the hub's topic names are fixed, so other tests' records would show
    # up); the PostgreSQL database lives for the whole session, so a seed of its own keeps this
    # test's satellite ids (and so its event ids) apart from the other tests'.
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=None))
    with running_stack(settings, store_url, seed=int(topic_suffix[:6], 16),
                       metrics=PivotMetrics(CollectorRegistry()), lots=40, start_pollers=False) as running:
        yield running


def _message(n: int, conversation: str, run: str) -> dict[str, Any]:
    return {
        "event": "message.created", "event_id": f"evt_{run}{n:06d}",
        "occurred_at": "2026-11-24T08:30:00Z",
        "conversation": {"id": conversation, "channel": "whatsapp"},
        "message": {"id": f"msg_{run}{n:06d}", "sent_at": "2026-11-24T08:29:58Z",
                    "text": "Bonjour, le radiateur de la chambre est froid depuis dimanche."},
        "user": {"id": "CB-USR-000042", "display_name": "M. Julien Garnier",
                 "phone": "+33678451290", "email": None, "erp_tenant_ref": "LOC-0000042"},
    }


def _post(stack: Stack, payload: Any, signed_later_s: int = 0) -> httpx.Response:
    body = json.dumps(payload).encode()
    signature = webhooks.sign(SECRET, body, int(time.time()) + signed_later_s)
    headers = {"Content-Type": "application/json", **signature}
    return httpx.post(f"{stack.api_url}/v1/ingest/chatbot", content=body, headers=headers)


def _sandbox_state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state").json()


def _wait_for(predicate: Any, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the pipeline"
        time.sleep(0.1)


def _triaged(stack: Stack, message_ids: list[str]) -> dict[str, TenantRequest]:
    with stack.hub.store.read_session() as session:
        found = {}
        for message_id in message_ids:
            request_id = xref.lookup(session, "chatbot", "request", message_id)
            record = golden.get(session, request_id) if request_id else None
            if record is not None and record.data.get("category"):
                found[request_id] = TenantRequest.model_validate(record.data)
        return found


def test_tenant_messages_become_one_intervention_each(stack: Stack) -> None:
    sent = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                      json={"count": 12, "concurrency": 3}, timeout=60).json()
    assert sent["accepted"] == 12
    _wait_for(lambda: len(_triaged(stack, sent["message_ids"])) == 12)
    # questions and rent or paperwork go to the assistant and agents: no work order
    work = {rid for rid, r in _triaged(stack, sent["message_ids"]).items() if needs_work_order(r)}
    assert 0 < len(work) <= 12
    _wait_for(lambda: len(_sandbox_state(stack, "urbest")["interventions"]) >= len(work)
              and len(_sandbox_state(stack, "chatbot")["replies"]) >= 12 + len(work))
    time.sleep(0.5)
    urbest, chatbot = _sandbox_state(stack, "urbest"), _sandbox_state(stack, "chatbot")
    assert {i["external_ref"] for i in urbest["interventions"]} == work
    assert len(urbest["interventions"]) == len(work)
    assert urbest["ledger"]["duplicates_applied"] == 0
    kinds = Counter(r["kind"] for r in chatbot["replies"])
    assert kinds["acknowledgement"] == 12 and kinds["status"] == len(work)

    with stack.hub.store.session() as session:
        for record in (r for r in chatbot["sent"] if r["accepted"]):
            request_id = xref.lookup(session, "chatbot", "request", record["message_id"])
            assert request_id is not None
            if request_id not in work:
                continue
            [intervention] = [i for i in urbest["interventions"] if i["external_ref"] == request_id]
            canonical = xref.lookup(session, "urbest", "intervention", intervention["id"])
            assert canonical is not None and canonical.startswith("intervention_")
            record_ = golden.get(session, canonical)
            assert record_ is not None and record_.data["request_id"] == request_id
            lineage = golden.history(session, request_id)
            # received from the chatbot, then triaged by the AI (which urbest acted on)
            assert [v.source_system for v in lineage] == ["chatbot", "ai_triage"]
            assert [v.event_type for v in lineage] == ["fr.pivot.request.received.v1",
                                                       "fr.pivot.request.triaged.v1"]


def test_bad_payload_is_dead_lettered_and_the_partition_moves_on(
    stack: Stack, topic_suffix: str
) -> None:
    opened = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                        json={"count": 1, "concurrency": 1, "kinds": "work_orders"}, timeout=30).json()
    assert opened["accepted"] == 1
    conversation = _sandbox_state(stack, "chatbot")["sent"][0]["conversation_id"]
    malformed = _message(1, conversation, topic_suffix)
    del malformed["message"]
    assert _post(stack, malformed).status_code == 202
    good = _message(2, conversation, topic_suffix)
    assert _post(stack, good).status_code == 202
    # the satellite retried (signing again): same event id, applied once
    assert _post(stack, good, signed_later_s=1).status_code == 202
    _wait_for(lambda: len(_sandbox_state(stack, "urbest")["interventions"]) >= 2
              and len(_sandbox_state(stack, "chatbot")["replies"]) >= 4)
    time.sleep(1.0)
    urbest = _sandbox_state(stack, "urbest")
    assert len(urbest["interventions"]) == 2
    assert urbest["ledger"]["duplicates_applied"] == 0
    assert len(_sandbox_state(stack, "chatbot")["replies"]) == 4

    consumer = KafkaConsumer("pivot.dlq.chatbot", bootstrap_servers=stack.hub.bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=5_000)
    records = [r for r in consumer if json.loads(r.value).get("event_id") == malformed["event_id"]]
    consumer.close()
    assert len(records) == 1
    headers = {k: v.decode() for k, v in records[0].headers}
    assert headers["pivot_dlq_stage"] == "translate"
    assert headers["pivot_dlq_error_class"] == "MappingError"
    assert "message" in headers["pivot_dlq_message"]
    assert headers["pivot_dlq_topic"] == "pivot.raw.chatbot"
    assert json.loads(records[0].value) == malformed  # the payload, exactly as received
