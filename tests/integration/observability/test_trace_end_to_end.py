"""One chatbot message is one trace, from the webhook down to the satellites' HTTP calls.

Real stack (embedded broker, store, hub API, workers, sandboxes); spans from the in-memory
exporter. The parent chain is asserted, not only the trace id; a dead letter and its replay
stay in the trace of the message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry

from observability.metrics import PivotMetrics
from observability.tracing import configure_tracing, span_processor
from pivot.pipeline.dlq import read_dead_letters
from pivot.settings import KafkaSettings, PivotSettings
from pivot.stack import Stack, running_stack
from pivot.webhooks import sign

ADMIN = {"X-API-Key": "pivot-dev-secret"}
FAST_RETRIES = {"max_attempts": 2, "initial_wait_s": 0.01, "max_wait_s": 0.05, "timeout_s": 2.0}
WEBHOOK = "POST /v1/ingest/{connector}"


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    if configure_tracing("pivot-test") is None:
        pytest.skip("tracing disabled (OTEL_SDK_DISABLED)")
    memory = InMemorySpanExporter()
    with span_processor(SimpleSpanProcessor(memory)):
        yield memory


@pytest.fixture(scope="module")
def stack(exporter: InMemorySpanExporter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path_factory.mktemp('traces') / 'pivot.db'}"
    settings = PivotSettings(kafka=KafkaSettings(bootstrap=None))
    with running_stack(settings, url, seed=7, metrics=PivotMetrics(CollectorRegistry()), lots=40,
                       start_pollers=False, connector_settings={"urbest": FAST_RETRIES}) as running:
        yield running


# ------------------------------------------------------------------ helpers


def attr(span: ReadableSpan, *names: str) -> Any:
    """The first of ``names`` the span has (stable or legacy semantic-convention name)."""
    attributes = span.attributes or {}
    return next((attributes[n] for n in names if n in attributes), None)


def _port(span: ReadableSpan) -> int | None:
    url = attr(span, "url.full", "http.url")
    return httpx.URL(str(url)).port if url else None


class Trace:
    """The finished spans of one trace, with their parent links."""

    def __init__(self, spans: list[ReadableSpan], trace_id: int) -> None:
        self.spans = [s for s in spans if s.context is not None and s.context.trace_id == trace_id]
        self.by_id = {s.context.span_id: s for s in self.spans if s.context is not None}

    def parent(self, span: ReadableSpan) -> ReadableSpan | None:
        return self.by_id.get(span.parent.span_id) if span.parent is not None else None

    def chain(self, span: ReadableSpan) -> list[ReadableSpan]:
        """The span, its parent, its parent's parent... up to the root."""
        out = [span]
        while (parent := self.parent(out[-1])) is not None:
            out.append(parent)
        return out

    def named(self, name: str, **attributes: Any) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name == name
                and all(attr(s, k.replace("_", ".")) == v for k, v in attributes.items())]

    def client_calls(self, port: int) -> list[ReadableSpan]:
        return [s for s in self.spans if s.kind is SpanKind.CLIENT and _port(s) == port]


def _state(stack: Stack, name: str) -> dict[str, Any]:
    return httpx.get(f"{stack.sandboxes[name]}/sandbox/state", timeout=30).json()


def _wait(predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the pipeline"
        time.sleep(0.2)


def _send_one_work_order(stack: Stack) -> None:
    sent = httpx.post(f"{stack.sandboxes['chatbot']}/sandbox/simulate",
                      json={"count": 1, "concurrency": 1, "kinds": "work_orders"}, timeout=60).json()
    assert sent["accepted"] == 1


def _webhook_trace(exporter: InMemorySpanExporter) -> Trace:
    """The trace of the one chatbot webhook received since the exporter was cleared."""
    spans = list(exporter.get_finished_spans())
    webhooks = [s for s in spans if s.kind is SpanKind.SERVER and s.name == WEBHOOK
                and str(attr(s, "url.path", "http.target")).startswith("/v1/ingest/chatbot")]
    assert len(webhooks) == 1, [s.name for s in spans]
    [server] = webhooks
    assert server.context is not None
    return Trace(spans, server.context.trace_id)


def _port_of(stack: Stack, name: str) -> int:
    port = httpx.URL(stack.sandboxes[name]).port
    assert port is not None
    return port


def _names(spans: list[ReadableSpan]) -> list[str]:
    return [s.name for s in spans]


def _group(span: ReadableSpan) -> str:
    return str(attr(span, "messaging.consumer.group.name"))


# -------------------------------------------------------------------- tests


def test_one_chatbot_message_is_one_trace_down_to_the_satellites(
    stack: Stack, exporter: InMemorySpanExporter
) -> None:
    exporter.clear()
    _send_one_work_order(stack)
    urbest, chatbot = _port_of(stack, "urbest"), _port_of(stack, "chatbot")
    _wait(lambda: len(_state(stack, "urbest")["interventions"]) == 1
          and len(_state(stack, "chatbot")["replies"]) >= 2)  # acknowledgement, appointment
    time.sleep(0.5)
    trace = _webhook_trace(exporter)

    # The webhook's SERVER span is the one root: every span of the trace descends from it.
    [server] = [s for s in trace.spans if s.parent is None]
    assert server.kind is SpanKind.SERVER and server.name == WEBHOOK
    assert attr(server, "http.route") == "/v1/ingest/{connector}"
    assert attr(server, "http.response.status_code", "http.status_code") == 202
    assert all(trace.chain(s)[-1] is server for s in trace.spans)

    # webhook → raw send → translate → canonical send → chatbot's delivery → its HTTP call
    [ack] = [c for c in trace.client_calls(chatbot)
             if "/replies" in str(attr(c, "url.full", "http.url"))
             and _group(trace.parent(c) or c) == "pivot.deliver.chatbot"][:1]
    chain = trace.chain(ack)
    assert _names(chain) == ["POST", "pivot.canonical.request process", "pivot.canonical.request send",
                             "pivot.raw.chatbot process", "pivot.raw.chatbot send", WEBHOOK]
    assert [s.kind for s in chain] == [SpanKind.CLIENT, SpanKind.CONSUMER, SpanKind.PRODUCER,
                                       SpanKind.CONSUMER, SpanKind.PRODUCER, SpanKind.SERVER]
    client, deliver, canonical_send, translate, raw_send, _ = chain
    assert attr(client, "http.request.method", "http.method") == "POST"
    assert attr(client, "http.response.status_code", "http.status_code") in (200, 201)
    assert "?" not in str(attr(client, "url.full", "http.url"))
    assert attr(deliver, "messaging.destination.name") == "pivot.canonical.request"
    assert attr(deliver, "messaging.system") == "kafka"
    assert attr(canonical_send, "cloudevents.event_type") == "fr.pivot.request.received.v1"
    assert attr(canonical_send, "messaging.message.id") == attr(deliver, "messaging.message.id")
    assert attr(translate, "messaging.consumer.group.name") == "pivot.translate.chatbot"
    assert attr(raw_send, "messaging.destination.name") == "pivot.raw.chatbot"
    assert attr(raw_send, "messaging.message.id") == attr(translate, "messaging.message.id")

    # the same request, triaged by the AI, reaches the maintenance tool in the same trace
    [work_order] = [c for c in trace.client_calls(urbest)
                    if attr(c, "http.response.status_code", "http.status_code") == 201]
    chain = trace.chain(work_order)
    assert _names(chain) == [
        "POST", "pivot.canonical.request process", "pivot.canonical.request send",
        "pivot.canonical.request process", "pivot.canonical.request send",
        "pivot.raw.chatbot process", "pivot.raw.chatbot send", WEBHOOK]
    assert _group(chain[1]) == "pivot.deliver.urbest"
    assert attr(chain[2], "cloudevents.event_type") == "fr.pivot.request.triaged.v1"
    assert _group(chain[3]) == "pivot.deliver.ai_triage"
    assert chain[3].parent is not None and chain[3].parent.span_id == canonical_send.context.span_id
    # ... and the intervention it created goes on from the maintenance tool's delivery
    [created] = trace.named("pivot.canonical.intervention send")
    assert trace.parent(created) is chain[1]
    assert attr(created, "cloudevents.event_type") == "fr.pivot.intervention.created.v1"


def test_a_dead_letter_and_its_replay_stay_in_the_trace_of_the_message(
    stack: Stack, exporter: InMemorySpanExporter
) -> None:
    urbest_url = stack.sandboxes["urbest"]
    before = len(_state(stack, "urbest")["interventions"])

    def new_letters() -> list[Any]:
        return [d for d in read_dead_letters(stack.hub.bootstrap, ["urbest"]) if d.id not in known]

    known: set[str] = set()
    known = {d.id for d in new_letters()}
    assert httpx.put(f"{urbest_url}/sandbox/faults", json={"error_rate": 1.0}).status_code == 200
    exporter.clear()
    _send_one_work_order(stack)
    _wait(lambda: len(new_letters()) == 1)
    time.sleep(0.5)
    [letter] = new_letters()
    trace = _webhook_trace(exporter)
    trace_id = trace.spans[0].context.trace_id
    assert letter.trace_id == format(trace_id, "032x")
    headers = dict(letter.headers)

    # the dead letter's send is a child of the delivery that gave up
    [dead] = trace.named("pivot.dlq.urbest send")
    failing = trace.parent(dead)
    assert failing is not None and failing.name == "pivot.canonical.request process"
    assert _group(failing) == "pivot.deliver.urbest"
    assert attr(failing, "error.type") == "RetryableError"
    assert len(trace.client_calls(_port_of(stack, "urbest"))) == FAST_RETRIES["max_attempts"]
    assert dead.context is not None
    assert headers["traceparent"].decode().split("-")[2] == format(dead.context.span_id, "016x")

    # the operator replays it through the API: the replay continues the message's trace
    assert httpx.put(f"{urbest_url}/sandbox/faults", json={"error_rate": 0.0}).status_code == 200
    answer = httpx.post(f"{stack.api_url}/v1/dlq/replay", headers=ADMIN,
                        json={"connector": "urbest", "ids": [letter.id]})
    assert answer.status_code == 200, answer.text
    _wait(lambda: len(_state(stack, "urbest")["interventions"]) == before + 1)
    time.sleep(0.5)
    trace = Trace(list(exporter.get_finished_spans()), trace_id)
    [replay] = trace.named("pivot.dlq.urbest process")
    assert replay.kind is SpanKind.CONSUMER
    assert trace.parent(replay) is trace.named("pivot.dlq.urbest send")[0]
    requests = [s for s in exporter.get_finished_spans()
                if s.kind is SpanKind.SERVER and s.name == "POST /v1/dlq/replay"]
    assert len(requests) == 1 and requests[0].context is not None
    assert [link.context.span_id for link in replay.links] == [requests[0].context.span_id]

    [done] = [c for c in trace.client_calls(_port_of(stack, "urbest"))
              if attr(c, "http.response.status_code", "http.status_code") == 201]
    chain = trace.chain(done)
    assert _names(chain[:4]) == ["POST", "pivot.canonical.request process",
                                 "pivot.canonical.request send", "pivot.dlq.urbest process"]
    assert chain[3] is replay and chain[-1].name == WEBHOOK
    assert all(s.status.status_code is not StatusCode.ERROR for s in chain)


def test_a_payload_refused_at_translation_is_dead_lettered_from_its_failed_span(
    stack: Stack, exporter: InMemorySpanExporter
) -> None:
    body = json.dumps({"event": "message.created", "event_id": "cb-evt-trace-refused",
                       "occurred_at": "2026-11-24T09:12:00Z"}).encode()  # no message: refused
    exporter.clear()
    answer = httpx.post(f"{stack.api_url}/v1/ingest/chatbot", content=body,
                        headers={"Content-Type": "application/json",
                                 **sign(stack.hub.settings.api.webhook_secret.get_secret_value(), body)})
    assert answer.status_code == 202, answer.text
    _wait(lambda: any(s.name == "pivot.dlq.chatbot send" for s in exporter.get_finished_spans()))
    trace = _webhook_trace(exporter)
    [dead] = trace.named("pivot.dlq.chatbot send")
    failing = trace.parent(dead)
    assert failing is not None and failing.name == "pivot.raw.chatbot process"
    assert _group(failing) == "pivot.translate.chatbot"
    assert attr(failing, "error.type") == "MappingError"
