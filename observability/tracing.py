"""The one tracing helper: W3C trace context in Kafka headers and messaging spans.

kafka-python's official instrumentation only wraps ``KafkaConsumer.__next__``; the hub polls,
so the consumer side extracts the context from the record headers here and opens the
``"<topic> process"`` span itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

TRACER_NAME = "pivot"


def tracer() -> trace.Tracer:
    """The hub's tracer (a no-op until a tracer provider is configured)."""
    return trace.get_tracer(TRACER_NAME)


def inject(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Write the current trace context (``traceparent``/``tracestate``) into ``headers``."""
    propagate.inject(headers)
    return headers


def current_trace_id() -> str | None:
    """Hex trace id of the current span, when one is recording."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@contextmanager
def consumer_span(
    topic: str, headers: Mapping[str, str], *, group: str, partition: int, offset: int,
    message_id: str | None = None,
) -> Iterator[Span]:
    """Open the ``"<topic> process"`` span of one record, child of the context in its headers."""
    parent = propagate.extract(dict(headers))
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(
            f"{topic} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.consumer.group.name": group,
                "messaging.destination.partition.id": str(partition),
                "messaging.kafka.offset": offset,
                **({"messaging.message.id": message_id} if message_id else {}),
            },
        ) as span:
            yield span
    finally:
        otel_context.detach(token)


@contextmanager
def producer_span(topic: str, message_id: str) -> Iterator[Span]:
    """Open the ``"<topic> send"`` span of one produced record."""
    with tracer().start_as_current_span(
        f"{topic} send",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": topic,
            "messaging.message.id": message_id,
        },
    ) as span:
        yield span
