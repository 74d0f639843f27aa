"""Structured logs with the trace context on every line, and personal data kept out of them.

:func:`configure_logging` installs one handler on the root logger: JSON (one object a line:
``time``, ``level``, ``logger``, ``message``, ``trace_id``, ``span_id``, then the record's extra
fields) when stderr is not a terminal, readable text on a terminal. Its filter redacts in two
passes:

1. structured: a canonical model (any pydantic model) passed as an argument or an ``extra``
   value is replaced by :func:`canonical_model.pii.redact` of it; a dict by the same rule, its
   keys matched against every field the canonical model classifies as personal
   (``first_name``, ``email``, ``text``...), at any depth;
2. defence in depth: the rendered line is scrubbed of e-mail addresses, phone numbers, and the
   input values pydantic and SQLAlchemy quote in their error messages (:func:`scrub`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, TextIO

from opentelemetry import trace
from pydantic import BaseModel

from canonical_model.pii import REDACTED, redact

#: Loggers too chatty for the hub's own level (their errors still show).
QUIET = {"kafka": logging.ERROR, "alembic": logging.WARNING, "httpx": logging.WARNING,
         "httpcore": logging.WARNING}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)[1-9]\d{0,2}[ .-]?(?:\(0\)[ .-]?)?[1-9](?:[ .-]?\d{2}){4}"  # +33 6 12 34 56 78
    r"|\+[1-9]\d{7,14}"  # E.164
    r"|0[1-9](?:[ .-]?\d{2}){4}"  # 06 12 34 56 78, 0612345678
    r")(?!\w)"
)
#: What pydantic and SQLAlchemy quote from their input in error messages.
_QUOTED_INPUT = re.compile(r"(input_value=).*?(?=, input_type=|$)", re.MULTILINE)
_SQL_PARAMETERS = re.compile(r"(\[parameters: ).*?(\](?:\n|$))", re.DOTALL)

#: Attributes every LogRecord has: the rest of its ``__dict__`` came from ``extra``.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message", "asctime", "trace_id", "span_id", "trace",
    "color_message",  # uvicorn's copy of its message with terminal colours
}


@cache
def pii_keys() -> frozenset[str]:
    """Names of every field the canonical model classifies as personal data (any entity/event)."""
    from canonical_model.entities import ENTITY_TYPES
    from canonical_model.events import EVENT_TYPES
    from canonical_model.pii import pii_fields

    names: set[str] = set()
    for model in (*ENTITY_TYPES.values(), *EVENT_TYPES.values()):
        names.update(path.rsplit(".", 1)[-1] for path in pii_fields(model))
    return frozenset(names)


def scrub(text: str) -> str:
    """Replace e-mail addresses, phone numbers and quoted error inputs by ``[redacted]``."""
    if not text:
        return text
    text = _contacts(text)
    if "input_value=" in text:
        text = _QUOTED_INPUT.sub(rf"\g<1>{REDACTED}", text)
    if "[parameters: " in text:
        text = _SQL_PARAMETERS.sub(rf"\g<1>{REDACTED}\g<2>", text)
    return text


def _contacts(text: str) -> str:
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def redact_value(value: Any) -> Any:
    """A loggable copy of ``value`` without personal data (see the module docstring)."""
    if isinstance(value, BaseModel):
        return _redact_keys(redact(type(value), value))
    if isinstance(value, Mapping):
        return _redact_keys(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def _redact_keys(data: Mapping[Any, Any]) -> dict[Any, Any]:
    keys = pii_keys()
    return {key: REDACTED if key in keys and item is not None else redact_value(item)
            for key, item in data.items()}


def _trace_ids() -> tuple[str | None, str | None]:
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


class RedactingFilter(logging.Filter):
    """Adds ``trace_id``/``span_id`` to every record; redacts its arguments and extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record, redacted."""
        record.trace_id, record.span_id = _trace_ids()
        if not isinstance(record.msg, str):
            record.msg = redact_value(record.msg)
        if record.args:
            if isinstance(record.args, Mapping):
                record.args = _redact_keys(record.args)
            else:
                record.args = tuple(_redact_arg(arg) for arg in record.args)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and not isinstance(value, int | float | bool | type(None)):
                setattr(record, key, redact_value(value))
        return True


def _redact_arg(arg: Any) -> Any:
    # Numbers stay numbers so that "%d" still formats; anything else is redacted.
    if isinstance(arg, int | float | bool | type(None)):
        return arg
    if isinstance(arg, BaseException):
        return scrub(str(arg))
    return redact_value(arg)


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace_id, span_id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render and scrub one record."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
        }
        for key, value in _extra(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = scrub(self.formatStack(record.stack_info))
        return _contacts(json.dumps(line, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """A readable line for a terminal, with the trace context."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(trace)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Render and scrub one record (extra fields as ``key=value`` after the message)."""
        trace_id = getattr(record, "trace_id", None)
        record.trace = f"{trace_id} {record.span_id}" if trace_id else "-"
        line = super().format(record)
        extra = _extra(record)
        if extra:
            head, sep, tail = line.partition("\n")
            line = head + "".join(f" {k}={v}" for k, v in extra.items()) + sep + tail
        return scrub(line)


def configure_logging(
    level: str | int = "INFO", json: bool | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record through one redacting handler (replacing a previous one).

    Args:
        level: The root level (``"INFO"``, ``"DEBUG"``...); kafka-python, alembic and httpx
            are never more verbose than :data:`QUIET` says.
        json: JSON lines (True) or text (False); None picks JSON unless the stream is a TTY.
        stream: Where to write; stderr by default.

    Returns:
        The installed handler.

    """
    out = stream or sys.stderr
    if json is None:
        json = not (hasattr(out, "isatty") and out.isatty())
    handler = logging.StreamHandler(out)
    handler.set_name("pivot")
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "pivot"]:
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    root.setLevel(numeric)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, numeric))
    return handler
