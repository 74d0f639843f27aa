"""Schemathesis against the API's own OpenAPI: whatever it is sent, it never answers 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from prometheus_client import CollectorRegistry

from connectors.chatbot import ChatbotConnector
from observability.metrics import PivotMetrics
from pivot.api import create_app
from pivot.hub import Hub
from pivot.settings import KafkaSettings, PivotSettings
from pivot.store import Store


@pytest.fixture(scope="module")
def app(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "pivot.db"
    hub = Hub(PivotSettings(kafka=KafkaSettings(bootstrap=bootstrap)), bootstrap,
              store=Store(f"sqlite:///{path}"), metrics=PivotMetrics(CollectorRegistry()),
              connectors={"chatbot": ChatbotConnector()})
    hub.prepare()
    yield create_app(hub)
    hub.close()


def test_no_input_makes_the_api_fail(app: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/ingest/{connector}", "/v1/dlq", "/v1/dlq/replay"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers={"X-API-Key": "pivot-dev-secret", **(case.headers or {})})
            assert response.status_code < 500, (case.method, case.path, response.text)
            if response.status_code >= 400:
                assert "error" in response.json(), response.text

        fuzz()
