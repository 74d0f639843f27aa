"""Broker outage: a 202 is only given for what is durable, and the spool drains in order."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from prometheus_client import CollectorRegistry

from connectors.chatbot import ChatbotConnector
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.broker import EmbeddedBroker
from pivot.hub import Hub
from pivot.settings import ApiSettings, KafkaSettings, PivotSettings
from pivot.store import Store, journal
from pivot.webhooks import sign

INGEST = "/v1/ingest/chatbot"
SECRET = "pivot-dev-secret"


def _body(n: int, conversation: str) -> bytes:
    return json.dumps({
        "event": "message.created", "event_id": f"evt_outage{n:08d}",
        "occurred_at": "2026-11-24T07:05:00Z",
        "conversation": {"id": conversation, "channel": "sms"},
        "message": {"id": f"msg_outage{n:08d}", "sent_at": "2026-11-24T07:04:59Z",
                    "text": f"Bonjour, toujours pas d'eau chaude au 3e étage (message {n})"},
        "user": {"id": "CB-USR-000311", "display_name": "Mme Chantal Roux",
                 "phone": "+33611223344", "email": None, "erp_tenant_ref": None},
    }).encode()


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as own:  # paused and resumed by the test: not the session broker
        yield own


@pytest.fixture
def hub(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Hub]:
    settings = PivotSettings(kafka=KafkaSettings(send_timeout_s=2.0),
                             api=ApiSettings(broker_ack_timeout_s=0.5))
    hub = Hub(settings, broker.bootstrap, store=Store(f"sqlite:///{tmp_path / 'pivot.db'}"),
              metrics=PivotMetrics(CollectorRegistry()), connectors={"chatbot": ChatbotConnector()})
    hub.prepare()
    yield hub
    hub.close()


def _until(condition: Callable[[], bool], message: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.02)


def _raw_ids(bootstrap: str, expected: int, timeout_s: float = 20.0) -> list[str]:
    consumer = KafkaConsumer("pivot.raw.chatbot", bootstrap_servers=bootstrap,
                             auto_offset_reset="earliest", consumer_timeout_ms=2_000)
    ids: list[str] = []
    deadline = time.monotonic() + timeout_s
    while len(set(ids)) < expected and time.monotonic() < deadline:
        ids.extend(dict(r.headers)["ce_id"].decode() for r in consumer)
    consumer.close()
    return ids


def test_paused_broker_spools_and_drains_in_order(broker: EmbeddedBroker, hub: Hub) -> None:
    conversation = f"conv_{uuid.uuid4().hex[:16]}"
    with TestClient(create_app(hub)) as client:
        first = client.post(INGEST, content=(b := _body(0, conversation)), headers=sign(SECRET, b))
        assert first.status_code == 202 and first.json()["spooled"] is False
        _until(lambda: hub.ingestion.pending == 0, "the first payload was not published")

        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            accepted, spooled = [], []
            started = time.monotonic()
            for n in range(1, 21):
                body = _body(n, conversation)
                answer = client.post(INGEST, content=body, headers=sign(SECRET, body))
                assert answer.status_code == 202, answer.text
                accepted.append(answer.json()["ingestion_id"])
                spooled.append(answer.json()["spooled"])
                if n == 1:  # the relay finds the broker silent after its ack timeout
                    _until(lambda: hub.ingestion.spooling, "the relay did not switch to the spool")
            assert time.monotonic() - started < 10, "accepting must not wait for the broker"
            assert all(spooled[1:]), "payloads accepted while the broker is away say so"
            assert hub.ingestion.pending == 20
            assert hub.metrics.spool_depth._value.get() == 20
            with hub.store.read_session() as session:
                assert journal.pending_count(session) == 20
        finally:
            os.kill(broker.pid, signal.SIGCONT)

        deadline = time.monotonic() + 30
        while hub.ingestion.pending and time.monotonic() < deadline:
            time.sleep(0.1)
        assert hub.ingestion.pending == 0
        assert hub.metrics.spool_depth._value.get() == 0

    ids = _raw_ids(broker.bootstrap, expected=21)
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == [first.json()["ingestion_id"], *accepted], "order lost across the outage"
    with hub.store.read_session() as session:
        assert journal.pending_count(session) == 0


def test_spool_left_by_a_previous_run_is_drained_at_start(hub: Hub, broker: EmbeddedBroker) -> None:
    with hub.store.session() as session:
        for n in range(3):
            journal.record(session, str(uuid.uuid4()), "chatbot", "conv_left_over", _body(n, "c"),
                           time.time())
    service = hub.ingestion
    assert service.pending == 3
    service.start()
    deadline = time.monotonic() + 20
    while service.pending and time.monotonic() < deadline:
        time.sleep(0.1)
    assert service.pending == 0
    assert len(set(_raw_ids(broker.bootstrap, expected=3))) == 3
