"""The chatbot sandbox: tenants, message bank, signed webhooks pushed to the hub, replies."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from recording_hub import HUB_SECRET, FakeHub

from connectors.chatbot.fixtures_data import CATEGORIES, MESSAGE_BANK
from connectors.chatbot.sandbox import ChatbotState, create_app, generate_tenants
from connectors.sdk.sandbox import FaultSettings

HUB = "http://hub.test"
INGEST = f"{HUB}/v1/ingest/chatbot"


def _state(app: Any) -> ChatbotState:
    return app.state.sandbox


def test_tenant_population_is_realistic_and_seeded() -> None:
    tenants = generate_tenants(42)
    assert len(tenants) == 200
    assert all(re.fullmatch(r"CB-USR-\d{6}", t.user_id) for t in tenants)
    assert all(re.fullmatch(r"\+33[67]\d{8}", t.phone) for t in tenants)
    assert len({t.phone for t in tenants}) == 200
    assert len({t.user_id for t in tenants}) == 200
    assert {t.civility for t in tenants} == {"M.", "Mme"}
    hints = [t.erp_tenant_ref for t in tenants if t.erp_tenant_ref]
    assert 80 < len(hints) < 180
    assert all(re.fullmatch(r"LOC-\d{7}", h) for h in hints)
    assert all(re.fullmatch(r"\d{5}", t.address.postal_code) for t in tenants)
    assert generate_tenants(42) == tenants
    assert generate_tenants(43) != tenants


def test_message_bank_covers_the_taxonomy() -> None:
    assert len(MESSAGE_BANK) >= 60
    assert {m.category for m in MESSAGE_BANK} == set(CATEGORIES)
    urgencies = Counter(m.urgency for m in MESSAGE_BANK)
    assert set(urgencies) == {"urgent", "high", "normal"}
    assert urgencies["urgent"] >= 8 and urgencies["high"] >= 8
    assert len({m.register for m in MESSAGE_BANK}) >= 3
    assert len({m.text for m in MESSAGE_BANK}) == len(MESSAGE_BANK)
    stuck = [m for m in MESSAGE_BANK if "bloquée dans l'ascenseur" in m.text]
    assert stuck and all(m.urgency == "urgent" and m.category == "lift" for m in stuck)


def test_simulate_without_hub_is_a_409() -> None:
    answer = TestClient(create_app()).post("/sandbox/simulate", json={"count": 1})
    assert answer.status_code == 409
    assert answer.json()["error"] == "no_hub_url"


def test_simulate_pushes_signed_webhooks_to_a_real_hub(fake_hub: FakeHub) -> None:
    app = create_app(seed=42, hub_url=fake_hub.url, webhook_secret=HUB_SECRET)
    client = TestClient(app)
    answer = client.post("/sandbox/simulate", json={"count": 6, "concurrency": 3})
    assert answer.status_code == 200
    result = answer.json()
    assert (result["sent"], result["accepted"], result["failed"]) == (6, 6, 0)
    assert len(fake_hub.received) == 6
    assert all(r["signature_ok"] for r in fake_hub.received)
    assert all(r["connector"] == "chatbot" for r in fake_hub.received)
    assert all(r["content_type"] == "application/json" for r in fake_hub.received)

    bodies = {json.loads(r["body"])["message"]["id"]: json.loads(r["body"])
              for r in fake_hub.received}
    assert set(bodies) == set(result["message_ids"])
    users = _state(app).tenants_by_id
    for body in bodies.values():
        assert body["event"] == "message.created"
        assert re.fullmatch(r"evt_[0-9a-f]{16}", body["event_id"])
        assert re.fullmatch(r"conv_[0-9a-f]{16}", body["conversation"]["id"])
        assert body["conversation"]["channel"] in {"whatsapp", "sms", "web"}
        assert body["occurred_at"].endswith("Z")
        assert body["message"]["text"] in {m.text for m in MESSAGE_BANK}
        user = users[body["user"]["id"]]
        assert body["user"] == {"id": user.user_id, "display_name": user.display_name,
                                "phone": user.phone, "email": user.email,
                                "erp_tenant_ref": user.erp_tenant_ref}

    state = client.get("/sandbox/state").json()
    assert len(state["sent"]) == 6
    ingestion_ids = {r["ingestion_id"] for r in state["sent"]}
    assert len(ingestion_ids) == 6 and all(i.startswith("ing_") for i in ingestion_ids)
    for record in state["sent"]:
        assert record["status_code"] == 202 and record["accepted"] and not record["malformed"]
        assert isinstance(record["sent_at"], float)
        assert record["expected_category"] in CATEGORIES


def test_a_wrong_secret_is_refused_by_the_hub(fake_hub: FakeHub) -> None:
    state = _state(create_app(hub_url=fake_hub.url, webhook_secret="not-the-secret"))
    result = state.simulate(1)
    assert result.failed == 1
    assert state.sent[0]["status_code"] == 401
    assert state.sent[0]["attempts"] == 1  # a 4xx is not retried
    assert not fake_hub.received[0]["signature_ok"]


def _simulated_bodies(seed: int, count: int) -> list[dict[str, Any]]:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INGEST).mock(return_value=httpx.Response(202, json={}))
        _state(create_app(seed=seed, hub_url=HUB)).simulate(count, concurrency=1)
    bodies = [json.loads(call.request.content) for call in route.calls]
    for body in bodies:  # times are real; everything else follows the seed
        del body["occurred_at"], body["message"]["sent_at"]
    return bodies


def test_same_seed_sends_the_same_messages() -> None:
    first = _simulated_bodies(5, 4)
    assert first == _simulated_bodies(5, 4)
    assert first != _simulated_bodies(6, 4)
    assert len({b["event_id"] for b in first}) == 4


def test_retries_5xx_and_connection_errors_with_the_same_event() -> None:
    state = _state(create_app(hub_url=HUB, retry_backoff_s=0.001))
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INGEST).mock(side_effect=[
            httpx.Response(503),
            httpx.ConnectError("connection refused"),
            httpx.Response(429),
            httpx.Response(202, json={"ingestion_id": "ing_1"}),
        ])
        result = state.simulate(1)
    assert (result.accepted, result.failed) == (1, 0)
    assert route.call_count == 4
    assert len({call.request.content for call in route.calls}) == 1  # same body, same event_id
    assert state.sent[0]["attempts"] == 4
    assert state.sent[0]["ingestion_id"] == "ing_1"


def test_gives_up_after_five_retries() -> None:
    state = _state(create_app(hub_url=HUB, retry_backoff_s=0.001))
    with respx.mock() as mock:
        route = mock.post(INGEST).mock(return_value=httpx.Response(500))
        result = state.simulate(1)
    assert route.call_count == 6
    assert (result.accepted, result.failed) == (0, 1)
    assert state.sent[0]["status_code"] == 500 and state.sent[0]["sent_at"] is None


def _is_malformed(body: dict[str, Any]) -> bool:
    message = body.get("message")
    return (
        not isinstance(message, dict)
        or not isinstance(message.get("text"), str)
        or not isinstance(body.get("user", {}).get("id"), str)
    )


def test_malformed_rate_one_sends_only_malformed_payloads() -> None:
    state = _state(create_app(hub_url=HUB, faults=FaultSettings(malformed_rate=1.0)))
    with respx.mock() as mock:
        route = mock.post(INGEST).mock(return_value=httpx.Response(422, json={"error": "x"}))
        result = state.simulate(12, concurrency=4)
    assert result.malformed == 12 and result.failed == 12
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert len(bodies) == 12 and all(_is_malformed(b) for b in bodies)
    assert all(r["malformed"] and r["status_code"] == 422 for r in state.sent)
    assert len({r["malformed_kind"] for r in state.sent}) > 1


def test_no_malformed_payload_by_default() -> None:
    bodies = _simulated_bodies(42, 10)
    assert not any(_is_malformed(b) for b in bodies)


@pytest.fixture
def chat() -> tuple[TestClient, str]:
    app = create_app(hub_url=HUB)
    with respx.mock() as mock:
        mock.post(INGEST).mock(return_value=httpx.Response(202, json={}))
        _state(app).simulate(1)
    return TestClient(app), _state(app).sent[0]["conversation_id"]


def _reply(client: TestClient, conversation: str, key: str | None, **over: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"text": "Votre demande est enregistrée sous la référence DEM-3F2A9C1B.",
            "kind": "acknowledgement", "reference": "DEM-3F2A9C1B", **over}
    return client.post(f"/api/v1/conversations/{conversation}/replies", json=body,
                       headers=headers)


def test_reply_is_applied_once_per_key(chat: tuple[TestClient, str]) -> None:
    client, conversation = chat
    first = _reply(client, conversation, "evt_1")
    second = _reply(client, conversation, "evt_1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert first.json()["id"].startswith("rep_")
    assert first.json()["conversation_id"] == conversation
    state = client.get("/sandbox/state").json()
    assert len(state["replies"]) == 1
    assert state["replies"][0]["key"] == "evt_1"
    assert state["ledger"]["applications"] == 1 and state["ledger"]["redeliveries"] == 1
    shown = client.get(f"/api/v1/conversations/{conversation}").json()
    assert [r["id"] for r in shown["replies"]] == [first.json()["id"]]
    assert len(shown["messages"]) == 1


def test_reply_errors(chat: tuple[TestClient, str]) -> None:
    client, conversation = chat
    assert _reply(client, conversation, None).status_code == 400
    unknown = _reply(client, "conv_0000000000000000", "evt_2")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_conversation"
    assert _reply(client, conversation, "evt_3", kind="sms").status_code == 422
    assert client.get("/api/v1/conversations/conv_nope").status_code == 404
    assert client.get("/sandbox/state").json()["replies"] == []


def test_reply_faults(chat: tuple[TestClient, str]) -> None:
    client, conversation = chat
    client.put("/sandbox/faults", json={"error_rate": 1.0})
    assert _reply(client, conversation, "evt_1").status_code == 503
    assert client.get("/sandbox/state").json()["replies"] == []
    client.put("/sandbox/faults", json={"timeout_rate": 1.0, "timeout_delay_s": 0.05})
    assert _reply(client, conversation, "evt_1").status_code == 201
    assert client.get("/sandbox/state").json()["faults"]["timeout_rate"] == 1.0
