"""The Urbest-like sandbox: work orders, idempotency, lifecycle, faults, contractors."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from recording_hub import HUB_SECRET, FakeHub
from stdnum.fr import siret

from connectors.sdk.sandbox import FaultSettings
from connectors.urbest.sandbox import create_app, generate_contractors

HUB = "http://hub.test"
INGEST = f"{HUB}/v1/ingest/urbest"


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


# -- webhooks to the hub ---------------------------------------------------------------------


def _received(hub: FakeHub) -> list[dict[str, Any]]:
    with hub.lock:
        return [json.loads(r["body"]) for r in hub.received]


def _hub_app(hub: FakeHub, **over: Any) -> Any:
    return create_app(seed=7, hub_url=hub.url, webhook_secret=HUB_SECRET, **over)


def test_contractors_push_signed_lifecycle_webhooks_in_order(fake_hub: FakeHub) -> None:
    app = _hub_app(fake_hub)
    client = TestClient(app)
    ids = [_create(client, key=f"k{n}", external_ref=f"req_{n}").json()["id"] for n in range(5)]
    assert fake_hub.received == []  # created by the hub through the API: not echoed back
    moved = client.post("/sandbox/advance", json={}).json()
    assert sorted(moved["advanced"]) == sorted(ids)
    assert moved["webhooks"] == {"queued": 15, "accepted": 15, "failed": 0, "pending": 0,
                                 "malformed": 0}
    assert all(r["signature_ok"] and r["connector"] == "urbest" for r in fake_hub.received)
    bodies = _received(fake_hub)
    for iid in ids:
        events = [b for b in bodies if b["intervention"]["id"] == iid]
        assert [b["event"] for b in events] == [
            "intervention.scheduled", "intervention.started", "intervention.completed"]
        assert [b["intervention"]["status"] for b in events] == ["scheduled", "started", "completed"]
        scheduled, _, completed = events
        assert scheduled["intervention"]["scheduled_for"]
        assert re.fullmatch(r"\d+\.\d{2}", completed["intervention"]["cost_eur"])
        assert isinstance(completed["intervention"]["rechargeable_to_tenant"], bool)
        assert completed["occurred_at"] == completed["intervention"]["completed_at"]
    assert len({b["event_id"] for b in bodies}) == 15
    state = client.get("/sandbox/state").json()
    assert state["webhook_counts"]["accepted"] == 15
    assert all(w["accepted"] and w["ingestion_id"] for w in state["webhooks"])


def test_status_api_changes_are_pushed_too(fake_hub: FakeHub) -> None:
    app = _hub_app(fake_hub)
    client = TestClient(app)
    iid = _create(client).json()["id"]
    _status(client, iid, "scheduled", "s1", scheduled_for="2026-03-03T08:00:00Z")
    _status(client, iid, "cancelled", "s2")
    _status(client, iid, "cancelled", "s2")  # a replayed write changes nothing, pushes nothing
    assert app.state.sandbox.flush(10)
    bodies = _received(fake_hub)
    assert [b["event"] for b in bodies] == ["intervention.scheduled", "intervention.cancelled"]
    assert bodies[0]["intervention"]["scheduled_for"] == "2026-03-03T08:00:00.000Z"
    assert bodies[1]["intervention"]["cancelled_at"]


def test_agents_work_orders_are_pushed_as_created(fake_hub: FakeHub) -> None:
    app = _hub_app(fake_hub, lots=["LOT-0012-03-045", "LOT-0012-03-046"])
    client = TestClient(app)
    answer = client.post("/sandbox/interventions/simulate", json={"count": 6})
    assert answer.status_code == 201
    created = answer.json()
    assert len(created["created"]) == 6 and created["webhooks"]["accepted"] == 6
    bodies = _received(fake_hub)
    assert [b["event"] for b in bodies] == ["intervention.created"] * 6
    for body in bodies:
        work_order = body["intervention"]
        assert work_order["external_ref"] is None and work_order["origin"] == "back_office"
        assert work_order["location"]["building_ref"] == "BAT-0012-03"
        assert work_order["location"]["lot_ref"] in {None, "LOT-0012-03-045", "LOT-0012-03-046"}
        assert work_order["priority"] in {"P1", "P2", "P3"}
    # and their lifecycle follows like any other
    fake_hub.clear()
    client.post("/sandbox/advance", json={"steps": 1})
    assert [b["event"] for b in _received(fake_hub)] == ["intervention.scheduled"] * 6


def test_without_hub_url_nothing_is_pushed() -> None:
    app = create_app(seed=7)
    client = TestClient(app)
    iid = _create(client).json()["id"]
    assert client.post("/sandbox/interventions/simulate", json={"count": 2}).status_code == 201
    moved = client.post("/sandbox/advance", json={"until": "completed"}).json()
    assert iid in moved["advanced"] and moved["webhooks"]["queued"] == 0
    assert client.get("/sandbox/state").json()["webhooks"] == []


def test_advance_by_steps_and_cancellations_are_seeded() -> None:
    def run() -> list[str]:
        client = TestClient(create_app(seed=3))
        ids = [_create(client, key=f"k{n}", external_ref=f"req_{n}").json()["id"] for n in range(40)]
        client.post("/sandbox/advance", json={"steps": 1, "cancel_share": 0.25})
        first = [client.get(f"/api/v1/interventions/{i}").json()["status"] for i in ids]
        assert set(first) == {"scheduled", "cancelled"}
        assert 3 <= first.count("cancelled") <= 20
        client.post("/sandbox/advance", json={"steps": 1, "cancel_share": 0.25})
        second = [client.get(f"/api/v1/interventions/{i}").json()["status"] for i in ids]
        assert [s for s in second if s != "cancelled"] == ["started"] * (40 - first.count("cancelled"))
        client.post("/sandbox/advance", json={"until": "completed"})
        return [client.get(f"/api/v1/interventions/{i}").json()["status"] for i in ids]

    final = run()
    assert set(final) == {"completed", "cancelled"}
    assert final == run()


def _recharged(seed: int, description: str, category: str, kind: str = "repair") -> bool:
    client = TestClient(create_app(seed=seed))
    iid = _create(client, description=description, category=category, kind=kind).json()["id"]
    client.post("/sandbox/advance", json={})
    return bool(client.get(f"/api/v1/interventions/{iid}").json()["rechargeable_to_tenant"])


def test_recharges_follow_what_the_work_order_says() -> None:
    seeds = range(30)
    badge = [_recharged(s, "Le locataire a perdu son badge d'accès.", "access_security") for s in seeds]
    leak = [_recharged(s, "Fuite sur le ballon d'eau chaude.", "heating_hot_water") for s in seeds]
    visit = [_recharged(s, "Visite conseil : badge perdu à remplacer.", "other", "inspection")
             for s in seeds]
    assert sum(badge) >= 20  # a lost badge is the tenant's most of the time
    assert not any(leak) and not any(visit)  # a leak never, an inspection never
    assert badge == [_recharged(s, "Le locataire a perdu son badge d'accès.", "access_security")
                     for s in seeds]  # seeded


def test_an_inspection_with_a_deadline_keeps_it() -> None:
    client = TestClient(create_app())
    body = _create(client, kind="inspection", priority="P3", category="other",
                   title="Visite conseil avant état des lieux de sortie",
                   due_by="2026-12-24T00:00:00Z").json()
    assert body["kind"] == "inspection"
    assert body["due_by"] == "2026-12-24T00:00:00.000Z"
    client.post("/sandbox/advance", json={"until": "scheduled"})
    assert client.get(f"/api/v1/interventions/{body['id']}").json()["scheduled_for"] == body["due_by"]


def test_webhooks_are_retried_with_the_same_body() -> None:
    app = create_app(seed=7, hub_url=HUB, retry_backoff_s=0.001)
    client = TestClient(app)
    iid = _create(client).json()["id"]
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INGEST).mock(side_effect=[
            httpx.Response(503), httpx.ConnectError("refused"),
            httpx.Response(202, json={"ingestion_id": "ing_1"}),
        ])
        moved = client.post("/sandbox/advance", json={"ids": [iid], "until": "scheduled"}).json()
    assert moved["webhooks"]["accepted"] == 1
    assert route.call_count == 3 and len({c.request.content for c in route.calls}) == 1
    record = client.get("/sandbox/state").json()["webhooks"][0]
    assert (record["attempts"], record["ingestion_id"]) == (3, "ing_1")


def test_malformed_rate_one_sends_broken_webhooks() -> None:
    app = create_app(seed=7, hub_url=HUB, faults=FaultSettings(malformed_rate=1.0))
    client = TestClient(app)
    with respx.mock() as mock:
        route = mock.post(INGEST).mock(return_value=httpx.Response(422, json={"error": "x"}))
        created = client.post("/sandbox/interventions/simulate", json={"count": 12}).json()
    assert created["webhooks"] == {"queued": 12, "accepted": 0, "failed": 12, "pending": 0,
                                   "malformed": 12}
    bodies = [json.loads(c.request.content) for c in route.calls]
    assert all("intervention" not in b or "id" not in b["intervention"]
               or b["intervention"]["priority"] not in {"P1", "P2", "P3"} for b in bodies)
    state = client.get("/sandbox/state").json()
    assert len({w["malformed_kind"] for w in state["webhooks"]}) > 1
