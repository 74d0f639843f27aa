"""The Ublo-like sandbox: property upserts, occupancy, requests, signed webhooks to the hub."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient
from recording_hub import HUB_SECRET, FakeHub

from canonical_model.identifiers import validate_identifier
from connectors.ublo.sandbox import AGENT_NOTES, UbloState, create_app

HUB = "http://hub.test"
INGEST = f"{HUB}/v1/ingest/ublo"


def _state(app: Any) -> UbloState:
    return app.state.sandbox


def _property(n: int = 1, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "rpls": f"69266{n:06d}",
        "address": {"street": "12 Avenue Roger Salengro", "postal_code": "69100",
                    "city": "Villeurbanne", "insee_code": "69266", "ban_key": "69266_1234_00012"},
        "typology": "T3",
        "rooms": 3,
        "surface_m2": "67.40",
        "floor": 2,
        "dpe": {"energy_class": "E", "ges_class": "D", "number": "2269E0123456A",
                "issued_on": "2022-03-01"},
        "occupancy": "occupied",
        "occupancy_since": "2019-09-01",
        "building_ref": "bld_01",
        "residence_name": "Résidence Les Tilleuls",
        "construction_year": 1972,
    }
    body.update(over)
    return body


def _put(client: TestClient, ref: str, key: str, **over: Any) -> Any:
    return client.put(f"/api/v2/properties/{ref}", json=_property(**over),
                      headers={"Idempotency-Key": key})


def _request(ref: str = "req_01", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"external_ref": ref, "property_external_ref": "lot_1",
                            "channel": "chatbot", "description": "Fuite sous l'évier",
                            "category": "plumbing", "urgency": "high", "tenant_ref": "ten_9"}
    body.update(over)
    return body


def _seeded(client: TestClient, count: int = 3) -> None:
    for n in range(1, count + 1):
        assert _put(client, f"lot_{n}", f"put-{n}", n=n).status_code == 201


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(seed=42, hub_url=HUB, retry_backoff_s=0.001))


def test_starts_empty_and_upserts_properties_by_hub_reference(client: TestClient) -> None:
    assert client.get("/api/v2/properties").json() == {"items": [], "total": 0}
    created = _put(client, "lot_1", "k1", surface_m2=67.4)
    assert created.status_code == 201
    prop = created.json()
    assert prop["id"] == "ubl_prop_1" and prop["external_ref"] == "lot_1"
    assert prop["surface_m2"] == "67.40" and prop["version"] == 1
    assert prop["last_change_source"] == "hub" and prop["occupancy_since"] == "2019-09-01"
    assert prop["created_at"].endswith("Z")
    replay = _put(client, "lot_1", "k1", surface_m2=67.4)
    assert replay.status_code == 200 and replay.json() == prop
    assert replay.headers["Idempotent-Replayed"] == "true"
    updated = _put(client, "lot_1", "k2", floor=3)
    assert updated.status_code == 200
    assert (updated.json()["id"], updated.json()["floor"], updated.json()["version"]) == (
        "ubl_prop_1", 3, 2
    )
    same = _put(client, "lot_1", "k3", floor=3)
    assert same.status_code == 200 and same.json()["version"] == 2  # nothing changed
    assert _put(client, "lot_2", "k4", n=2).json()["id"] == "ubl_prop_2"
    assert client.get("/api/v2/properties/lot_1").json()["floor"] == 3
    unknown = client.get("/api/v2/properties/lot_404")
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_property"
    assert _put(client, "lot_3", "k5", occupancy="squatted").status_code == 422
    assert _put(client, "lot_3", "k6", colour="blue").status_code == 422
    assert client.put("/api/v2/properties/lot_3", json=_property()).status_code == 400
    listing = client.get("/api/v2/properties", params={"limit": 1, "offset": 1}).json()
    assert listing["total"] == 2 and listing["items"][0]["external_ref"] == "lot_2"


def test_occupancy_patch(client: TestClient) -> None:
    _seeded(client, 2)
    url = "/api/v2/properties/lot_1/occupancy"
    answer = client.patch(url, json={"occupancy": "notice", "since": "2026-11-20"},
                          headers={"Idempotency-Key": "occ-1"})
    assert answer.status_code == 200
    assert (answer.json()["occupancy"], answer.json()["occupancy_since"]) == ("notice", "2026-11-20")
    assert answer.json()["version"] == 2
    listing = client.get("/api/v2/properties", params={"occupancy": "notice"}).json()
    assert [p["external_ref"] for p in listing["items"]] == ["lot_1"]
    unknown = client.patch("/api/v2/properties/nope/occupancy", json={"occupancy": "vacant"},
                           headers={"Idempotency-Key": "occ-2"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_property"
    state = client.get("/sandbox/state").json()
    assert state["properties_by_occupancy"] == {"notice": 1, "occupied": 1}


def test_hub_requests_are_created_once(client: TestClient) -> None:
    _seeded(client, 1)
    first = client.post("/api/v2/requests", json=_request(), headers={"Idempotency-Key": "r1"})
    assert first.status_code == 201
    body = first.json()
    assert body["id"] == "UBL-REQ-000001" and body["property_id"] == "ubl_prop_1"
    assert (body["status"], body["origin"], body["external_ref"]) == ("new", "hub", "req_01")
    replay = client.post("/api/v2/requests", json=_request(), headers={"Idempotency-Key": "r1"})
    assert replay.status_code == 200 and replay.json() == body
    unknown = client.post("/api/v2/requests", json=_request("req_02", property_external_ref="x"),
                          headers={"Idempotency-Key": "r2"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_property"
    loose = client.post("/api/v2/requests",
                        json=_request("req_03", property_external_ref=None, category=None,
                                      urgency=None, tenant_ref=None),
                        headers={"Idempotency-Key": "r3"})
    assert loose.status_code == 201 and loose.json()["id"] == "UBL-REQ-000002"
    assert client.get("/api/v2/requests", params={"external_ref": "req_01"}).json()["total"] == 1
    assert client.get("/api/v2/requests/UBL-REQ-000002").json()["external_ref"] == "req_03"
    assert client.get("/api/v2/requests/UBL-REQ-999999").json()["error"] == "unknown_request"
    state = client.get("/sandbox/state").json()
    assert state["counts"] == {"properties": 1, "requests": 2}
    assert state["ledger"]["duplicates_applied"] == 0 and state["sent"] == []  # no echo


def test_without_idempotency_requests_are_duplicated() -> None:
    client = TestClient(create_app(honour_idempotency_keys=False))
    _seeded(client, 1)
    for _ in range(2):
        assert client.post("/api/v2/requests", json=_request(),
                           headers={"Idempotency-Key": "r1"}).status_code == 201
    state = client.get("/sandbox/state").json()
    assert state["requests_duplicate_external_refs"] == ["req_01"]
    assert state["ledger"]["duplicates_applied"] == 1


def test_enrich_pushes_signed_property_updates(fake_hub: FakeHub) -> None:
    app = create_app(seed=42, hub_url=fake_hub.url, webhook_secret=HUB_SECRET)
    client = TestClient(app)
    _seeded(client, 4)
    answer = client.post("/sandbox/properties/enrich", json={"count": 6, "concurrency": 3})
    assert answer.status_code == 200
    result = answer.json()
    assert (result["sent"], result["accepted"], result["failed"], result["malformed"]) == (6, 6, 0, 0)
    assert len(fake_hub.received) == 6
    assert all(r["signature_ok"] and r["connector"] == "ublo" for r in fake_hub.received)
    assert all(r["content_type"] == "application/json" for r in fake_hub.received)
    bodies = [json.loads(r["body"]) for r in fake_hub.received]
    assert {b["event_id"] for b in bodies} == set(result["event_ids"])
    reasons = set()
    for body in bodies:
        assert body["event"] == "property.updated"
        assert re.fullmatch(r"evt_[0-9a-f]{16}", body["event_id"])
        assert body["occurred_at"].endswith("Z")
        data = body["data"]
        prop = data["property"]
        assert prop["external_ref"] in {"lot_1", "lot_2", "lot_3", "lot_4"}
        assert prop["last_change_source"] == "ublo" and prop["version"] >= 2
        reasons.add(data["reason"])
        if data["reason"] == "dpe_renovation":
            assert data["changed_fields"] == ["dpe"]
            assert validate_identifier("dpe_number", prop["dpe"]["number"]) is None
            assert prop["dpe"]["energy_class"] < "E"  # better than before the renovation
        else:
            assert data["changed_fields"] == ["surface_m2"]
            assert re.fullmatch(r"\d+\.\d{2}", prop["surface_m2"])
    assert reasons <= {"dpe_renovation", "surface_remeasured"}
    # events about one property arrive in version order
    versions: dict[str, list[int]] = {}
    for body in bodies:
        versions.setdefault(body["data"]["property"]["external_ref"], []).append(
            body["data"]["property"]["version"]
        )
    assert all(v == sorted(v) for v in versions.values())
    state = client.get("/sandbox/state").json()
    assert state["webhooks"]["sent"] == state["webhooks"]["accepted"] == 6
    assert all(s["status_code"] == 202 and s["ingestion_id"] for s in state["sent"])
    last = {p["external_ref"]: p for p in state["properties"]}
    for ref, seen in versions.items():
        assert last[ref]["version"] == seen[-1]


def test_agent_requests_and_status_changes_are_pushed(fake_hub: FakeHub) -> None:
    client = TestClient(create_app(seed=42, hub_url=fake_hub.url, webhook_secret=HUB_SECRET))
    _seeded(client, 2)
    result = client.post("/sandbox/requests/simulate", json={"count": 3}).json()
    assert result["subjects"] == ["UBL-REQ-000001", "UBL-REQ-000002", "UBL-REQ-000003"]
    created = [json.loads(r["body"]) for r in fake_hub.received]
    assert [b["event"] for b in created] == ["request.created"] * 3
    notes = {text for text, _, _ in AGENT_NOTES}
    for body in created:
        request = body["data"]["request"]
        assert request["origin"] == "ublo" and request["external_ref"] is None
        assert request["channel"] in {"phone", "agency", "email"}
        assert request["description"] in notes and request["category"] and request["urgency"]
        assert request["property_external_ref"] in {"lot_1", "lot_2"}
        assert request["property_id"] in {"ubl_prop_1", "ubl_prop_2"}
    fake_hub.clear()
    moved = client.post("/sandbox/requests/UBL-REQ-000002/status", json={"status": "in_progress"})
    assert moved.status_code == 200 and moved.json()["accepted"] == 1
    body = json.loads(fake_hub.received[0]["body"])
    assert body["event"] == "request.updated" and fake_hub.received[0]["signature_ok"]
    assert body["data"]["previous_status"] == "new"
    assert body["data"]["request"]["status"] == "in_progress"
    again = client.post("/sandbox/requests/UBL-REQ-000002/status", json={"status": "in_progress"})
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"
    unknown = client.post("/sandbox/requests/UBL-REQ-000099/status", json={"status": "resolved"})
    assert unknown.status_code == 404
    hub_made = client.post("/api/v2/requests", json=_request(), headers={"Idempotency-Key": "r"})
    client.post(f"/sandbox/requests/{hub_made.json()['id']}/status", json={"status": "resolved"})
    echoed = json.loads(fake_hub.received[-1]["body"])["data"]["request"]
    assert (echoed["external_ref"], echoed["status"]) == ("req_01", "resolved")


def test_needs_a_hub_and_properties() -> None:
    client = TestClient(create_app())
    assert client.post("/sandbox/properties/enrich", json={"count": 1}).json()["error"] == "no_hub_url"
    assert client.post("/sandbox/requests/simulate", json={"count": 1}).status_code == 409
    hubbed = TestClient(create_app(hub_url=HUB))
    answer = hubbed.post("/sandbox/properties/enrich", json={"count": 1})
    assert answer.status_code == 409 and answer.json()["error"] == "no_properties"


def test_a_wrong_secret_is_refused_and_not_retried(fake_hub: FakeHub) -> None:
    client = TestClient(create_app(hub_url=fake_hub.url, webhook_secret="not-the-secret"))
    _seeded(client, 1)
    result = client.post("/sandbox/properties/enrich", json={"count": 1}).json()
    assert result["failed"] == 1
    sent = client.get("/sandbox/state").json()["sent"][0]
    assert (sent["status_code"], sent["attempts"], sent["accepted"]) == (401, 1, False)


def test_retries_5xx_and_connection_errors_with_the_same_event(client: TestClient) -> None:
    _seeded(client, 1)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INGEST).mock(side_effect=[
            httpx.Response(503),
            httpx.ConnectError("connection refused"),
            httpx.Response(202, json={"ingestion_id": "ing_1"}),
        ])
        result = client.post("/sandbox/requests/simulate", json={"count": 1}).json()
    assert (result["accepted"], route.call_count) == (1, 3)
    assert len({call.request.content for call in route.calls}) == 1
    sent = _state(client.app).sent[0]
    assert (sent["attempts"], sent["ingestion_id"]) == (3, "ing_1")


def _enriched_bodies(seed: int) -> list[dict[str, Any]]:
    client = TestClient(create_app(seed=seed, hub_url=HUB))
    for n in (3, 1, 2):  # push order must not matter
        _put(client, f"lot_{n}", f"k{n}", n=n)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(INGEST).mock(return_value=httpx.Response(202, json={}))
        client.post("/sandbox/properties/enrich", json={"count": 5, "concurrency": 1})
        client.post("/sandbox/requests/simulate", json={"count": 3, "concurrency": 1})
    bodies = [json.loads(call.request.content) for call in route.calls]
    for body in bodies:  # times are real; everything else follows the seed
        del body["occurred_at"]
        entity = body["data"].get("property") or body["data"]["request"]
        for key in ("created_at", "updated_at", "history", "occupancy_since"):
            entity.pop(key, None)
        if entity.get("dpe"):
            entity["dpe"].pop("issued_on")
            entity["dpe"]["number"] = entity["dpe"]["number"][2:]
    return bodies


def test_same_seed_sends_the_same_webhooks() -> None:
    first = _enriched_bodies(5)
    assert first == _enriched_bodies(5)
    assert first != _enriched_bodies(6)
    assert len({b["event_id"] for b in first}) == 8


def test_malformed_share(client: TestClient) -> None:
    _seeded(client, 1)
    client.put("/sandbox/faults", json={"malformed_rate": 1.0})
    with respx.mock() as mock:
        route = mock.post(INGEST).mock(return_value=httpx.Response(202, json={}))
        result = client.post("/sandbox/requests/simulate", json={"count": 6}).json()
    assert result["malformed"] == 6
    state = client.get("/sandbox/state").json()
    assert state["injected"]["malformed"] == 6
    kinds = {s["event_id"]: s["malformed_kind"] for s in state["sent"]}
    assert set(kinds.values()) <= {"missing_data", "missing_id", "wrong_type"}
    for call in route.calls:
        body = json.loads(call.request.content)
        kind = kinds[body["event_id"]]
        if kind == "missing_data":
            assert "data" not in body
        elif kind == "missing_id":
            assert "id" not in body["data"]["request"]
        else:
            assert isinstance(body["data"]["request"]["description"], list)


def test_faults_hit_api_writes_only(client: TestClient) -> None:
    client.put("/sandbox/faults", json={"error_rate": 1.0})
    answer = _put(client, "lot_1", "k1")
    assert answer.status_code == 503 and answer.json()["error"] == "injected_fault"
    assert client.get("/api/v2/properties").status_code == 200
    client.put("/sandbox/faults", json={})
    assert _put(client, "lot_1", "k1").status_code == 201  # the failed delivery left no trace
    state = client.get("/sandbox/state").json()
    assert state["ledger"]["applications"] == 1 and state["injected"]["errors"] == 1
