"""The Ublo connector against its sandbox over real HTTP: deliveries applied once, webhooks mapped back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from canonical_model.events import (
    LotOccupancyChanged,
    LotUpserted,
    RequestReceived,
    RequestUpdated,
    parse_event,
)
from connectors.sdk.testing import MemoryContext
from connectors.ublo import UbloConnector, UbloSettings
from connectors.ublo.sandbox import create_app
from pivot.serving import ServerThread
from pivot.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

SECRET = "ublo-test-secret"
LOT = "lot_3e9a1c7d5b2f4e6a8c0d1e2f3a4b5c6d"
OTHER_LOT = "lot_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
BUILDING = "building_7c2e4a9f1b3d5e7a9c1e3f5a7b9d1f3e"
RESIDENCE = "residence_1a2b3c4d5e6f70819a2b3c4d5e6f7081"
REQUEST = "request_6d1a0f3e9b2c4d5e8f7a6b5c4d3e2f10"
TENANT = "tenant_2b3c4d5e6f708192a3b4c5d6e7f80912"
RPLS = "69266001234"
ADDRESS = {"street": "12 Avenue Roger Salengro", "postcode": "69100", "city": "Villeurbanne",
           "insee_code": "69266", "ban_key": "69266_7890_00012"}
#: The lot as the ERP loaded it (its golden record), building and residence included.
ERP_LOT = {
    "id": LOT, "building_id": BUILDING, "rpls_id": RPLS, "typology": "T3",
    "habitable_surface_m2": "67.40", "rooms": 3, "floor": 2, "financing": "PLUS",
    "dpe_energy_class": "E", "dpe_ges_class": "D", "dpe_number": "2269E0123456A",
    "construction_year": 1972, "occupancy_status": "occupied",
}
GOLDEN = {
    LOT: ERP_LOT,
    BUILDING: {"id": BUILDING, "residence_id": RESIDENCE, "name": "Bâtiment B",
               "rnb_id": "V2K7RP4NXQ3M", "ban_key": "69266_7890_00012", "address": ADDRESS, "floors": 5},
    RESIDENCE: {"id": RESIDENCE, "name": "Résidence Les Tilleuls", "address": ADDRESS,
                "commune": "Villeurbanne", "construction_year": 1972},
}


@dataclass
class Recorder:
    """Webhooks received by the stand-in hub, with whether their signature verified."""

    url: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _recording_hub(recorder: Recorder) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/ingest/{connector}")
    async def ingest(connector: str, request: Request) -> JSONResponse:
        body = await request.body()
        try:
            verify(SECRET, body, request.headers.get(TIMESTAMP_HEADER),
                   request.headers.get(SIGNATURE_HEADER), tolerance_s=300)
        except SignatureError:
            with recorder.lock:
                recorder.bad_signatures += 1
            return JSONResponse({"error": "bad_signature"}, status_code=401)
        with recorder.lock:
            recorder.bodies.append({"connector": connector, "body": body})
            number = len(recorder.bodies)
        return JSONResponse({"ingestion_id": f"ing_{number:04d}"}, status_code=202)

    return app


@pytest.fixture
def hub() -> Iterator[Recorder]:
    recorder = Recorder()
    server = ServerThread(_recording_hub(recorder), name="recording-hub").start()
    recorder.url = server.url
    try:
        yield recorder
    finally:
        server.stop()


@pytest.fixture
def ublo_url(hub: Recorder) -> Iterator[str]:
    app = create_app(seed=7, hub_url=hub.url, webhook_secret=SECRET, retry_backoff_s=0.01)
    server = ServerThread(app, name="ublo-sandbox").start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def connector(ublo_url: str) -> Iterator[UbloConnector]:
    settings = UbloSettings(base_url=ublo_url, max_attempts=3, initial_wait_s=0, max_wait_s=0)
    impl = UbloConnector(settings)
    try:
        yield impl
    finally:
        impl.close()


def _context(connector: UbloConnector, event_id: str) -> MemoryContext:
    """The hub's view after the ERP load: its lot with its RPLS, the tenant, the golden records."""
    return MemoryContext(
        "ublo",
        xref=[["erp", "lot", "LOT-0012-03-045", LOT], ["rpls", "lot", RPLS, LOT],
              ["erp", "tenant", "LOC-0004567", TENANT]],
        golden=GOLDEN, client=connector.client, event_id=event_id,
    )


def _with_event(ctx: MemoryContext, event_id: str) -> MemoryContext:
    """The same hub state (links and golden records) delivering another event."""
    links = [[system, entity, source, cid] for (system, entity, source), cid in ctx.links.items()]
    return MemoryContext("ublo", xref=links, golden=ctx.golden_records, client=ctx.client,
                         event_id=event_id)


def _state(ublo_url: str) -> dict[str, Any]:
    return httpx.get(f"{ublo_url}/sandbox/state").json()


def test_lot_is_upserted_once_then_its_occupancy_patched(
    connector: UbloConnector, ublo_url: str
) -> None:
    ctx = _context(connector, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b01")
    upserted = LotUpserted.model_validate(ERP_LOT)
    assert connector.deliver(upserted, ctx) == []
    prop = httpx.get(f"{ublo_url}/api/v2/properties/{LOT}").json()
    assert (prop["id"], prop["external_ref"], prop["rpls"]) == ("ubl_prop_1", LOT, RPLS)
    assert prop["address"] == {"street": "12 Avenue Roger Salengro", "postal_code": "69100",
                               "city": "Villeurbanne", "insee_code": "69266",
                               "ban_key": "69266_7890_00012"}
    assert (prop["surface_m2"], prop["dpe"]["number"], prop["occupancy"]) == (
        "67.40", "2269E0123456A", "occupied")
    assert (prop["building_ref"], prop["residence_name"]) == (BUILDING, "Résidence Les Tilleuls")
    assert ctx.lookup("lot", "ubl_prop_1") == LOT

    assert connector.deliver(upserted, ctx) == []  # redelivered: same idempotency key
    ledger = _state(ublo_url)["ledger"]
    assert (ledger["deliveries"], ledger["applications"], ledger["duplicates_applied"]) == (2, 1, 0)
    assert httpx.get(f"{ublo_url}/api/v2/properties/{LOT}").json()["version"] == 1

    notice = LotOccupancyChanged.model_validate({**ERP_LOT, "occupancy_status": "notice"})
    connector.deliver(notice, _with_event(ctx, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b02"))
    prop = httpx.get(f"{ublo_url}/api/v2/properties/{LOT}").json()
    assert (prop["occupancy"], prop["version"], prop["last_change_source"]) == ("notice", 2, "hub")
    state = _state(ublo_url)
    assert state["counts"]["properties"] == 1 and state["ledger"]["duplicates_applied"] == 0


def test_occupancy_of_a_lot_ublo_lacks_upserts_the_whole_lot(
    connector: UbloConnector, ublo_url: str
) -> None:
    ctx = _context(connector, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b03")
    vacant = LotOccupancyChanged.model_validate(
        {**ERP_LOT, "id": OTHER_LOT, "rpls_id": "69266001235", "occupancy_status": "vacant"})
    connector.deliver(vacant, ctx)
    prop = httpx.get(f"{ublo_url}/api/v2/properties/{OTHER_LOT}").json()
    assert (prop["occupancy"], prop["rpls"], prop["version"]) == ("vacant", "69266001235", 1)
    assert ctx.lookup("lot", prop["id"]) == OTHER_LOT


def test_chatbot_request_is_created_once_and_requests_without_lot_are_not(
    connector: UbloConnector, ublo_url: str
) -> None:
    ctx = _context(connector, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b04")
    connector.deliver(LotUpserted.model_validate(ERP_LOT), ctx)
    request = RequestReceived.model_validate({
        "id": REQUEST, "tenant_id": TENANT, "lot_id": LOT, "channel": "whatsapp",
        "text": "Bonjour, plus d'eau chaude depuis hier soir, la chaudière affiche F28.",
        "received_at": "2026-11-24T09:12:02.900000Z", "conversation_ref": "conv_a1b2c3d4e5f60718",
    })
    delivering = _with_event(ctx, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b05")
    connector.deliver(request, delivering)
    connector.deliver(request, _with_event(ctx, delivering.event_id))  # redelivered, link not yet kept
    connector.deliver(request.model_copy(update={"id": "request_00000000000000000000000000000001",
                                                 "lot_id": None}),
                      _with_event(ctx, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b06"))
    state = _state(ublo_url)
    assert state["counts"]["requests"] == 1 and state["requests_duplicate_external_refs"] == []
    created = state["requests"][0]
    assert (created["external_ref"], created["property_external_ref"], created["tenant_ref"]) == (
        REQUEST, LOT, "LOC-0004567")
    assert (created["channel"], created["origin"]) == ("whatsapp", "hub")
    assert delivering.lookup("request", created["id"]) == REQUEST


def test_ublo_webhooks_map_back_to_the_hub_records(
    connector: UbloConnector, ublo_url: str, hub: Recorder
) -> None:
    ctx = _context(connector, "9a1f0c3e-5b7d-4e2a-8c6f-0d1e2f3a4b07")
    connector.deliver(LotUpserted.model_validate(ERP_LOT), ctx)

    pushed = httpx.post(f"{ublo_url}/sandbox/properties/enrich", json={"count": 1}).json()
    assert pushed["accepted"] == 1 and hub.bad_signatures == 0
    received = hub.bodies[-1]
    assert received["connector"] == "ublo"
    payload = json.loads(received["body"])
    assert connector.source_key(payload) == "ubl_prop_1"
    translation = connector.translate(received["body"], ctx)
    assert translation.source_event_id == payload["event_id"]
    [event] = translation.events
    assert isinstance(event, LotUpserted) and event.id == LOT
    prop = payload["data"]["property"]
    assert f"{event.habitable_surface_m2:.2f}" == prop["surface_m2"]
    assert event.dpe_number == (prop["dpe"] or {}).get("number", ERP_LOT["dpe_number"])
    # What the ERP masters is kept from the golden record.
    assert (event.financing, event.building_id, event.occupancy_status) == ("PLUS", BUILDING, "occupied")
    assert parse_event(event.event_type, event.model_dump_json()) == event

    # A property without the hub's reference still finds the ERP's lot by its RPLS alone.
    del prop["external_ref"]
    alone = MemoryContext("ublo", xref=[["rpls", "lot", RPLS, LOT]], golden=GOLDEN)
    [by_rpls] = connector.translate(json.dumps(payload).encode(), alone).events
    assert by_rpls.id == LOT and alone.lookup("lot", "ubl_prop_1") == LOT

    # An agent's request on that property, then its status change: received, then updated.
    logged = httpx.post(f"{ublo_url}/sandbox/requests/simulate", json={"count": 1}).json()
    [created] = connector.translate(hub.bodies[-1]["body"], ctx).events
    assert isinstance(created, RequestReceived) and created.lot_id == LOT
    assert created.channel in {"phone", "agency", "email"} and created.category is not None
    httpx.post(f"{ublo_url}/sandbox/requests/{logged['subjects'][0]}/status",
               json={"status": "in_progress"})
    [updated] = connector.translate(hub.bodies[-1]["body"], ctx).events
    assert isinstance(updated, RequestUpdated)
    assert (updated.id, updated.status, updated.lot_id) == (created.id, "in_progress", LOT)
