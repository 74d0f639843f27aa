"""The one tracing helper: provider set-up, W3C trace context in Kafka headers, messaging spans.

One trace follows one message through the hub. Span names follow the messaging conventions
``"<topic> <operation>"``; attributes are ids, topics, event types and HTTP method, route and
status, never personal data::

    POST /v1/ingest/{connector}            SERVER    webhook (FastAPI instrumentation)
    └ pivot.raw.<connector> send           PRODUCER  the payload on the raw topic
      └ pivot.raw.<connector> process      CONSUMER  translate
        └ pivot.canonical.<entity> send    PRODUCER  each canonical event
          └ pivot.canonical.<entity> process   CONSUMER  one per delivering connector
            ├ POST                         CLIENT    the call to the satellite (httpx instrumentation)
            ├ pivot.canonical.<entity> send    events the delivery caused (and so on)
            └ pivot.dlq.<connector> send   PRODUCER  a dead letter
              └ pivot.dlq.<connector> process  CONSUMER  its replay (linked to who replayed it)
                └ <original topic> send    ...

A polled satellite has no request to start from: the poller's ``"<connector> poll"`` span
covers the page fetch, and each record starts a trace of its own at a
``"pivot.raw.<connector> create"`` span linked to that page.

kafka-python's official instrumentation only wraps ``KafkaProducer.send`` and
``KafkaConsumer.__next__``; the hub polls and produces pre-serialised records, so the consumer
side extracts the context from the record headers and the producer side writes the send span's
context into them, here.

Nothing is exported by default: :func:`configure_tracing` (called by the ``pivot`` commands,
never at import) installs an SDK tracer provider, with an OTLP/HTTP exporter only when the
standard ``OTEL_*`` variables ask for one. Until then every span is the API's no-op and the
producer adds no span at all.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

if TYPE_CHECKING:
    import httpx
    from fastapi.telemetry import TelemetryConfig

TRACER_NAME = "pivot"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
#: Headers of the W3C trace context.
TRACE_HEADERS = frozenset({TRACEPARENT, TRACESTATE})
#: Paths of the hub API that are never traced (scraped or probed every few seconds).
UNTRACED_PATHS = ("/metrics", "/healthz", "/readyz")

log = logging.getLogger(__name__)

_lock = threading.Lock()
_fanout: _Fanout | None = None
_configured = False


@cache
def tracer() -> trace.Tracer:
    """The hub's tracer (a no-op until a tracer provider is configured, then the real one).

    Kept once made: the global provider is set once per process, and a tracer asked for
    before that is a proxy that follows it.
    """
    return trace.get_tracer(TRACER_NAME)


def active() -> bool:
    """True once :func:`configure_tracing` installed (or adopted) an SDK tracer provider.

    The producer checks this per record, so that without a provider it adds no span at all.
    """
    return _configured


# ------------------------------------------------------------------------ set-up


class _Fanout(SpanProcessor):
    """Span processors that can be attached and detached while the process runs."""

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = (*self._processors, processor)

    def remove(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = tuple(p for p in self._processors if p is not processor)

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self._processors)


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _exporter_wanted() -> bool:
    """Whether the ``OTEL_*`` variables ask for an OTLP exporter (the SDK's own rules)."""
    names = {n.strip().lower() for n in _env("OTEL_TRACES_EXPORTER").split(",") if n.strip()}
    if names:
        unknown = names - {"otlp", "none"}
        if unknown:
            log.warning("OTEL_TRACES_EXPORTER %s not supported here (only otlp): ignored",
                        ",".join(sorted(unknown)))
        return "otlp" in names
    return bool(_env("OTEL_EXPORTER_OTLP_ENDPOINT") or _env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _otlp_processor() -> SpanProcessor | None:
    if not _exporter_wanted():
        return None
    protocol = (_env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or _env("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "http/protobuf")
    if protocol != "http/protobuf":
        log.warning("OTLP protocol %s is not installed: traces are sent as http/protobuf", protocol)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return BatchSpanProcessor(OTLPSpanExporter())


def configure_tracing(service_name: str) -> TracerProvider | None:
    """Install the SDK tracer provider of this process, once; return it.

    The resource's ``service.name`` is ``service_name`` unless ``OTEL_SERVICE_NAME`` says
    otherwise (``OTEL_RESOURCE_ATTRIBUTES`` adds attributes). An OTLP/HTTP exporter (batched) is
    added only when ``OTEL_TRACES_EXPORTER=otlp`` or an ``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT``
    is set; sampling follows ``OTEL_TRACES_SAMPLER``. The stable HTTP semantic conventions are
    chosen unless ``OTEL_SEMCONV_STABILITY_OPT_IN`` is set. Calling it again returns the same
    provider; when another SDK provider is installed already (auto-instrumentation), it is
    used as it is.

    Args:
        service_name: ``pivot-api``, ``pivot-worker``, ``pivot-demo``...

    Returns:
        The provider, or None when ``OTEL_SDK_DISABLED=true`` (every span stays a no-op).

    """
    global _fanout, _configured
    if _env("OTEL_SDK_DISABLED").lower() == "true":
        return None
    with _lock:
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
        ours = False
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            attributes = {} if _env("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
            trace.set_tracer_provider(TracerProvider(resource=Resource.create(attributes)))
            ours = True
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            log.warning("a non-SDK tracer provider is installed: the hub's spans are not recorded")
            return None
        if _fanout is None:
            _fanout = _Fanout()
            provider.add_span_processor(_fanout)
            exporter = _otlp_processor() if ours else None
            if exporter is not None:
                provider.add_span_processor(exporter)
        _configured = True
        return provider


@contextmanager
def span_processor(processor: SpanProcessor) -> Iterator[SpanProcessor]:
    """Attach ``processor`` to the process's provider for the block (tests, the demo).

    E.g. ``SimpleSpanProcessor(InMemorySpanExporter())`` to look at every finished span.

    Raises:
        RuntimeError: When :func:`configure_tracing` did not install a provider.

    """
    fanout = _fanout
    if fanout is None:
        raise RuntimeError("tracing is not configured: call configure_tracing() first")
    fanout.add(processor)
    try:
        yield processor
    finally:
        fanout.remove(processor)


class TraceCollector(SpanProcessor):
    """Keeps in memory the finished spans of a few traces, chosen when their first span starts.

    Recording every span of a long run would grow without bound; this keeps at most
    ``max_traces`` traces, those whose first seen span ``admit`` accepts.
    """

    def __init__(self, admit: Callable[[ReadableSpan], bool], max_traces: int = 100) -> None:
        self._admit = admit
        self._max = max_traces
        self._traces: dict[int, list[ReadableSpan]] = {}
        self._lock = threading.Lock()

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        """Admit the span's trace if it is new, there is room and ``admit`` accepts the span."""
        trace_id = span.get_span_context().trace_id
        if trace_id in self._traces or len(self._traces) >= self._max or not self._admit(span):
            return
        with self._lock:
            if len(self._traces) < self._max:
                self._traces.setdefault(trace_id, [])

    def on_end(self, span: ReadableSpan) -> None:
        """Keep the span if its trace was admitted."""
        context = span.get_span_context()
        if context is None:
            return
        spans = self._traces.get(context.trace_id)
        if spans is not None:
            with self._lock:
                spans.append(span)

    def traces(self) -> dict[str, list[ReadableSpan]]:
        """Finished spans by hex trace id, in the order the traces were admitted."""
        with self._lock:
            return {format(tid, "032x"): list(spans) for tid, spans in self._traces.items()}


# ---------------------------------------------------------- context in headers


def inject(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current trace context (``traceparent``/``tracestate``) into ``headers``."""
    if baggage.get_all():
        propagate.inject(headers)  # the configured propagators carry the baggage too
        return headers
    context = trace.get_current_span().get_span_context()
    if context.is_valid:  # formatted here: this runs for every record the hub produces
        headers[TRACEPARENT] = f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
        if context.trace_state:
            headers[TRACESTATE] = context.trace_state.to_header()
    return headers


def current_trace_id() -> str | None:
    """Hex trace id of the current span, when one is recording."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def trace_id_of(headers: Mapping[str, str]) -> str | None:
    """Hex trace id of the ``traceparent`` in ``headers``, if any."""
    ctx = trace.get_current_span(_extract(headers)).get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def carrier(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """The trace-context headers of a Kafka record, decoded."""
    return {k: v.decode("utf-8", "replace") for k, v in headers if k in TRACE_HEADERS}


def without_context(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A Kafka record's headers less its trace context."""
    return [(k, v) for k, v in headers if k not in TRACE_HEADERS]


def with_current_context(headers: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """A Kafka record's headers with its trace context replaced by the current one (if any)."""
    headers = list(headers)
    current = inject({})
    if TRACEPARENT not in current:
        return headers
    fresh = without_context(headers)
    fresh.extend((k, v.encode()) for k, v in current.items())
    return fresh


def _parent(headers: Mapping[str, str] | None) -> Context | None:
    """The context carried by ``headers``, or None (then the current context is the parent)."""
    if headers and headers.get(TRACEPARENT):
        return _extract(headers)
    return None


def _extract(headers: Mapping[str, str]) -> Context:
    """The context of a ``traceparent`` (an empty one when there is none or it is invalid).

    A well-formed version-00 header without ``tracestate`` (what the hub writes) is read
    here; anything else goes to the configured propagators.
    """
    value = headers.get(TRACEPARENT)
    if value and TRACESTATE not in headers and len(value) == 55 and value.startswith("00-"):
        try:
            trace_id, span_id, flags = int(value[3:35], 16), int(value[36:52], 16), int(value[53:], 16)
        except ValueError:
            trace_id = 0
        if trace_id and span_id and value[35] == value[52] == "-":
            remote = SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(flags))
            return trace.set_span_in_context(NonRecordingSpan(remote), Context())
    return propagate.extract(dict(headers))


def _ended_with_error(span: Span, exc: BaseException) -> None:
    # The class only: an exception's message may quote a payload or SQL parameters.
    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))


# ------------------------------------------------------------------------ spans


@contextmanager
def _span(name: str, kind: SpanKind, *, context: Context | None = None,
          **options: Any) -> Iterator[Span]:
    """A current span, child of ``context`` (else of the current one).

    An error leaving the block is recorded on it by class only.
    """
    span = tracer().start_span(name, context=context, kind=kind, record_exception=False,
                               set_status_on_exception=False, **options)
    token = otel_context.attach(trace.set_span_in_context(span, context))
    try:
        yield span
    except BaseException as exc:
        _ended_with_error(span, exc)
        raise
    finally:
        otel_context.detach(token)
        span.end()


def _messaging(operation: str, topic: str) -> dict[str, Any]:
    """The messaging attributes every Kafka span carries."""
    return {"messaging.system": "kafka", "messaging.operation.type": operation,
            "messaging.operation.name": operation, "messaging.destination.name": topic}


@contextmanager
def consumer_span(
    topic: str, headers: Mapping[str, str], *, group: str | None, partition: int, offset: int,
    message_id: str | None = None, links: Sequence[Link] = (),
) -> Iterator[Span]:
    """Open the ``"<topic> process"`` span of one record, child of the context in its headers.

    An exception leaving the block marks the span in error with its class only (its message
    may hold personal data).
    """
    attributes = _messaging("process", topic)
    attributes["messaging.destination.partition.id"] = str(partition)
    attributes["messaging.kafka.offset"] = offset
    if group:
        attributes["messaging.consumer.group.name"] = group
    if message_id:
        attributes["messaging.message.id"] = message_id
    with _span(f"{topic} process", SpanKind.CONSUMER, context=_extract(headers),
               attributes=attributes, links=links) as span:
        yield span


@contextmanager
def producer_span(
    topic: str, message_id: str | None = None, *, parent: Mapping[str, str] | None = None,
    event_type: str | None = None,
) -> Iterator[Span]:
    """Open the ``"<topic> send"`` span of one produced record.

    Its parent is the context carried by ``parent`` (the record's own trace headers: a
    spooled payload, an outbox row, a canonical event produced after its batch) when it has
    one, else the current context. Write the span's context into the record's headers inside
    the block (:func:`inject`, :func:`with_current_context`) so the consumer continues from it.
    """
    attributes = _messaging("send", topic)
    if message_id:
        attributes["messaging.message.id"] = message_id
    if event_type:
        attributes["cloudevents.event_type"] = event_type
    with _span(f"{topic} send", SpanKind.PRODUCER, context=_parent(parent),
               attributes=attributes) as span:
        yield span


def creation_context(topic: str, message_id: str) -> dict[str, str]:
    """Start the trace of one message of a batch; return its context as headers.

    A ``"<topic> create"`` span, root of a new trace and linked to the current span (the
    batch, e.g. a polled page), so every message of the batch is traced on its own. Without
    a tracer provider, returns ``{}`` at once.
    """
    if not active():
        return {}
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else []
    span = tracer().start_span(
        f"{topic} create", context=Context(), kind=SpanKind.PRODUCER, links=links,
        attributes={**_messaging("create", topic), "messaging.message.id": message_id},
    )
    headers: dict[str, str] = {}
    propagate.inject(headers, context=trace.set_span_in_context(span))
    span.end()
    return headers


@contextmanager
def internal_span(name: str, **attributes: Any) -> Iterator[Span]:
    """Open an internal span (a poll of a page, a batch): attributes must be ids or counts."""
    with _span(name, SpanKind.INTERNAL, attributes=attributes) as span:
        yield span


def current_link() -> list[Link]:
    """A link to the current span, when there is one (who asked for a replay)."""
    current = trace.get_current_span().get_span_context()
    return [Link(current)] if current.is_valid else []


# ---------------------------------------------------------------------- HTTP


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return str(scope.get("path", "")).rstrip("/") in UNTRACED_PATHS


def api_telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry settings for the hub API: ``FastAPI(telemetry=api_telemetry())``.

    One SERVER span per request, named after the route (``POST /v1/ingest/{connector}``), probes
    and metrics excepted; its context is current while the endpoint runs, so what the request
    journals carries it. No spans for dependency resolution or serialisation (a request is
    one span), no OpenTelemetry metrics (Prometheus serves the hub's) and no exception log
    records (an exception's message may quote personal data). Without a tracer provider
    (:func:`configure_tracing`), FastAPI records nothing.
    """
    return {"tracing": True, "operation_spans": False, "metrics": False, "logs": False,
            "exclude": _untraced}


def _url_without_query(span: Span, request: Any) -> None:
    """Request hook: the span's URL loses its query string (it may carry personal data)."""
    if not span.is_recording():
        return
    import httpx

    url = httpx.URL(str(request.url)).copy_with(query=None, fragment=None, username=None,
                                                 password=None)
    recorded = getattr(span, "attributes", None) or {}
    for key in ("url.full", "http.url"):
        if key in recorded:
            span.set_attribute(key, str(url))


def instrument_client(client: httpx.Client) -> httpx.Client:
    """Trace the client's calls (official httpx instrumentation), URLs without query string.

    One CLIENT span per call, child of the current span; ``traceparent`` goes to the server.
    """
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, request_hook=_url_without_query)
    return client
