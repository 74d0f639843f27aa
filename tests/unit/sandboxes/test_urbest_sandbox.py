"""The Urbest-like sandbox: work orders, idempotency, lifecycle, faults, contractors."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from stdnum.fr import siret

from connectors.sdk.sandbox import FaultSettings
from connectors.urbest.sandbox import create_app, generate_contractors


def _body(external_ref: str = "req_01HZX3", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Fuite sous l'évier",
        "description": "Le locataire signale une fuite sous l'évier de la cuisine.",
        "category": "plumbing",
        "priority": "P2",
        "location": {"lot_ref": "lot_123", "building_ref": "bld_9", "address": None},
        "external_ref": external_ref,
        "requested_at": "2026-03-02T09:14:03Z",
        "kind": "repair",
    }
    body.update(over)
    return body


def _create(client: TestClient, key: str = "key-1", **over: Any) -> Any:
    return client.post(
        "/api/v1/interventions", json=_body(**over), headers={"Idempotency-Key": key}
    )


def _status(client: TestClient, iid: str, status: str, key: str, **over: Any) -> Any:
    return client.post(
        f"/api/v1/interventions/{iid}/status",
        json={"status": status, **over},
        headers={"Idempotency-Key": key},
    )


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(seed=42))


def test_create_assigns_id_contractor_and_sla(client: TestClient) -> None:
    before = time.time()
    answer = _create(client, priority="P1")
    assert answer.status_code == 201
    body = answer.json()
    assert body["id"] == f"URB-{datetime.now(UTC).year}-000001"
    assert body["status"] == "created"
    assert body["contractor"]["trade"] == "plombier"
    assert siret.is_valid(body["contractor"]["siret"])
    assert before <= body["created_ts"] <= time.time()
    created = datetime.fromisoformat(body["created_at"])
    assert datetime.fromisoformat(body["due_by"]) - created == timedelta(hours=24)
    assert _create(client, key="key-2").json()["id"].endswith("-000002")


def test_same_key_applies_once_and_replays_the_same_answer(client: TestClient) -> None:
    first = _create(client, key="evt-1")
    second = _create(client, key="evt-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    state = client.get("/sandbox/state").json()
    assert len(state["interventions"]) == 1
    assert state["ledger"]["keys"] == 1
    assert state["ledger"]["deliveries"] == 2
    assert state["ledger"]["applications"] == 1
    assert state["ledger"]["duplicates_applied"] == 0
    assert state["ledger"]["redeliveries"] == 1


def test_without_honouring_keys_a_retry_duplicates_the_work_order() -> None:
    client = TestClient(create_app(honour_idempotency_keys=False))
    assert _create(client, key="evt-1").status_code == 201
    assert _create(client, key="evt-1").status_code == 201
    state = client.get("/sandbox/state").json()
    assert len(state["interventions"]) == 2
    assert state["ledger"]["duplicates_applied"] == 1


def test_write_without_idempotency_key_is_refused(client: TestClient) -> None:
    answer = client.post("/api/v1/interventions", json=_body())
    assert answer.status_code == 400
    assert answer.json()["error"] == "missing_idempotency_key"
    assert "Idempotency-Key" in answer.json()["detail"]
    assert client.get("/api/v1/interventions").json()["total"] == 0


def test_key_reused_for_a_different_request_is_refused(client: TestClient) -> None:
    _create(client, key="evt-1")
    answer = _create(client, key="evt-1", title="Autre chose")
    assert answer.status_code == 422
    assert answer.json()["error"] == "idempotency_key_reused"


def test_bad_priority_is_a_validation_error(client: TestClient) -> None:
    assert _create(client, priority="urgent").status_code == 422


def test_lifecycle_runs_to_completion(client: TestClient) -> None:
    iid = _create(client).json()["id"]
    assert _status(client, iid, "scheduled", "s1", scheduled_for="2026-03-03T08:00:00Z").json()[
        "scheduled_for"
    ] == "2026-03-03T08:00:00.000Z"
    assert _status(client, iid, "started", "s2").status_code == 200
    done = _status(client, iid, "completed", "s3", cost_eur="123.4")
    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    assert done.json()["cost_eur"] == "123.40"
    assert [h["status"] for h in done.json()["history"]] == [
        "created", "scheduled", "started", "completed"
    ]
    # the same status call again is a replay, not a refused transition
    assert _status(client, iid, "completed", "s3", cost_eur="123.4").json() == done.json()


@pytest.mark.parametrize(
    ("path", "refused"),
    [([], "started"), ([], "completed"), (["scheduled"], "completed"),
     (["cancelled"], "scheduled"), (["scheduled", "started", "completed"], "cancelled")],
)
def test_refused_transition_is_a_409(client: TestClient, path: list[str], refused: str) -> None:
    iid = _create(client).json()["id"]
    for n, status in enumerate(path):
        assert _status(client, iid, status, f"ok-{n}").status_code == 200
    answer = _status(client, iid, refused, "refused")
    assert answer.status_code == 409
    assert answer.json()["error"] == "invalid_transition"
    assert refused in answer.json()["detail"]
    assert client.get(f"/api/v1/interventions/{iid}").json()["status"] == (path or ["created"])[-1]


def test_unknown_intervention_is_a_404(client: TestClient) -> None:
    assert client.get("/api/v1/interventions/URB-2026-999999").status_code == 404
    answer = _status(client, "URB-2026-999999", "scheduled", "k")
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_intervention"


def test_list_filters_by_external_ref(client: TestClient) -> None:
    _create(client, key="a", external_ref="req_A")
    _create(client, key="b", external_ref="req_B")
    _create(client, key="c", external_ref="req_A", kind="inspection")
    listed = client.get("/api/v1/interventions", params={"external_ref": "req_A"}).json()
    assert listed["total"] == 2
    assert {i["kind"] for i in listed["items"]} == {"repair", "inspection"}


def test_error_rate_one_gives_503_and_applies_nothing() -> None:
    client = TestClient(create_app(faults=FaultSettings(error_rate=1.0)))
    answer = _create(client)
    assert answer.status_code == 503
    assert answer.json() == {"error": "injected_fault", "detail": "injected fault"}
    state = client.get("/sandbox/state").json()  # control routes are never faulted
    assert state["interventions"] == []
    assert state["ledger"]["applications"] == 0
    client.put("/sandbox/faults", json={})
    assert _create(client).status_code == 201


def test_timeout_rate_one_answers_late_but_applies() -> None:
    client = TestClient(create_app(faults=FaultSettings(timeout_rate=1.0, timeout_delay_s=0.2)))
    started = time.monotonic()
    answer = _create(client)
    assert time.monotonic() - started >= 0.2
    assert answer.status_code == 201
    # the hub timed out, retries with the same key: applied once
    assert _create(client).status_code == 200
    assert client.get("/sandbox/state").json()["ledger"]["applications"] == 1


def test_contractors_have_valid_sirets_and_cover_the_trades() -> None:
    contractors = generate_contractors(42)
    assert len(contractors) == 15
    assert all(siret.is_valid(c["siret"]) for c in contractors)
    assert len({c["siret"] for c in contractors}) == 15
    covered = {cat for c in contractors for cat in c["categories"]}
    assert covered >= {"plumbing", "heating_hot_water", "electricity", "lift", "access_security",
                       "common_areas", "pests", "damp_ventilation"}
    assert generate_contractors(42) == contractors
    assert generate_contractors(43) != contractors


def test_unknown_category_goes_to_the_multiservices_contractor(client: TestClient) -> None:
    body = _create(client, category="neighbour_disturbance").json()
    assert body["contractor"]["trade"] == "multiservices"


def test_advance_plays_contractors_deterministically() -> None:
    def run() -> dict[str, Any]:
        client = TestClient(create_app(seed=7))
        iid = _create(client, category="lift").json()["id"]
        moved = client.post("/sandbox/advance", json={"until": "completed"}).json()
        assert moved["advanced"] == [iid]
        return client.get(f"/api/v1/interventions/{iid}").json()

    first, second = run(), run()
    assert first["status"] == "completed"
    assert first["cost_eur"] == second["cost_eur"]
    assert 250 <= float(first["cost_eur"]) <= 2400


@pytest.mark.parametrize("path", [[], ["scheduled"], ["scheduled", "started"]])
def test_any_open_intervention_can_be_cancelled(client: TestClient, path: list[str]) -> None:
    iid = _create(client).json()["id"]
    for n, status in enumerate([*path, "cancelled"]):
        assert _status(client, iid, status, f"k-{n}").status_code == 200
    body = client.get(f"/api/v1/interventions/{iid}").json()
    assert body["status"] == "cancelled" and body["cancelled_at"]
