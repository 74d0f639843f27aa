"""Structured logs: JSON or text, the trace context on every line, personal data redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from canonical_model import Tenant
from observability.logging import configure_logging, pii_keys, redact_value, scrub
from observability.tracing import configure_tracing, tracer


@pytest.fixture
def capture() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    stream = io.StringIO()
    names = ("", "kafka", "alembic", "httpx", "httpcore")
    levels = {name: logging.getLogger(name).level for name in names}
    handler = configure_logging("DEBUG", json=True, stream=stream)
    try:
        yield stream, logging.getLogger("pivot.test")
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _tenant() -> Tenant:
    sample = {
        "id": "tenant_0f3c2a52d1e04a439e2f5a8f3f0c9b10", "first_name": "Jeanne", "last_name": "Garnier",
        "email": "jeanne.garnier@orange.fr", "phone": "+33678451290", "birth_date": "1984-03-02",
    }
    fields = Tenant.model_fields
    return Tenant.model_validate({k: v for k, v in sample.items() if k in fields}
                                 | {k: f.default for k, f in fields.items()
                                    if k not in sample and not f.is_required()})


def test_the_keys_come_from_the_pii_classes_of_the_canonical_model() -> None:
    assert {"first_name", "last_name", "email", "phone", "birth_date", "text"} <= pii_keys()
    assert not {"id", "lot_id", "event_type"} & pii_keys()


@pytest.mark.parametrize(("text", "expected"), [
    ("mail jeanne.garnier@orange.fr now", "mail [redacted] now"),
    ("call +33678451290", "call [redacted]"),
    ("call 06 78 45 12 90 or 06.78.45.12.90", "call [redacted] or [redacted]"),
    ("call +33 6 78 45 12 90", "call [redacted]"),
    ("ids tenant_0612345678ab, offset 1732450000.123, 2026-11-24", None),
    ("Field required [type=missing, input_value={'nom': 'GARNIER'}, input_type=dict]",
     "Field required [type=missing, input_value=[redacted], input_type=dict]"),
])
def test_scrub_removes_contact_data_and_quoted_inputs(text: str, expected: str | None) -> None:
    assert scrub(text) == (text if expected is None else expected)


def test_json_lines_carry_the_trace_context(capture: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = capture
    if configure_tracing("pivot-test") is None:
        pytest.skip("tracing disabled (OTEL_SDK_DISABLED)")
    with tracer().start_as_current_span("work") as span:
        log.info("delivered %d event(s)", 3, extra={"connector": "urbest"})
    log.warning("outside")
    inside, outside = _lines(stream)
    context = span.get_span_context()
    assert inside == {
        "time": inside["time"], "level": "INFO", "logger": "pivot.test",
        "message": "delivered 3 event(s)", "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"), "connector": "urbest",
    }
    assert inside["time"].endswith("+00:00")
    assert outside["trace_id"] is None and outside["span_id"] is None


def test_models_dicts_and_extra_fields_are_redacted_by_their_pii_classes(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    tenant = _tenant()
    log.info("tenant %s", tenant)
    log.info("payload %s", {"user": {"first_name": "Jeanne", "id": "CB-USR-1"}, "text": "J'ai une fuite"})
    log.info("as extra", extra={"tenant": tenant, "message_text": "appelez le 0678451290"})
    log.info(tenant)
    text = stream.getvalue()
    for secret in ("Jeanne", "Garnier", "orange.fr", "678451290", "1984", "fuite"):
        assert secret not in text
    first, second, third, fourth = _lines(stream)
    assert tenant.id in first["message"] and "[redacted]" in first["message"]
    assert "CB-USR-1" in second["message"]
    assert third["tenant"]["last_name"] == "[redacted]" and third["tenant"]["id"] == tenant.id
    assert third["message_text"] == "appelez le [redacted]"
    assert "[redacted]" in fourth["message"]


def test_error_messages_quoting_their_input_are_redacted(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture

    class Payload(BaseModel):
        count: int

    name = " ".join(("Jeanne", "Garnier"))  # not in the traceback's source line
    try:
        Payload.model_validate({"count": name})
    except ValidationError as exc:
        log.exception("bad payload: %s", exc)
    [line] = _lines(stream)
    assert name not in json.dumps(line) and "input_value=[redacted]" in line["exception"]


def test_text_on_a_terminal(capture: tuple[io.StringIO, logging.Logger]) -> None:
    stream = io.StringIO()
    handler = configure_logging("INFO", json=False, stream=stream)
    try:
        logging.getLogger("pivot.test").info("sent to %s", "jeanne@orange.fr", extra={"n": 2})
    finally:
        logging.getLogger().removeHandler(handler)
    line = stream.getvalue().strip()
    assert line.endswith("INFO    pivot.test [-] sent to [redacted] n=2")


def test_redact_value_keeps_what_is_not_personal() -> None:
    assert redact_value({"lot_id": "lot_1", "count": 2, "items": [{"email": None}]}) == {
        "lot_id": "lot_1", "count": 2, "items": [{"email": None}]}
