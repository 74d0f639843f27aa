"""The ingest API on the embedded Kafka-protocol broker: 202 means the payload is on its topic."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from connectors.chatbot import ChatbotConnector
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.hub import Hub
from pivot.settings import PivotSettings
from pivot.store import Store
from pivot.webhooks import sign

DEV_SECRET = "pivot-dev-secret"
TOPIC = "pivot.raw.chatbot"
INGEST = "/v1/ingest/chatbot"


def _payload(conversation_id: str = "conv_a1b2c3d4e5f60718", event_id: str = "evt_5f0c2a1b9d8e7f60",
             text: str = "Bonjour, j'ai une fuite d'eau sous l'évier de la cuisine depuis ce matin",
             ) -> dict[str, Any]:
    return {
        "event": "message.created",
        "event_id": event_id,
        "occurred_at": "2026-11-24T09:12:03.120Z",
        "conversation": {"id": conversation_id, "channel": "whatsapp"},
        "message": {"id": "msg_0f1e2d3c4b5a6978", "text": text, "sent_at": "2026-11-24T09:12:02.900Z"},
        "user": {
            "id": "CB-USR-000123",
            "display_name": "Mme Nadia Benali",
            "phone": "+33612345678",
            "email": "nadia.benali@example.fr",
            "erp_tenant_ref": "LOC-0004567",
        },
    }


def _body(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


@pytest.fixture
def hub(bootstrap: str, tmp_path: Path) -> Iterator[Hub]:
    """A prepared hub: migrated SQLite store, topics created on the session's broker."""
    store = Store(f"sqlite:///{tmp_path / 'pivot.db'}")
    hub = Hub(PivotSettings(), bootstrap, store=store, metrics=PivotMetrics(CollectorRegistry()),
              connectors={"chatbot": ChatbotConnector()})
    hub.prepare()
    yield hub
    hub.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub)) as test_client:
        yield test_client


def _headers(record: ConsumerRecord) -> dict[str, bytes]:
    return dict(record.headers or [])


def _consume(bootstrap: str, *ingestion_ids: str, timeout_s: float = 10.0) -> list[ConsumerRecord]:
    """Records of the raw topic from the earliest offset, until every ingestion id was read."""
    wanted = {i.encode() for i in ingestion_ids}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             fetch_max_wait_ms=50)
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout_s
    try:
        partitions = consumer.partitions_for_topic(TOPIC)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.05)
            partitions = consumer.partitions_for_topic(TOPIC)
        assert partitions, f"{TOPIC} has no partitions"
        assigned = [TopicPartition(TOPIC, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            if wanted <= {_headers(r).get("ce_id") for r in records}:
                return records
    finally:
        consumer.close()
    raise AssertionError(f"{ingestion_ids} not all on {TOPIC} within {timeout_s} s ({len(records)} read)")


def _only(records: list[ConsumerRecord], ingestion_id: str) -> ConsumerRecord:
    matching = [r for r in records if _headers(r).get("ce_id") == ingestion_id.encode()]
    assert len(matching) == 1, f"{len(matching)} records carry ce_id {ingestion_id}"
    return matching[0]


def test_prepare_creates_the_connector_topics(hub: Hub, bootstrap: str) -> None:
    hub.prepare()  # idempotent
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    assert {TOPIC, "pivot.dlq.chatbot"} <= existing
    assert set(hub.topics()) <= existing


def test_signed_payload_is_acknowledged_only_once_on_the_raw_topic(
    client: TestClient, hub: Hub, bootstrap: str
) -> None:
    body = _body(_payload())
    before = time.time()
    answer = client.post(INGEST, content=body,
                         headers={**sign(DEV_SECRET, body), "content-type": "application/json"})
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["topic"] == TOPIC and accepted["connector"] == "chatbot"
    ingestion_id = accepted["ingestion_id"]
    assert str(uuid.UUID(ingestion_id)) == ingestion_id

    record = _only(_consume(bootstrap, ingestion_id), ingestion_id)
    assert record.value == body  # byte-identical, accents included
    assert record.key == b"conv_a1b2c3d4e5f60718"
    headers = _headers(record)
    assert headers["ce_id"] == ingestion_id.encode()
    assert headers["ce_type"] == b"fr.pivot.raw.received.v1"
    assert headers["ce_source"] == b"/connectors/chatbot"
    assert headers["ce_specversion"] == b"1.0"
    assert before - 1 <= float(headers["pivot_ingested_at"]) <= time.time() + 1
    assert hub.metrics.count(hub.metrics.ingested, connector="chatbot", outcome="ok") == 1


def test_the_same_webhook_posted_twice_gets_two_ingestion_ids(
    client: TestClient, bootstrap: str
) -> None:
    # The satellite retried after a timeout, signing again: both copies are kept, the event id
    # dedups later. The very same signed request again is a replay, refused.
    body = _body(_payload(conversation_id=f"conv_{uuid.uuid4().hex[:16]}"))
    signed = sign(DEV_SECRET, body)
    first = client.post(INGEST, content=body, headers=signed)
    replayed = client.post(INGEST, content=body, headers=signed)
    assert replayed.status_code == 409 and replayed.json()["error"] == "replayed_webhook"
    second = client.post(INGEST, content=body,
                         headers=sign(DEV_SECRET, body, int(signed["X-Pivot-Timestamp"]) + 1))
    assert first.status_code == second.status_code == 202
    ids = [first.json()["ingestion_id"], second.json()["ingestion_id"]]
    assert ids[0] != ids[1]
    records = _consume(bootstrap, *ids)
    copies = [_only(records, i) for i in ids]
    assert [c.value for c in copies] == [body, body]
    assert copies[0].partition == copies[1].partition  # same key, same partition, order kept
    assert copies[0].offset < copies[1].offset


@pytest.mark.parametrize(
    "payload",
    [
        [{"event": "message.created"}],
        {"event": "message.created", "conversation": {"channel": "sms"}},
        {"event": "message.created", "conversation": {"id": ""}},
        "Bonjour",
    ],
    ids=["array", "no-conversation-id", "empty-conversation-id", "json-string"],
)
def test_payload_without_a_source_key_is_keyed_by_its_ingestion_id(
    client: TestClient, bootstrap: str, payload: Any
) -> None:
    # Valid JSON the mapping will refuse later: accepted as received, the translator DLQs it.
    body = _body(payload)
    answer = client.post(INGEST, content=body, headers=sign(DEV_SECRET, body))
    assert answer.status_code == 202, answer.text
    ingestion_id = answer.json()["ingestion_id"]
    record = _only(_consume(bootstrap, ingestion_id), ingestion_id)
    assert record.key == ingestion_id.encode()
    assert record.value == body


def test_a_refused_webhook_never_reaches_the_topic(client: TestClient, hub: Hub, bootstrap: str) -> None:
    conversation = f"conv_{uuid.uuid4().hex[:16]}"
    forged = _body(_payload(conversation, "evt_forged", "Virement à faire sur le RIB FR76 3000 6000 0112"))
    assert client.post(INGEST, content=forged,
                       headers=sign("not-the-secret", forged)).status_code == 401
    stale = _body(_payload(conversation, "evt_replayed"))
    assert client.post(INGEST, content=stale,
                       headers=sign(DEV_SECRET, stale, int(time.time()) - 3600)).status_code == 401
    genuine = _body(_payload(conversation, "evt_genuine"))
    answer = client.post(INGEST, content=genuine, headers=sign(DEV_SECRET, genuine))
    assert answer.status_code == 202
    records = _consume(bootstrap, answer.json()["ingestion_id"])
    same_key = [r for r in records if r.key == conversation.encode()]
    assert [r.value for r in same_key] == [genuine]
    assert hub.metrics.count(hub.metrics.ingested, connector="chatbot", outcome="rejected") == 2


def test_readyz_is_200_when_broker_and_store_answer(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"ready": True, "checks": {"broker": True, "store": True}}


def test_metrics_count_every_outcome_after_mixed_calls(client: TestClient) -> None:
    body = _body(_payload(conversation_id=f"conv_{uuid.uuid4().hex[:16]}"))
    answers = [
        client.post(INGEST, content=body, headers=sign(DEV_SECRET, body)),
        client.post(INGEST, content=body),
        client.post(INGEST, content=b"{", headers=sign(DEV_SECRET, b"{")),
        client.post("/v1/ingest/ublo", content=body, headers=sign(DEV_SECRET, body)),
    ]
    assert [a.status_code for a in answers] == [202, 401, 400, 404]
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    samples = {
        (s.labels["connector"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(metrics.text)
        for s in family.samples
        if s.name == "pivot_ingest_requests_total"
    }
    assert samples == {("chatbot", "ok"): 1.0, ("chatbot", "rejected"): 2.0, ("-", "rejected"): 1.0}


def test_openapi_lists_the_ingest_endpoint(client: TestClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert "post" in answer.json()["paths"]["/v1/ingest/{connector}"]
