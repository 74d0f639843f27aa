"""Signed webhooks: HMAC-SHA256 over ``"<timestamp>.<body>"``.

A satellite sends two headers with its JSON body::

    X-Pivot-Timestamp: 1764000000
    X-Pivot-Signature: sha256=<hex digest>

The hub refuses a missing or wrong signature, and a timestamp outside the tolerance window
(a replayed webhook).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Pivot-Timestamp"
SIGNATURE_HEADER = "X-Pivot-Signature"
_SCHEME = "sha256="


class SignatureError(ValueError):
    """The webhook's signature or timestamp is missing, wrong or too old."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Return the headers that sign ``body`` with ``secret`` at ``timestamp`` (now by default)."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: f"{_SCHEME}{digest}"}


def verify(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    tolerance_s: int,
    now: float | None = None,
) -> None:
    """Check a webhook's signature; raise :class:`SignatureError` saying what is wrong."""
    if not timestamp or not signature:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix timestamp") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError(f"timestamp outside the {tolerance_s} s tolerance window")
    expected = sign(secret, body, ts)[SIGNATURE_HEADER]
    if not hmac.compare_digest(expected, signature.strip()):
        raise SignatureError("signature does not match the body")
