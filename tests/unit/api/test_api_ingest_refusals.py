"""The hub API without a broker: refusals of the ingest endpoint, health, metrics, OpenAPI.

Every refusal here must be decided before the bus is touched, so the hub points at a port
nothing listens on: a refusal that tried to produce would hang, then fail.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from connectors.chatbot import ChatbotConnector
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.hub import Hub
from pivot.serving import free_port
from pivot.settings import ApiSettings, PivotSettings
from pivot.store import Store
from pivot.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

DEV_SECRET = "pivot-dev-secret"
MAX_BODY = 2_048
PAYLOAD: dict[str, Any] = {
    "event": "message.created",
    "event_id": "evt_5f0c2a1b9d8e7f60",
    "occurred_at": "2026-11-24T09:12:03.120Z",
    "conversation": {"id": "conv_a1b2c3d4e5f60718", "channel": "whatsapp"},
    "message": {
        "id": "msg_0f1e2d3c4b5a6978",
        "text": "Bonjour, j'ai une fuite d'eau sous l'évier de la cuisine depuis ce matin",
        "sent_at": "2026-11-24T09:12:02.900Z",
    },
    "user": {
        "id": "CB-USR-000123",
        "display_name": "Mme Nadia Benali",
        "phone": "+33612345678",
        "email": "nadia.benali@example.fr",
        "erp_tenant_ref": "LOC-0004567",
    },
}
BODY = json.dumps(PAYLOAD, ensure_ascii=False).encode()
INGEST = "/v1/ingest/chatbot"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub on a migrated SQLite store whose broker address answers nothing."""
    store = Store(f"sqlite:///{tmp_path / 'pivot.db'}")
    store.migrate()
    settings = PivotSettings(api=ApiSettings(max_body_bytes=MAX_BODY, webhook_secret=DEV_SECRET))
    hub = Hub(settings, f"127.0.0.1:{free_port()}", store=store,
              metrics=PivotMetrics(CollectorRegistry()), connectors={"chatbot": ChatbotConnector()})
    yield hub
    assert hub._producer is None, "a refusal reached the producer"
    hub.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def _problem(answer: Any, status: int, error: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    document = answer.json()
    assert document["error"] == error
    assert isinstance(document["detail"], str) and document["detail"]
    return document  # type: ignore[no-any-return]


def _ingested(hub: Hub, connector: str, outcome: str) -> float:
    return hub.metrics.count(hub.metrics.ingested, connector=connector, outcome=outcome)


@pytest.mark.parametrize("connector", ["ublo_v2", "chatbot2", "Chatbot"])
def test_unknown_connector_is_a_404(client: TestClient, hub: Hub, connector: str) -> None:
    answer = client.post(f"/v1/ingest/{connector}", content=BODY, headers=sign(DEV_SECRET, BODY))
    document = _problem(answer, 404, "unknown_connector")
    assert connector in document["detail"]
    assert _ingested(hub, "-", "rejected") == 1
    assert _ingested(hub, connector, "rejected") == 0  # label values stay bounded


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {TIMESTAMP_HEADER: str(int(time.time()))},
        {SIGNATURE_HEADER: sign(DEV_SECRET, BODY)[SIGNATURE_HEADER]},
        {TIMESTAMP_HEADER: "", SIGNATURE_HEADER: ""},
    ],
    ids=["none", "timestamp-only", "signature-only", "empty"],
)
def test_missing_signature_is_a_401(client: TestClient, hub: Hub, headers: dict[str, str]) -> None:
    _problem(client.post(INGEST, content=BODY, headers=headers), 401, "bad_signature")
    assert _ingested(hub, "chatbot", "rejected") == 1


@pytest.mark.parametrize(
    "headers",
    [
        sign("ublo-shared-secret", BODY),
        sign(DEV_SECRET, BODY.replace(b"LOC-0004567", b"LOC-0004568")),
        {**sign(DEV_SECRET, BODY), SIGNATURE_HEADER: sign(DEV_SECRET, BODY)[SIGNATURE_HEADER].upper()},
        {**sign(DEV_SECRET, BODY), TIMESTAMP_HEADER: str(int(time.time()) - 1)},
        {**sign(DEV_SECRET, BODY), TIMESTAMP_HEADER: "2026-11-24T09:12:03Z"},
        {**sign(DEV_SECRET, BODY), SIGNATURE_HEADER: "sha256=" + "0" * 64},
    ],
    ids=["other-secret", "other-body", "upper-case", "timestamp-changed", "iso-timestamp", "zeros"],
)
def test_wrong_signature_is_a_401(client: TestClient, hub: Hub, headers: dict[str, str]) -> None:
    _problem(client.post(INGEST, content=BODY, headers=headers), 401, "bad_signature")
    assert _ingested(hub, "chatbot", "rejected") == 1


@hyp_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0, max_value=len(BODY) - 1), flip=st.integers(1, 255))
def test_any_tampered_byte_is_a_401(client: TestClient, position: int, flip: int) -> None:
    headers = sign(DEV_SECRET, BODY)
    tampered = bytearray(BODY)
    tampered[position] ^= flip
    answer = client.post(INGEST, content=bytes(tampered), headers=headers)
    assert answer.status_code == 401, answer.text


@pytest.mark.parametrize("offset_s", [-1, +1], ids=["too-old", "too-far-in-future"])
def test_timestamp_outside_the_tolerance_is_a_401(
    client: TestClient, hub: Hub, offset_s: int
) -> None:
    tolerance = hub.settings.api.signature_tolerance_s
    ts = int(time.time()) + offset_s * (tolerance + 30)
    document = _problem(client.post(INGEST, content=BODY, headers=sign(DEV_SECRET, BODY, ts)), 401,
                        "bad_signature")
    assert "tolerance" in document["detail"]


def test_timestamp_inside_the_tolerance_passes_the_signature_check(client: TestClient, hub: Hub) -> None:
    # Correctly signed a little while ago, but not JSON: refused after the signature check.
    body = b"fuite d'eau"
    ts = int(time.time()) - hub.settings.api.signature_tolerance_s + 30
    _problem(client.post(INGEST, content=body, headers=sign(DEV_SECRET, body, ts)), 400, "invalid_json")


@pytest.mark.parametrize(
    "body",
    [
        b"{\"event\": \"message.created\", ",
        b"Bonjour, j'ai une fuite d'eau",
        b"\xff\xfe\x00{}",
        b"",
    ],
    ids=["truncated", "plain-text", "not-utf8", "empty"],
)
def test_invalid_json_correctly_signed_is_a_400(client: TestClient, hub: Hub, body: bytes) -> None:
    _problem(client.post(INGEST, content=body, headers=sign(DEV_SECRET, body)), 400, "invalid_json")
    assert _ingested(hub, "chatbot", "rejected") == 1


def test_body_over_the_limit_is_a_413(client: TestClient, hub: Hub) -> None:
    padded = json.dumps({**PAYLOAD, "message": {**PAYLOAD["message"], "text": "é" * MAX_BODY}}).encode()
    assert len(padded) > MAX_BODY
    document = _problem(client.post(INGEST, content=padded, headers=sign(DEV_SECRET, padded)), 413,
                        "payload_too_large")
    assert str(MAX_BODY) in document["detail"]
    # The size is checked before the connector: an unknown connector is refused the same way.
    _problem(client.post("/v1/ingest/inconnu", content=padded), 413, "payload_too_large")
    assert _ingested(hub, "chatbot", "rejected") == 1
    assert _ingested(hub, "-", "rejected") == 1


def test_body_of_exactly_the_limit_is_not_refused_for_its_size(client: TestClient) -> None:
    exact = b" " * (MAX_BODY - 2) + b"{}"
    assert client.post(INGEST, content=exact).status_code == 401
    assert client.post(INGEST, content=exact + b" ").status_code == 413


def _asgi_post(app: FastAPI, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """POST a chunked body straight through ASGI; return (status, chunks the app consumed)."""
    consumed = 0
    status = 0

    async def run() -> None:
        nonlocal consumed, status

        async def receive() -> dict[str, Any]:
            nonlocal consumed
            if consumed < len(chunks):
                consumed += 1
                return {"type": "http.request", "body": chunks[consumed - 1],
                        "more_body": consumed < len(chunks)}
            await asyncio.sleep(3600)  # the client keeps the connection open
            return {"type": "http.disconnect"}  # pragma: no cover

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": INGEST, "raw_path": INGEST.encode(), "query_string": b"",
            "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    asyncio.run(run())
    return status, consumed


def test_chunked_body_over_the_limit_is_refused_without_reading_it_all(hub: Hub) -> None:
    # No Content-Length (chunked transfer): the limit must hold while streaming.
    chunk = b"x" * 512
    chunks = [chunk] * 400  # 200 KiB offered, the limit is 2 KiB
    status, consumed = _asgi_post(create_app(hub), chunks, [(b"transfer-encoding", b"chunked")])
    assert status == 413
    assert consumed <= MAX_BODY // len(chunk) + 1
    assert consumed < len(chunks)
    assert _ingested(hub, "chatbot", "rejected") == 1


def test_declared_length_over_the_limit_is_refused_before_reading(hub: Hub) -> None:
    status, consumed = _asgi_post(create_app(hub), [b"{}"] * 10,
                                  [(b"content-length", str(MAX_BODY * 100).encode())])
    assert status == 413
    assert consumed == 0


def test_healthz(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client: TestClient) -> None:
    # Its counterpart (200 on a live broker) is in tests/integration/api.
    started = time.monotonic()
    answer = client.get("/readyz")
    assert time.monotonic() - started < 5
    assert answer.status_code == 503
    assert answer.json() == {"ready": False, "checks": {"broker": False, "store": True}}


def test_metrics_count_refusals_by_outcome_with_bounded_labels(client: TestClient) -> None:
    client.post(INGEST, content=BODY)  # unsigned
    client.post(INGEST, content=b"pas du json", headers=sign(DEV_SECRET, b"pas du json"))
    client.post("/v1/ingest/LOC-0004567", content=BODY, headers=sign(DEV_SECRET, BODY))
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = {
        (s.labels["connector"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
        if s.name == "pivot_ingest_requests_total"
    }
    assert samples == {("chatbot", "rejected"): 2.0, ("-", "rejected"): 1.0}
    assert "LOC-0004567" not in answer.text  # a path segment never becomes a label value


def test_openapi_documents_the_ingest_endpoint(client: TestClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    ingest = paths["/v1/ingest/{connector}"]["post"]
    assert {"202", "400", "401", "404", "413", "503"} <= set(ingest["responses"])
    assert {p["name"] for p in ingest["parameters"]} >= {"connector", "x-pivot-timestamp",
                                                        "x-pivot-signature"}
    assert {"/healthz", "/readyz", "/metrics"} <= set(paths)
