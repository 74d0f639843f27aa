"""The ERP sandbox: seeded estate, cursor export, change feed, idempotent billing and insurance."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from canonical_model.identifiers import validate_identifier
from connectors.erp.data import COMMUNES, SURFACES, generate_dataset
from connectors.erp.sandbox import ENTITY_KEYS, ErpState, create_app
from connectors.sdk.sandbox import FaultSettings

MONEY = re.compile(r"[0-9]+\.[0-9]{2}")
ID_FORMATS = {
    "residences": r"RES-\d{4}",
    "buildings": r"BAT-\d{4}-\d{2}",
    "lots": r"LOT-\d{4}-\d{2}-\d{3}",
    "tenants": r"LOC-\d{7}",
    "leases": r"BAIL-(19|20)\d{2}-\d{6}",
}


def _state(app: Any) -> ErpState:
    return app.state.sandbox


def _export_all(client: TestClient, entity: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    totals = set()
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        answer = client.get(f"/api/v1/export/{entity}", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        totals.add(body["total"])
        items.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(totals) == 1
    assert totals.pop() == len(items)
    return items, pages


@pytest.fixture(scope="module")
def default_export() -> dict[str, list[dict[str, Any]]]:
    client = TestClient(create_app(seed=42))
    return {entity: _export_all(client, entity, 1000)[0] for entity in ENTITY_KEYS}


@pytest.mark.parametrize("entity", list(ENTITY_KEYS))
def test_paging_returns_every_record_exactly_once(entity: str) -> None:
    app = create_app(seed=7, lots=240)
    client = TestClient(app)
    items, pages = _export_all(client, entity, 37)
    key = ENTITY_KEYS[entity]
    ids = [item[key] for item in items]
    assert len(ids) == len(set(ids))
    assert ids == [r[key] for r in _state(app).tables[entity].records]
    assert pages == -(-len(ids) // 37)
    assert all(re.fullmatch(ID_FORMATS[entity], i) for i in ids)


def test_export_is_consistent(default_export: dict[str, list[dict[str, Any]]]) -> None:
    residences = {r["code_residence"]: r for r in default_export["residences"]}
    buildings = {b["code_batiment"]: b for b in default_export["buildings"]}
    lots = {lot["code_ug"]: lot for lot in default_export["lots"]}
    tenants = {t["code_tiers"]: t for t in default_export["tenants"]}
    leases = default_export["leases"]
    assert len(lots) == 2000
    assert all(b["code_residence"] in residences for b in buildings.values())
    assert all(lot["code_batiment"] in buildings for lot in lots.values())
    assert Counter(lot["code_batiment"] for lot in lots.values()) == {
        code: b["nb_logements"] for code, b in buildings.items()
    }
    assert sum(r["nb_logements"] for r in residences.values()) == 2000

    current: dict[str, list[str]] = {}
    for lease in leases:
        assert lease["code_ug"] in lots
        assert 1 <= len(lease["titulaires"]) <= 2
        assert all(h in tenants for h in lease["titulaires"])
        if lease["statut"] in ("EN_COURS", "PREAVIS"):
            current.setdefault(lease["code_ug"], []).append(lease["code_bail"])
    for code, lot in lots.items():
        if lot["statut_occupation"] == "VACANT":
            assert code not in current and lot["code_bail_en_cours"] is None
        else:
            assert current[code] == [lot["code_bail_en_cours"]]
    occupied = sum(1 for lot in lots.values() if lot["statut_occupation"] != "VACANT")
    assert 0.89 < occupied / 2000 < 0.95
    held = Counter(h for lease in leases for h in lease["titulaires"])
    assert set(held) == set(tenants) and set(held.values()) == {1}
    # the chatbot sandbox's erp_tenant_ref hints are LOC-0000001..LOC-0000200
    assert {f"LOC-{i:07d}" for i in range(1, 201)} <= set(tenants)


def test_identifiers_and_values_are_valid(default_export: dict[str, list[dict[str, Any]]]) -> None:
    communes = {c.insee: c for c in COMMUNES}
    for residence in default_export["residences"]:
        assert residence["code_insee"] in communes
        assert residence["code_postal"] == communes[residence["code_insee"]].postcode
    buildings = default_export["buildings"]
    for building in buildings:
        assert validate_identifier("rnb_id", building["id_rnb"]) is None
        assert validate_identifier("ban_key", building["cle_ban"]) is None
        assert building["cle_ban"].startswith(building["adresse"]["code_insee"] + "_")
        assert validate_identifier("insee_code", building["adresse"]["code_insee"]) is None
    assert len({b["id_rnb"] for b in buildings}) == len(buildings)
    lots = default_export["lots"]
    for lot in lots:
        assert validate_identifier("rpls_id", lot["numero_rpls"]) is None
        assert validate_identifier("dpe_number", lot["dpe_numero"]) is None
        assert lot["dpe_numero"][2:4] == "69"
        low, high = SURFACES[lot["typologie"]]
        assert low <= float(lot["surface_habitable"]) <= high
        assert MONEY.fullmatch(lot["surface_habitable"])
        assert lot["nb_pieces"] >= int(lot["typologie"][1])
        assert lot["financement"] in {"PLAI", "PLUS", "PLS", "PLI"}
        assert lot["dpe_classe_energie"] in "ABCDEFG" and lot["dpe_classe_ges"] in "ABCDEFG"
        assert 1955 <= lot["annee_construction"] <= 2024
    assert len({lot["numero_rpls"] for lot in lots}) == len(lots)
    assert len({lot["typologie"] for lot in lots}) == 6
    tenants = default_export["tenants"]
    for tenant in tenants:
        assert tenant["civilite"] in {"M", "MME"}
        assert tenant["nom"] == tenant["nom"].upper() and tenant["prenom"]
        if tenant["telephone"]:
            assert validate_identifier("phone_e164", tenant["telephone"]) is None
        if tenant["email"]:
            assert validate_identifier("email", tenant["email"]) is None
    phones = [t["telephone"] for t in tenants if t["telephone"]]
    assert len(phones) == len(set(phones)) > 0.9 * len(tenants)
    for lease in default_export["leases"]:
        for field in ("loyer_principal", "provision_charges", "depot_garantie"):
            assert MONEY.fullmatch(lease[field])
        assert Decimal("80") < Decimal(lease["loyer_principal"]) < Decimal("2000")
        assert lease["depot_garantie"] == lease["loyer_principal"]
        assert lease["code_bail"][5:9] == lease["date_entree"][:4]
        assert lease["date_entree"] <= "2026-11-01"


def test_generation_is_deterministic_by_seed() -> None:
    first = generate_dataset(42, 300)
    assert generate_dataset(42, 300) == first
    assert generate_dataset(43, 300) != first
    a, b = TestClient(create_app(seed=5, lots=150)), TestClient(create_app(seed=5, lots=150))
    for entity in ENTITY_KEYS:
        assert _export_all(a, entity, 100)[0] == _export_all(b, entity, 100)[0]


def test_bad_export_requests_answer_json_errors() -> None:
    client = TestClient(create_app(lots=60))
    assert client.get("/api/v1/export/contracts").json()["error"] == "unknown_entity"
    answer = client.get("/api/v1/export/lots", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_cursor"
    lots_cursor = client.get("/api/v1/export/lots", params={"limit": 5}).json()["next_cursor"]
    answer = client.get("/api/v1/export/tenants", params={"cursor": lots_cursor})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_cursor"
    assert client.get("/api/v1/export/lots", params={"limit": 1001}).status_code == 422
    assert client.get("/api/v1/export/lots", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/lots/LOT-9999-01-001").json()["error"] == "unknown_lot"
    assert client.get("/api/v1/lots/LOT-0001-01-001").json()["code_ug"] == "LOT-0001-01-001"


def _change(client: TestClient, **body: Any) -> Any:
    return client.post("/sandbox/changes", json=body)


def test_scripted_changes_appear_in_the_feed_in_order() -> None:
    app = create_app(seed=42, lots=200)
    client = TestClient(app)
    start = client.get("/api/v1/export/leases", params={"limit": 1}).json()["changes_cursor"]
    assert client.get("/api/v1/changes", params={"since": start}).json()["items"] == []
    leases = _export_all(client, "leases", 500)[0]
    lease = next(x for x in leases if x["statut"] == "EN_COURS")
    lots = _export_all(client, "lots", 500)[0]
    vacant = next(x for x in lots if x["statut_occupation"] == "VACANT")

    notice = _change(client, type="lease.notice_given", lease_id=lease["code_bail"],
                     notice_date="2026-11-20")
    assert notice.status_code == 201
    assert notice.json()["data"]["lease"]["date_sortie"] == "2026-12-21"
    again = _change(client, type="lease.notice_given", lease_id=lease["code_bail"])
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"
    assert _change(client, type="lease.terminated", lease_id="BAIL-1999-999999").status_code == 404
    terminated = _change(client, type="lease.terminated", lease_id=lease["code_bail"],
                         end_date="2026-12-21")
    tenant_id = lease["titulaires"][0]
    phone = _change(client, type="tenant.updated", tenant_id=tenant_id, phone="+33611223344")
    signed = _change(client, type="lease.signed", lot_id=vacant["code_ug"], start_date="2026-12-01",
                     holders=2)
    occupied = _change(client, type="lease.signed", lot_id=vacant["code_ug"])
    assert occupied.status_code == 409 and occupied.json()["error"] == "lot_not_vacant"
    assert _change(client, type="lease.exploded", lease_id="x").status_code == 422

    feed = client.get("/api/v1/changes", params={"since": start}).json()
    assert [(c["change_id"], c["type"]) for c in feed["items"]] == [
        (1, "lease.notice_given"), (2, "lease.terminated"), (3, "tenant.updated"),
        (4, "lease.signed"),
    ]
    assert feed["items"][1] == terminated.json() and feed["items"][3] == signed.json()
    assert feed["has_more"] is False and feed["last_change_id"] == 4
    assert all(c["occurred_at"].endswith("Z") for c in feed["items"])
    assert phone.json()["data"] == {
        "tenant": client.get(f"/api/v1/tenants/{tenant_id}").json(),
        "changed_fields": ["telephone"],
    }
    # the change feed's records are the export's records
    data = terminated.json()["data"]
    assert data["lease"]["statut"] == "RESILIE" and data["lot"]["statut_occupation"] == "VACANT"
    assert all(t["statut"] == "ANCIEN" for t in data["tenants"])
    new = signed.json()["data"]
    assert new["lot"]["code_bail_en_cours"] == new["lease"]["code_bail"]
    assert new["lease"]["code_bail"].startswith("BAIL-2026-")
    assert len(new["tenants"]) == 2 == len(new["lease"]["titulaires"])
    exported = {x["code_bail"]: x for x in _export_all(client, "leases", 500)[0]}
    assert exported[lease["code_bail"]] == data["lease"]
    assert exported[new["lease"]["code_bail"]] == new["lease"]
    tenants = {t["code_tiers"] for t in _export_all(client, "tenants", 500)[0]}
    assert set(new["lease"]["titulaires"]) <= tenants

    # resume from a cursor, or from a change id
    page = client.get("/api/v1/changes", params={"since": start, "limit": 3}).json()
    assert [c["change_id"] for c in page["items"]] == [1, 2, 3] and page["has_more"]
    rest = client.get("/api/v1/changes", params={"since": page["next_cursor"]}).json()
    assert [c["change_id"] for c in rest["items"]] == [4]
    assert client.get("/api/v1/changes", params={"since": "3"}).json()["items"] == rest["items"]
    idle = client.get("/api/v1/changes", params={"since": rest["next_cursor"]}).json()
    assert idle["items"] == [] and idle["next_cursor"] == rest["next_cursor"]
    bad = client.get("/api/v1/changes", params={"since": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_cursor"


def test_export_cursor_carries_the_change_position_of_its_start() -> None:
    client = TestClient(create_app(seed=1, lots=80))
    first = client.get("/api/v1/export/leases", params={"limit": 10}).json()
    lease_id = first["items"][0]["code_bail"]
    client.post("/sandbox/changes/random", json={"count": 2})
    second = client.get("/api/v1/export/leases", params={"cursor": first["next_cursor"]}).json()
    assert second["changes_cursor"] == first["changes_cursor"]
    feed = client.get("/api/v1/changes", params={"since": first["changes_cursor"]}).json()
    assert [c["change_id"] for c in feed["items"]] == [1, 2]
    fresh = client.get("/api/v1/export/leases", params={"limit": 10}).json()
    assert fresh["changes_cursor"] == feed["next_cursor"]
    assert fresh["items"][0]["code_bail"] == lease_id


def _random_changes(seed: int) -> list[tuple[str, str]]:
    client = TestClient(create_app(seed=seed, lots=300))
    answer = client.post("/sandbox/changes/random", json={"count": 25})
    assert answer.status_code == 201
    summary = []
    for change in answer.json()["changes"]:
        data = change["data"]
        subject = data["lease"]["code_bail"] if "lease" in data else data["tenant"]["code_tiers"]
        summary.append((change["type"], subject))
    return summary


def test_random_changes_are_plausible_and_seeded() -> None:
    first = _random_changes(3)
    assert first == _random_changes(3)
    assert first != _random_changes(4)
    assert len(first) == 25
    assert {t for t, _ in first} == {
        "lease.signed", "lease.notice_given", "lease.terminated", "tenant.updated"
    }


def _bill(client: TestClient, key: str | None = "evt-1", **over: Any) -> Any:
    body = {"lease_id": "BAIL-2017-000001", "label": "Remplacement serrure (perte de clés)",
            "amount_eur": "123.40", "intervention_ref": "URB-2026-000004", "period": "2026-11"}
    body.update(over)
    headers = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/billing-lines", json=body, headers=headers)


def test_billing_lines_apply_once_per_key() -> None:
    client = TestClient(create_app(lots=50))
    first = _bill(client)
    assert first.status_code == 201
    line = first.json()
    assert line["id"] == "FAC-2026-000001"
    assert (line["lease_id"], line["lot_id"], line["tenant_ids"]) == (
        "BAIL-2017-000001", "LOT-0001-01-001", ["LOC-0000001"]
    )
    assert line["amount_eur"] == "123.40" and line["status"] == "pending"
    replay = _bill(client)
    assert replay.status_code == 200 and replay.json() == line
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert _bill(client, key="evt-2", period="2027-01").json()["id"] == "FAC-2027-000001"
    assert _bill(client, amount_eur="99.00").status_code == 422  # same key, other body
    assert _bill(client, key=None).json()["error"] == "missing_idempotency_key"
    unknown = _bill(client, key="evt-3", lease_id="BAIL-2020-999999")
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_lease"
    assert _bill(client, key="evt-4", amount_eur="12.345").status_code == 422
    assert _bill(client, key="evt-5", period="2026-13").status_code == 422
    listed = client.get("/api/v1/billing-lines", params={"lease_id": "BAIL-2017-000001"}).json()
    assert listed["total"] == 2
    state = client.get("/sandbox/state").json()
    assert len(state["billing_lines"]) == 2
    assert state["billing_duplicate_intervention_refs"] == ["URB-2026-000004"]
    assert state["ledger"]["applications"] == 2 and state["ledger"]["duplicates_applied"] == 0


def test_without_idempotency_every_delivery_bills_again() -> None:
    client = TestClient(create_app(lots=50, honour_idempotency_keys=False))
    assert [_bill(client).status_code for _ in range(3)] == [201, 201, 201]
    state = client.get("/sandbox/state").json()
    assert len(state["billing_lines"]) == 3
    assert state["ledger"]["duplicates_applied"] == 2


def test_insurance_status_is_written_on_the_lease() -> None:
    client = TestClient(create_app(lots=50))
    body = {"status": "valid", "valid_to": "2027-06-30", "checked_at": "2026-11-24T10:00:00+01:00"}
    url = "/api/v1/leases/BAIL-2017-000001/insurance"
    answer = client.put(url, json=body, headers={"Idempotency-Key": "ins-1"})
    assert answer.status_code == 200
    lease = answer.json()
    assert (lease["assurance_statut"], lease["assurance_date_fin"],
            lease["assurance_date_controle"]) == ("valid", "2027-06-30", "2026-11-24T09:00:00.000Z")
    assert client.get("/api/v1/leases/BAIL-2017-000001").json() == lease
    exported = client.get("/api/v1/export/leases", params={"limit": 1}).json()["items"][0]
    assert exported == lease
    replay = client.put(url, json=body, headers={"Idempotency-Key": "ins-1"})
    assert replay.json() == lease and replay.headers["Idempotent-Replayed"] == "true"
    missing = {"status": "missing", "valid_to": None, "checked_at": "2026-11-25T08:00:00Z"}
    client.put(url, json=missing, headers={"Idempotency-Key": "ins-2"})
    assert client.get("/api/v1/leases/BAIL-2017-000001").json()["assurance_statut"] == "missing"
    unknown = client.put("/api/v1/leases/BAIL-1990-000000/insurance", json=body,
                         headers={"Idempotency-Key": "ins-3"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_lease"
    bad = client.put(url, json={**body, "status": "perhaps"}, headers={"Idempotency-Key": "ins-4"})
    assert bad.status_code == 422
    insurance = client.get("/sandbox/state").json()["insurance"]
    assert insurance["by_status"]["missing"] == 1
    assert [u["status"] for u in insurance["updates"]] == ["valid", "missing"]


def test_faults_hit_api_calls_only() -> None:
    client = TestClient(create_app(lots=50, faults=FaultSettings(error_rate=1.0)))
    failed = _bill(client)
    assert failed.status_code == 503 and failed.json()["error"] == "injected_fault"
    assert client.get("/api/v1/export/lots").status_code == 200  # reads spared by default
    assert client.get("/sandbox/state").status_code == 200
    assert client.post("/sandbox/changes/random", json={"count": 1}).status_code == 201
    client.put("/sandbox/faults", json={"error_rate": 1.0, "faults_on_reads": True})
    assert client.get("/api/v1/export/lots").status_code == 503
    assert client.get("/api/v1/changes").status_code == 503
    client.put("/sandbox/faults", json={})
    assert _bill(client).status_code == 201
    state = client.get("/sandbox/state").json()
    assert state["injected"]["errors"] == 3
    assert state["counts"]["lots"] == 50
    assert state["changes"]["count"] == 1
