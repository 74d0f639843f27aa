"""The hub's JSON codec: orjson on the hot paths, the standard library for what orjson refuses.

Every record the hub moves is JSON read and written several times (the payload, the canonical
event, the golden record and its version in the store). orjson does it several times faster
than :mod:`json`; where orjson refuses a value that :mod:`json` accepts (``NaN``, an integer
beyond 64 bits), the standard library decides, so the hub accepts and rejects exactly what it
did before. orjson would read an integer beyond 64 bits as a float, losing digits: text with a
run of 19 digits or more is read by the standard library.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS
#: A number orjson may not hold exactly (64 bits hold 19 digits at most).
_LONG_DIGITS = re.compile(rb"\d{19}")
_LONG_DIGITS_TEXT = re.compile(r"\d{19}")


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON (non-ASCII characters kept as they are)."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def dumps_str(value: Any) -> str:
    """:func:`dumps` as text (what the store's JSON columns are written with)."""
    return dumps(value).decode()


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON; raises :class:`ValueError` (or :class:`UnicodeDecodeError`) on bad input."""
    if isinstance(data, memoryview):
        data = data.tobytes()
    pattern = _LONG_DIGITS_TEXT if isinstance(data, str) else _LONG_DIGITS
    if not pattern.search(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # what orjson refuses, the standard library may accept
    return json.loads(data)
