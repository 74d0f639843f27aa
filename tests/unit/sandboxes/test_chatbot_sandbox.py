"""The chatbot sandbox: tenants, message bank, signed webhooks pushed to the hub, replies, documents."""

from __future__ import annotations

import base64
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


# -- documents ---------------------------------------------------------------------------------

CERTIFICATE = ("MAIF\nATTESTATION D'ASSURANCE HABITATION\nAssurée : Mme Camille ROUSSEAU\n"
               "N° de contrat : 4589127 F\nAdresse du risque : 12 rue Paul Bert, 69003 Lyon\n"
               "Valable du 01/10/2026 au 30/09/2027\n").encode()


def _send(client: TestClient, user_id: str, content: bytes = CERTIFICATE, **over: Any) -> Any:
    body = {"user_id": user_id, "text": "Bonjour, voici mon attestation d'assurance habitation.",
            "filename": "attestation_MAIF_2026.txt", "content_type": "text/plain; charset=utf-8",
            "content_b64": base64.b64encode(content).decode(), **over}
    return client.post("/sandbox/documents/send", json=body)


def test_a_sent_document_is_pushed_with_its_attachment_and_served(fake_hub: FakeHub) -> None:
    app = create_app(seed=42, hub_url=fake_hub.url, webhook_secret=HUB_SECRET)
    client = TestClient(app)
    tenant = _state(app).tenants[3]
    pdf = b"%PDF-1.4\n% attestation\n"
    answer = _send(client, tenant.user_id, pdf, filename="attestation_été.pdf",
                   content_type="application/pdf")
    assert answer.status_code == 200
    result = answer.json()
    assert set(result) == {"message_id", "conversation_id", "attachment_id", "accepted"}
    assert result["accepted"] is True
    assert re.fullmatch(r"att_[0-9a-f]{16}", result["attachment_id"])

    (received,) = fake_hub.received
    assert received["signature_ok"] and received["connector"] == "chatbot"
    body = json.loads(received["body"])
    assert body["event"] == "message.created"
    assert body["conversation"]["id"] == result["conversation_id"]
    assert body["message"]["id"] == result["message_id"]
    assert body["message"]["attachments"] == [{"id": result["attachment_id"],
                                               "content_type": "application/pdf",
                                               "filename": "attestation_été.pdf"}]
    assert body["user"]["id"] == tenant.user_id

    document = client.get(f"/api/v1/attachments/{result['attachment_id']}")
    assert document.status_code == 200 and document.content == pdf
    assert document.headers["content-type"] == "application/pdf"
    assert "attestation_%C3%A9t%C3%A9.pdf" in document.headers["content-disposition"]

    state = client.get("/sandbox/state").json()
    assert state["sent"][-1]["attachment_ids"] == [result["attachment_id"]]
    assert state["sent"][-1]["accepted"] and state["sent"][-1]["attempts"] == 1
    (stored,) = state["documents"]
    assert "content" not in stored and stored["size"] == len(pdf)
    shown = client.get(f"/api/v1/conversations/{result['conversation_id']}").json()
    assert shown["messages"][0]["attachments"][0]["id"] == result["attachment_id"]


def test_a_text_document_keeps_its_content_type(fake_hub: FakeHub) -> None:
    app = create_app(hub_url=fake_hub.url, webhook_secret=HUB_SECRET)
    client = TestClient(app)
    result = _send(client, _state(app).tenants[0].user_id).json()
    document = client.get(f"/api/v1/attachments/{result['attachment_id']}")
    assert document.content == CERTIFICATE
    assert document.headers["content-type"] == "text/plain; charset=utf-8"


def test_document_errors(fake_hub: FakeHub) -> None:
    assert _send(TestClient(create_app()), "CB-USR-000001").json()["error"] == "no_hub_url"
    app = create_app(hub_url=fake_hub.url, webhook_secret=HUB_SECRET)
    client, user = TestClient(app), _state(app).tenants[0].user_id
    unknown = _send(client, "CB-USR-999999")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_user")
    not_b64 = _send(client, user, content_b64="pas du base64 !")
    assert (not_b64.status_code, not_b64.json()["error"]) == (422, "invalid_document")
    assert _send(client, user, content_type="application/pdf\r\nX-Injected: 1").status_code == 422
    assert _send(client, user, b"").status_code == 422
    missing = client.get("/api/v1/attachments/att_0000000000000000")
    assert (missing.status_code, missing.json()["error"]) == (404, "unknown_attachment")
    assert fake_hub.received == [] and _state(app).documents == {}


def test_attachment_reads_fail_only_with_faults_on_reads(fake_hub: FakeHub) -> None:
    app = create_app(hub_url=fake_hub.url, webhook_secret=HUB_SECRET)
    client = TestClient(app)
    path = f"/api/v1/attachments/{_send(client, _state(app).tenants[0].user_id).json()['attachment_id']}"
    client.put("/sandbox/faults", json={"error_rate": 1.0})
    assert client.get(path).status_code == 200
    client.put("/sandbox/faults", json={"error_rate": 1.0, "faults_on_reads": True})
    assert client.get(path).status_code == 503


def test_a_document_push_is_retried_like_a_message() -> None:
    app = create_app(hub_url=HUB, retry_backoff_s=0.001)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INGEST).mock(side_effect=[
            httpx.Response(503), httpx.Response(202, json={"ingestion_id": "ing_7"})])
        result = _send(TestClient(app), _state(app).tenants[0].user_id).json()
    assert result["accepted"] and route.call_count == 2
    assert len({call.request.content for call in route.calls}) == 1
    assert _state(app).sent[-1]["ingestion_id"] == "ing_7"


def test_sending_a_document_leaves_the_seeded_messages_unchanged() -> None:
    def bodies(send_first: bool) -> list[dict[str, Any]]:
        app = create_app(seed=5, hub_url=HUB)
        with respx.mock() as mock:
            route = mock.post(INGEST).mock(return_value=httpx.Response(202, json={}))
            if send_first:
                _send(TestClient(app), _state(app).tenants[0].user_id)
            _state(app).simulate(3, concurrency=1)
        out = [json.loads(call.request.content) for call in route.calls][-3:]
        for body in out:
            del body["occurred_at"], body["message"]["sent_at"]
        return out

    assert bodies(send_first=True) == bodies(send_first=False)
