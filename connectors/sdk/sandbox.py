"""Shared toolkit of the sandbox satellites: faults, idempotency ledger, control routes.

A sandbox satellite is a small stateful FastAPI app that behaves like a real SaaS tool on
loopback. Every sandbox is built from the same parts so the demo, the integration tests and
the fault tests drive them the same way:

* :class:`FaultSettings` / :class:`FaultInjector` — seeded 503s, slow answers and malformed
  outgoing webhooks, changeable at run time through ``PUT /sandbox/faults``;
* :class:`IdempotencyLedger` — what the satellite does with an ``Idempotency-Key``: apply once
  and replay the stored answer (``honour_keys=True``), or apply every delivery again to show
  what happens without idempotency; it counts deliveries and applications per key so a
  consistency check can prove "nothing lost, nothing duplicated";
* :class:`SandboxState` — the base of a sandbox's state (lock, seed, injector, ledger);
* :func:`add_sandbox_routes` — ``GET /healthz``, ``GET|PUT /sandbox/faults``,
  ``GET /sandbox/state`` and the JSON error shape ``{"error": code, "detail": message}``.

Faults apply to the satellite's API endpoints only, never to ``/sandbox/*`` nor ``/healthz``.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from pivot.webhooks import sign

T = TypeVar("T")

#: Header carrying the idempotency key of a write (the hub sends one on every write).
IDEMPOTENCY_HEADER = "Idempotency-Key"
_MAX_KEY_LENGTH = 255


def utc_now_iso(ts: float | None = None) -> str:
    """Return ``ts`` (now by default) as ISO-8601 UTC ending in ``Z``, to the millisecond.

    Args:
        ts: A Unix timestamp; the current time when omitted.

    Returns:
        For example ``"2026-03-02T09:14:03.120Z"``.

    """
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SandboxHTTPError(HTTPException):
    """An HTTP error a sandbox answers as ``{"error": code, "detail": message}``.

    Args:
        status_code: The HTTP status.
        code: A stable, machine-readable error code (``unknown_conversation``...).
        detail: A human-readable sentence saying what is wrong.
        headers: Extra response headers.

    """

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=dict(headers or {}))
        self.code = code


class FaultSettings(BaseModel):
    """Faults a sandbox injects, each as a share of requests (0 = never, 1 = always).

    Attributes:
        error_rate: Share of API requests answered ``503 Service Unavailable``.
        timeout_rate: Share of API requests that sleep ``timeout_delay_s`` before being served
            normally — longer than the hub's client timeout, so the hub sees a timeout although
            the effect may have been applied (what idempotency keys are for).
        timeout_delay_s: How long a "timed-out" request sleeps.
        malformed_rate: For satellites that send webhooks: share of outgoing webhooks replaced by
            a malformed payload.
        faults_on_reads: Also inject errors and timeouts on read (``GET``) API endpoints; off by
            default so polling and consistency checks read reliably.

    """

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    timeout_delay_s: float = Field(default=3.0, ge=0.0, le=300.0)
    malformed_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    faults_on_reads: bool = False


class FaultInjector:
    """Draws faults from a seeded random generator; thread-safe.

    A sandbox API endpoint calls :meth:`maybe_fail` first. The draws are deterministic for a
    given seed and request order.

    Args:
        settings: The initial fault settings (no faults by default).
        seed: Seed of the generator.
        sleep: The sleep function (tests may pass a fake one).

    """

    def __init__(
        self,
        settings: FaultSettings | None = None,
        *,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings or FaultSettings()
        self._rng = random.Random(f"faults:{seed}")
        self._sleep = sleep
        self._counts = {"errors": 0, "timeouts": 0, "malformed": 0}

    @property
    def settings(self) -> FaultSettings:
        """The fault settings in force."""
        with self._lock:
            return self._settings

    @settings.setter
    def settings(self, value: FaultSettings) -> None:
        with self._lock:
            self._settings = value

    def maybe_fail(self, *, read: bool = False) -> None:
        """Inject a fault into the current request, or do nothing.

        Args:
            read: True for a read endpoint: faults then apply only when
                ``faults_on_reads`` is set.

        Raises:
            SandboxHTTPError: 503 ``injected fault`` with probability ``error_rate``.

        """
        with self._lock:
            settings = self._settings
            if read and not settings.faults_on_reads:
                return
            fail = settings.error_rate > 0 and self._rng.random() < settings.error_rate
            slow = (
                not fail
                and settings.timeout_rate > 0
                and self._rng.random() < settings.timeout_rate
            )
            if fail:
                self._counts["errors"] += 1
            elif slow:
                self._counts["timeouts"] += 1
        if fail:
            raise SandboxHTTPError(503, "injected_fault", "injected fault")
        if slow:
            self._sleep(settings.timeout_delay_s)  # outside the lock: other requests go on

    def should_malform(self) -> bool:
        """Draw whether the next outgoing webhook is malformed (probability ``malformed_rate``)."""
        with self._lock:
            rate = self._settings.malformed_rate
            hit = rate > 0 and self._rng.random() < rate
            if hit:
                self._counts["malformed"] += 1
            return hit

    def stats(self) -> dict[str, int]:
        """Return how many errors, timeouts and malformed payloads were injected so far."""
        with self._lock:
            return dict(self._counts)


class IdempotencyConflictError(Exception):
    """An idempotency key was reused for a different request."""


@dataclass
class _LedgerEntry:
    fingerprint: str | None
    deliveries: int = 0
    applications: int = 0
    has_result: bool = False
    result: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class IdempotencyLedger:
    """Applies each idempotency key's effect once and replays its stored result; thread-safe.

    For each key it records the deliveries (requests carrying the key) and the applications
    (times the effect really ran: 1 when keys are honoured). Concurrent deliveries of one key
    are serialised, so even racing retries apply once. An effect that raises is not recorded
    as applied and the next delivery tries again.

    Args:
        honour_keys: When False every delivery applies again, to show what happens to a
            satellite without idempotency.

    """

    def __init__(self, *, honour_keys: bool = True) -> None:
        self.honour_keys = honour_keys
        self._lock = threading.Lock()
        self._entries: dict[str, _LedgerEntry] = {}

    def apply(
        self, key: str, fn: Callable[[], T], *, fingerprint: str | None = None
    ) -> tuple[T, bool]:
        """Run ``fn`` for ``key`` unless it already ran; return its result.

        Args:
            key: The idempotency key.
            fn: The effect; its return value is stored and replayed.
            fingerprint: Optional digest of the request; a key replayed with a different
                fingerprint is refused (a client bug: one key for two different writes).

        Returns:
            ``(result, newly_applied)``: the stored or new result, and whether ``fn`` ran now.

        Raises:
            IdempotencyConflictError: The key was first seen with another fingerprint.

        """
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _LedgerEntry(fingerprint=fingerprint)
            entry.deliveries += 1
        with entry.lock:
            if (
                self.honour_keys
                and fingerprint is not None
                and entry.fingerprint is not None
                and entry.fingerprint != fingerprint
            ):
                raise IdempotencyConflictError(
                    f"{IDEMPOTENCY_HEADER} {key!r} was already used for a different request"
                )
            if self.honour_keys and entry.has_result:
                return entry.result, False
            result = fn()
            with self._lock:
                entry.result, entry.has_result = result, True
                entry.applications += 1
            return result, True

    def deliveries(self, key: str) -> int:
        """Return how many requests carried ``key`` (0 when never seen)."""
        with self._lock:
            entry = self._entries.get(key)
            return entry.deliveries if entry else 0

    def applications(self, key: str) -> int:
        """Return how many times the effect of ``key`` was applied (0 when never)."""
        with self._lock:
            entry = self._entries.get(key)
            return entry.applications if entry else 0

    def stats(self) -> dict[str, Any]:
        """Return the ledger's counters.

        Returns:
            ``keys`` (distinct keys seen), ``deliveries``, ``applications``,
            ``duplicates_applied`` (applications beyond one per key: duplicated effects),
            ``redeliveries`` (deliveries beyond one per key: retries the ledger absorbed or
            not), and ``honour_keys``.

        """
        with self._lock:
            entries = list(self._entries.values())
            return {
                "keys": len(entries),
                "deliveries": sum(e.deliveries for e in entries),
                "applications": sum(e.applications for e in entries),
                "duplicates_applied": sum(max(0, e.applications - 1) for e in entries),
                "redeliveries": sum(max(0, e.deliveries - 1) for e in entries),
                "honour_keys": self.honour_keys,
            }


def require_idempotency_key(value: str | None) -> str:
    """Return the request's idempotency key, or refuse the request with a 400.

    Args:
        value: The ``Idempotency-Key`` header as received (None when absent).

    Raises:
        SandboxHTTPError: 400 when the key is missing, blank or longer than 255 characters.

    """
    key = (value or "").strip()
    if not key:
        raise SandboxHTTPError(
            400,
            "missing_idempotency_key",
            f"the {IDEMPOTENCY_HEADER} header is required on every write",
        )
    if len(key) > _MAX_KEY_LENGTH:
        raise SandboxHTTPError(
            400,
            "invalid_idempotency_key",
            f"the {IDEMPOTENCY_HEADER} header is longer than {_MAX_KEY_LENGTH} characters",
        )
    return key


#: ``Annotated`` alias of the optional ``Idempotency-Key`` header for endpoint signatures.
IdempotencyKeyHeader = Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)]


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """Return a digest identifying a write: method, path and canonical JSON of its body.

    Args:
        method: HTTP method.
        path: Request path.
        body: The JSON-able request body (a dict from ``model.model_dump(mode="json")``).

    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class SandboxState:
    """Base of a sandbox's state: a seed, a lock, a fault injector and an idempotency ledger.

    Subclasses hold the satellite's data, guard it with :attr:`lock` (uvicorn serves sync
    endpoints from a thread pool) and extend :meth:`snapshot`.

    Args:
        seed: Seed of every random draw of the sandbox.
        faults: Initial fault settings.
        honour_idempotency_keys: Passed to the ledger as ``honour_keys``.

    """

    def __init__(
        self,
        *,
        seed: int = 42,
        faults: FaultSettings | None = None,
        honour_idempotency_keys: bool = True,
    ) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.injector = FaultInjector(faults, seed=seed)
        self.ledger = IdempotencyLedger(honour_keys=honour_idempotency_keys)

    def apply_write(
        self,
        key: str | None,
        fn: Callable[[str], T],
        *,
        method: str,
        path: str,
        body: Any,
    ) -> tuple[T, bool]:
        """Run a write the way every sandbox write endpoint does.

        Injects a fault first, then requires the idempotency key, then applies ``fn`` through
        the ledger.

        Args:
            key: The ``Idempotency-Key`` header (None when absent).
            fn: The effect of the write, given the checked key, returning the JSON answer.
            method: HTTP method, for the request fingerprint.
            path: Request path, for the request fingerprint.
            body: JSON-able request body, for the request fingerprint.

        Returns:
            ``(answer, newly_applied)``.

        Raises:
            SandboxHTTPError: 503 (injected fault), 400 (missing key), 422 (key reused for a
                different request), or whatever ``fn`` raises.

        """
        self.injector.maybe_fail()
        checked = require_idempotency_key(key)
        try:
            return self.ledger.apply(
                checked, lambda: fn(checked), fingerprint=request_fingerprint(method, path, body)
            )
        except IdempotencyConflictError as exc:
            raise SandboxHTTPError(422, "idempotency_key_reused", str(exc)) from None

    def snapshot(self) -> dict[str, Any]:
        """Return the JSON-able state served by ``GET /sandbox/state``."""
        return {
            "ledger": self.ledger.stats(),
            "faults": self.injector.settings.model_dump(),
            "injected": self.injector.stats(),
        }


async def _sandbox_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SandboxHTTPError)
    return JSONResponse(
        {"error": exc.code, "detail": exc.detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def sandbox_router(state: SandboxState) -> APIRouter:
    """Build the control routes every sandbox serves (never subject to faults).

    Routes: ``GET /healthz``, ``GET /sandbox/faults``, ``PUT /sandbox/faults`` (body
    :class:`FaultSettings`, answers the settings now in force) and ``GET /sandbox/state``
    (``state.snapshot()``).

    Args:
        state: The sandbox's state.

    """
    router = APIRouter()

    @router.get("/healthz", tags=["sandbox"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/sandbox/faults", tags=["sandbox"])
    def get_faults() -> FaultSettings:
        return state.injector.settings

    @router.put("/sandbox/faults", tags=["sandbox"])
    def put_faults(settings: FaultSettings) -> FaultSettings:
        state.injector.settings = settings
        return settings

    @router.get("/sandbox/state", tags=["sandbox"])
    def get_state() -> dict[str, Any]:
        return state.snapshot()

    return router


def add_sandbox_routes(app: FastAPI, state: SandboxState) -> None:
    """Attach ``state`` to ``app`` as ``app.state.sandbox`` and add the shared sandbox routes.

    Also installs the handler rendering :class:`SandboxHTTPError` as
    ``{"error": code, "detail": message}``.

    Args:
        app: The sandbox app.
        state: Its state.

    """
    app.state.sandbox = state
    app.add_exception_handler(SandboxHTTPError, _sandbox_error_handler)
    app.include_router(sandbox_router(state))


def write_response(body: Any, applied: bool, status_code: int = 200) -> JSONResponse:
    """Answer a write: ``status_code`` when applied now, else 200 with ``Idempotent-Replayed``."""
    if applied:
        return JSONResponse(body, status_code=status_code)
    return JSONResponse(body, status_code=200, headers={"Idempotent-Replayed": "true"})


#: Answers of the hub a satellite retries (same body, signed again).
WEBHOOK_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class WebhookDelivery:
    """What happened to one webhook a sandbox pushed to the hub."""

    status_code: int | None
    attempts: int
    accepted: bool
    sent_at: float | None
    ingestion_id: Any
    error: str | None

    def as_record(self) -> dict[str, Any]:
        """The fields a sandbox keeps about a sent webhook."""
        return {"status_code": self.status_code, "attempts": self.attempts,
                "accepted": self.accepted, "sent_at": self.sent_at,
                "ingestion_id": self.ingestion_id, "error": self.error}


def push_webhook(
    client: httpx.Client,
    url: str,
    body: bytes,
    secret: str,
    *,
    user_agent: str,
    max_retries: int,
    backoff_s: float,
    jitter: random.Random,
) -> WebhookDelivery:
    """Push one signed webhook like a real satellite: retry 429/5xx and network errors.

    Each attempt is signed anew (the timestamp is per attempt). A 409 on a retry means the
    hub had accepted an earlier attempt whose answer was lost: it counts as accepted.
    """
    status: int | None = None
    error: str | None = None
    for attempt in range(max_retries + 1):
        headers = {"Content-Type": "application/json", "User-Agent": user_agent,
                   **sign(secret, body)}
        retry_after = 0.0
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:  # connection refused, reset, timeouts
            status, error = None, f"{type(exc).__name__}: {exc}"
        else:
            status, error = response.status_code, None
            if response.is_success or (status == 409 and attempt > 0):
                return WebhookDelivery(status, attempt + 1, True, time.time(),
                                       _ingestion_id(response), None)
            error = f"HTTP {status}"
            if status not in WEBHOOK_RETRYABLE_STATUSES:
                return WebhookDelivery(status, attempt + 1, False, None, None, error)
            retry_after = _retry_after_s(response)
        if attempt < max_retries:
            backoff = min(2.0, backoff_s * 2**attempt)
            time.sleep(max(retry_after, backoff * (0.5 + jitter.random() / 2)))
    return WebhookDelivery(status, max_retries + 1, False, None, None, error)


def _ingestion_id(response: httpx.Response) -> Any:
    try:
        data = response.json()
    except ValueError:
        return None
    return data.get("ingestion_id") if isinstance(data, dict) else None


def _retry_after_s(response: httpx.Response) -> float:
    try:
        return min(5.0, max(0.0, float(response.headers.get("Retry-After", "0"))))
    except ValueError:
        return 0.0
