"""The tracing helper: provider set-up from OTEL_* variables, context in headers, HTTP spans."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from observability import tracing


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if tracing.configure_tracing("pivot-test") is None:
        pytest.skip("tracing disabled (OTEL_SDK_DISABLED)")
    memory = InMemorySpanExporter()
    with tracing.span_processor(SimpleSpanProcessor(memory)):
        yield memory


def _hex(value: int, width: int = 32) -> str:
    return format(value, f"0{width}x")


@pytest.mark.parametrize(("env", "wanted"), [
    ({}, False),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
    ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
])
def test_an_exporter_only_when_the_otel_variables_ask_for_one(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], wanted: bool
) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing._exporter_wanted() is wanted
    assert (tracing._otlp_processor() is not None) is wanted


def test_sdk_disabled_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert tracing.configure_tracing("pivot-test") is None


def test_configured_once_per_process(spans: InMemorySpanExporter) -> None:
    provider = tracing.configure_tracing("pivot-other")
    assert isinstance(provider, TracerProvider)
    assert provider is tracing.configure_tracing("pivot-again") is trace.get_tracer_provider()
    assert tracing.active()


def test_producer_span_continues_the_trace_its_headers_carry(spans: InMemorySpanExporter) -> None:
    with tracing.tracer().start_as_current_span("upstream") as upstream:
        carried = tracing.inject({})
    with tracing.tracer().start_as_current_span("elsewhere"), \
            tracing.producer_span("pivot.raw.x", "m-1", parent=carried, event_type="t.v1") as sent:
        rewritten = tracing.with_current_context([("traceparent", b"old"), ("ce_id", b"m-1")])
    [send] = [s for s in spans.get_finished_spans() if s.name == "pivot.raw.x send"]
    assert send.kind is SpanKind.PRODUCER
    assert send.parent is not None and send.parent.span_id == upstream.get_span_context().span_id
    assert dict(send.attributes or {}).items() >= {"messaging.system": "kafka",
                                           "messaging.destination.name": "pivot.raw.x",
                                           "messaging.message.id": "m-1",
                                           "cloudevents.event_type": "t.v1"}.items()
    headers = dict(rewritten)
    assert headers["ce_id"] == b"m-1"
    assert headers["traceparent"].decode().split("-")[2] == _hex(sent.get_span_context().span_id, 16)
    assert tracing.trace_id_of(tracing.carrier(rewritten)) == _hex(send.context.trace_id)


def test_without_a_current_span_headers_keep_their_context() -> None:
    assert tracing.with_current_context([("traceparent", b"kept")]) == [("traceparent", b"kept")]


def test_each_message_of_a_batch_starts_its_own_trace_linked_to_the_batch(
    spans: InMemorySpanExporter,
) -> None:
    with tracing.internal_span("erp poll", **{"pivot.connector": "erp"}) as page:
        first = tracing.creation_context("pivot.raw.erp", "i-1")
        second = tracing.creation_context("pivot.raw.erp", "i-2")
    ids = {tracing.trace_id_of(first), tracing.trace_id_of(second)}
    assert len(ids) == 2 and _hex(page.get_span_context().trace_id) not in ids
    creates = [s for s in spans.get_finished_spans() if s.name == "pivot.raw.erp create"]
    assert len(creates) == 2
    assert all(s.parent is None and [link.context.span_id for link in s.links]
               == [page.get_span_context().span_id] for s in creates)


def test_a_failing_consumer_span_keeps_the_error_class_only(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError), tracing.consumer_span(
        "pivot.raw.x", {}, group="g", partition=0, offset=3
    ):
        raise ValueError("jean.dupont@example.fr wrote")
    [span] = [s for s in spans.get_finished_spans() if s.name == "pivot.raw.x process"]
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "ValueError"
    assert not span.events and "jean" not in (span.status.description or "")


def test_outbound_calls_are_client_spans_without_query_string(spans: InMemorySpanExporter) -> None:
    seen: list[httpx.Request] = []

    def satellite(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"ok": True})

    client = tracing.instrument_client(httpx.Client(transport=httpx.MockTransport(satellite),
                                                    base_url="http://satellite.test"))
    with tracing.tracer().start_as_current_span("deliver") as deliver:
        client.post("/api/tenants?email=jean.dupont%40example.fr&phone=0612345678", json={})
    [call] = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    attributes = dict(call.attributes or {})
    url = attributes.get("url.full", attributes.get("http.url"))
    assert url == "http://satellite.test/api/tenants"
    assert attributes.get("http.response.status_code", attributes.get("http.status_code")) == 201
    assert call.parent is not None and call.parent.span_id == deliver.get_span_context().span_id
    traceparent = seen[0].headers["traceparent"]
    assert traceparent.split("-")[2] == _hex(call.context.span_id, 16)


def test_api_requests_are_server_spans_but_not_the_probes(spans: InMemorySpanExporter) -> None:
    app = FastAPI(telemetry=tracing.api_telemetry())

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/things/{thing}")
    def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/things/t-1").status_code == 200
    servers = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [s.name for s in servers] == ["GET /v1/things/{thing}"]
    assert (servers[0].attributes or {})["http.route"] == "/v1/things/{thing}"
