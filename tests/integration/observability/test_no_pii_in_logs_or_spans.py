"""No tenant's name, e-mail or phone number in any log line or span of a demo run.

A small landlord's day runs in this process with every log line captured as JSON and every
finished span kept in memory; the personal data of the run comes from the sandboxes' own
data (the ERP's tenants, the chatbot's users), rebuilt from the same seed.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability.logging import configure_logging
from observability.tracing import configure_tracing, span_processor
from pivot.demo import DemoOptions, run_demo
from pivot.sandboxes import SandboxOptions, build_sandboxes, chatbot_users
from pivot.settings import KafkaSettings, PivotSettings

SEED = 42
LOTS = 150


def personal_data(seed: int, lots: int) -> set[str]:
    """Every tenant name, e-mail and phone number the sandboxes of the run hold."""
    options = SandboxOptions(seed=seed, lots=lots, hub_url="http://127.0.0.1:1", webhook_secret="x")
    erp = build_sandboxes(options)["erp"].state.sandbox
    values: set[str] = set()
    for tenant in erp.tables["tenants"].records:
        values.update({tenant["prenom"], tenant["nom"], tenant["nom"].title()})
        values.update(v for v in (tenant["email"], tenant["telephone"]) if v)
    for user in chatbot_users(erp, options):
        values.update({user.first_name, user.last_name, user.email, user.phone})
    phones = {v for v in values if v.startswith("+33")}
    for phone in phones:  # the same numbers as they are written in France
        national = "0" + phone[3:]
        values.update({national, " ".join(national[i:i + 2] for i in range(0, 10, 2))})
    return {v for v in values if len(v) >= 3}


def _pattern(values: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![\w@.+-])(?:{alternatives})(?![\w@-])")


def _span_text(span: ReadableSpan) -> str:
    parts = [span.name, json.dumps(dict(span.attributes or {}), ensure_ascii=False, default=str),
             span.status.description or ""]
    for event in span.events:
        parts += [event.name, json.dumps(dict(event.attributes or {}), ensure_ascii=False, default=str)]
    for link in span.links:
        parts.append(json.dumps(dict(link.attributes or {}), ensure_ascii=False, default=str))
    return "\n".join(parts)


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, InMemorySpanExporter]]:
    if configure_tracing("pivot-test") is None:
        pytest.skip("tracing disabled (OTEL_SDK_DISABLED)")
    stream, exporter = io.StringIO(), InMemorySpanExporter()
    root = logging.getLogger()
    names = ("", "pivot", "connectors", "kafka", "alembic", "httpx", "httpcore")
    levels = {name: logging.getLogger(name).level for name in names}
    handler = configure_logging("INFO", json=True, stream=stream)
    for name in ("pivot", "connectors"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)  # one line per HTTP call: many lines
    try:
        with span_processor(SimpleSpanProcessor(exporter)):
            yield stream, exporter
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_no_name_email_or_phone_in_any_log_line_or_span(
    captured: tuple[io.StringIO, InMemorySpanExporter], tmp_path: Path
) -> None:
    stream, exporter = captured
    report = run_demo(PivotSettings(kafka=KafkaSettings(bootstrap=None)),
                      DemoOptions(messages=8, scale=LOTS, seed=SEED, faults="light", timeout_s=90,
                                  workdir=tmp_path))
    assert report.consistent, [c for c in report.checks if not c.ok]
    assert report.sample_trace is not None and report.sample_trace["span_count"] >= 10

    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    spans = exporter.get_finished_spans()
    # the scan saw a real run: many lines (with their trace context) and many spans
    assert len(records) >= 200, len(records)
    assert {"time", "level", "logger", "message", "trace_id", "span_id"} <= set(records[0])
    assert sum(1 for r in records if r["trace_id"]) >= 50
    assert len(spans) >= 1_000, len(spans)

    values = personal_data(SEED, LOTS)
    assert len(values) >= 300 and any("@" in v for v in values) and any("+33" in v for v in values)
    pattern = _pattern(values)
    sample = next(v for v in values if "@" in v)
    assert pattern.search(f'{{"message": "sent to {sample}"}}'), "the scan finds what it looks for"

    leaks: list[str] = []
    for record in records:
        text = json.dumps(record, ensure_ascii=False)
        leaks += [f"log {record['logger']}: {m.group(0)!r} in {text[:300]}" for m in pattern.finditer(text)]
    for span in spans:
        text = _span_text(span)
        leaks += [f"span {span.name}: {m.group(0)!r} in {text[:300]}" for m in pattern.finditer(text)]
    assert not leaks, "\n".join(leaks[:20])
