"""The one outbound HTTP client builder: explicit timeouts, idempotency keys, error mapping."""

from __future__ import annotations

import httpx

from observability.tracing import instrument_client
from pivot import __version__
from pivot.errors import classify_http_status

IDEMPOTENCY_HEADER = "Idempotency-Key"


def build_client(base_url: str, timeout_s: float = 5.0, connect_timeout_s: float = 2.0) -> httpx.Client:
    """An httpx client for one satellite: pooled, with connect/read timeouts and a user agent.

    Each call is a CLIENT span (OpenTelemetry httpx instrumentation, URL without its query
    string) that sends ``traceparent`` to the satellite.
    """
    return instrument_client(httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        headers={"User-Agent": f"pivot-hub/{__version__}"},
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    ))


def raise_for_status(response: httpx.Response) -> httpx.Response:
    """Raise the taxonomy's error for a failed answer (retryable or rejected), else return it."""
    error = classify_http_status(response.status_code, response.text)
    if error is not None:
        raise error
    return response
