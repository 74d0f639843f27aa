"""The shared sandbox toolkit: fault settings and injector, idempotency ledger, control routes."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from connectors.sdk.sandbox import (
    FaultInjector,
    FaultSettings,
    IdempotencyConflictError,
    IdempotencyLedger,
    SandboxHTTPError,
    SandboxState,
    add_sandbox_routes,
    require_idempotency_key,
)


@pytest.mark.parametrize(
    "field", ["error_rate", "timeout_rate", "malformed_rate"]
)
@pytest.mark.parametrize("value", [-0.1, 1.01])
def test_fault_rates_are_shares(field: str, value: float) -> None:
    with pytest.raises(ValidationError):
        FaultSettings(**{field: value})


def test_fault_settings_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        FaultSettings(eror_rate=0.5)  # type: ignore[call-arg]


def test_injector_errors_always_at_rate_one() -> None:
    injector = FaultInjector(FaultSettings(error_rate=1.0))
    for _ in range(5):
        with pytest.raises(SandboxHTTPError) as caught:
            injector.maybe_fail()
        assert caught.value.status_code == 503
        assert caught.value.detail == "injected fault"
    assert injector.stats()["errors"] == 5


def test_injector_never_fails_reads_unless_asked() -> None:
    injector = FaultInjector(FaultSettings(error_rate=1.0))
    injector.maybe_fail(read=True)  # no exception
    injector.settings = FaultSettings(error_rate=1.0, faults_on_reads=True)
    with pytest.raises(SandboxHTTPError):
        injector.maybe_fail(read=True)


def test_injector_timeout_sleeps_the_configured_delay() -> None:
    slept: list[float] = []
    injector = FaultInjector(
        FaultSettings(timeout_rate=1.0, timeout_delay_s=7.5), sleep=slept.append
    )
    injector.maybe_fail()
    injector.maybe_fail()
    assert slept == [7.5, 7.5]
    assert injector.stats()["timeouts"] == 2


def test_injector_draws_are_seeded() -> None:
    def draws(seed: int) -> list[bool]:
        injector = FaultInjector(FaultSettings(error_rate=0.5), seed=seed)
        out = []
        for _ in range(40):
            try:
                injector.maybe_fail()
                out.append(False)
            except SandboxHTTPError:
                out.append(True)
        return out

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert 5 < sum(draws(7)) < 35


def test_ledger_applies_a_key_once_and_replays_the_result() -> None:
    ledger = IdempotencyLedger()
    calls: list[int] = []

    def effect() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    assert ledger.apply("k1", effect) == ({"n": 1}, True)
    assert ledger.apply("k1", effect) == ({"n": 1}, False)
    assert ledger.apply("k2", effect) == ({"n": 2}, True)
    assert len(calls) == 2
    assert ledger.stats() == {
        "keys": 2,
        "deliveries": 3,
        "applications": 2,
        "duplicates_applied": 0,
        "redeliveries": 1,
        "honour_keys": True,
    }


def test_ledger_without_honouring_keys_applies_every_delivery() -> None:
    ledger = IdempotencyLedger(honour_keys=False)
    calls: list[int] = []
    for _ in range(3):
        _, applied = ledger.apply("k", lambda: calls.append(1))
        assert applied
    assert len(calls) == 3
    stats = ledger.stats()
    assert stats["applications"] == 3
    assert stats["duplicates_applied"] == 2
    assert stats["redeliveries"] == 2


def test_ledger_applies_once_under_concurrent_deliveries() -> None:
    ledger = IdempotencyLedger()
    calls: list[int] = []
    barrier = threading.Barrier(8)

    def effect() -> int:
        calls.append(1)
        time.sleep(0.01)  # widen the race window
        return 1

    def deliver() -> None:
        barrier.wait()
        ledger.apply("same", effect)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert ledger.applications("same") == 1
    assert ledger.deliveries("same") == 8


def test_ledger_does_not_record_a_failed_effect() -> None:
    ledger = IdempotencyLedger()

    def boom() -> int:
        raise RuntimeError("downstream failed")

    with pytest.raises(RuntimeError):
        ledger.apply("k", boom)
    assert ledger.apply("k", lambda: 42) == (42, True)
    assert ledger.stats()["applications"] == 1


def test_ledger_refuses_a_key_reused_for_another_request() -> None:
    ledger = IdempotencyLedger()
    ledger.apply("k", lambda: 1, fingerprint="a")
    assert ledger.apply("k", lambda: 2, fingerprint="a") == (1, False)
    with pytest.raises(IdempotencyConflictError):
        ledger.apply("k", lambda: 2, fingerprint="b")


@pytest.mark.parametrize("value", [None, "", "   ", "x" * 256])
def test_missing_or_invalid_key_is_a_400(value: str | None) -> None:
    with pytest.raises(SandboxHTTPError) as caught:
        require_idempotency_key(value)
    assert caught.value.status_code == 400


def _app(faults: FaultSettings | None = None) -> tuple[FastAPI, SandboxState]:
    app = FastAPI()
    state = SandboxState(faults=faults)
    add_sandbox_routes(app, state)
    return app, state


def test_control_routes_read_and_change_faults() -> None:
    app, state = _app()
    client = TestClient(app)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/sandbox/faults").json()["error_rate"] == 0
    answer = client.put("/sandbox/faults", json={"error_rate": 0.25, "timeout_delay_s": 0.1})
    assert answer.status_code == 200
    assert answer.json()["error_rate"] == 0.25
    assert state.injector.settings.error_rate == 0.25
    assert client.put("/sandbox/faults", json={"error_rate": 2}).status_code == 422
    assert state.injector.settings.error_rate == 0.25


def test_control_routes_are_never_faulted() -> None:
    app, _ = _app(FaultSettings(error_rate=1.0, faults_on_reads=True))
    client = TestClient(app)
    for path in ("/healthz", "/sandbox/faults", "/sandbox/state"):
        assert client.get(path).status_code == 200
    state = client.get("/sandbox/state").json()
    assert set(state) >= {"ledger", "faults"}
