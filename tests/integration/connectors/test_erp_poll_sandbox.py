"""The ERP connector against the real ERP sandbox over HTTP: full export, then the change feed.

(Named apart from tests/unit/sandboxes/test_erp_sandbox.py: test folders are not packages.)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from canonical_model import check
from canonical_model.events import CanonicalEvent, LeaseNoticeGiven, LotOccupancyChanged
from connectors.erp import ErpConnector, ErpSettings
from connectors.erp.sandbox import ErpState, create_app
from connectors.sdk.testing import MemoryContext
from pivot.serving import ServerThread

LOTS = 150
PAGE_SIZE = 40


@dataclass
class CaughtUp:
    """A connector that read the sandbox's whole export, and what it read."""

    url: str
    state: ErpState
    connector: ErpConnector
    ctx: MemoryContext
    cursor: str | None
    pages: int
    retries: int
    events: list[CanonicalEvent]


def _translate(connector: ErpConnector, ctx: MemoryContext, payloads: list[dict[str, Any]]) -> list[Any]:
    return [e for p in payloads for e in connector.translate(json.dumps(p).encode(), ctx).events]


@pytest.fixture(scope="module")
def caught_up() -> Iterator[CaughtUp]:
    app = create_app(seed=20261124, lots=LOTS)
    state: ErpState = app.state.sandbox
    with ServerThread(app, name="erp-sandbox") as server:
        # One read in four answers 503: the poll must retry its way through the export.
        httpx.put(f"{server.url}/sandbox/faults",
                  json={"error_rate": 0.25, "faults_on_reads": True}).raise_for_status()
        connector = ErpConnector(ErpSettings(base_url=server.url, page_size=PAGE_SIZE, max_attempts=10,
                                             initial_wait_s=0, max_wait_s=0))
        retries = 0

        def count_retry(_state: object) -> None:
            nonlocal retries
            retries += 1

        connector.on_retry = count_retry
        ctx = MemoryContext("erp")
        cursor, pages, events = None, 0, []
        while True:
            page = connector.fetch_page(cursor)
            pages += 1
            events += _translate(connector, ctx, page.payloads)
            cursor = page.cursor
            if not page.more:
                break
            assert pages < 100, "the poll never caught up"
        httpx.put(f"{server.url}/sandbox/faults", json={}).raise_for_status()
        try:
            yield CaughtUp(server.url, state, connector, ctx, cursor, pages, retries, events)
        finally:
            connector.close()


def test_the_export_maps_to_one_event_per_record(caught_up: CaughtUp) -> None:
    counts = caught_up.state.snapshot()["counts"]
    by_type = Counter(e.event_type for e in caught_up.events)
    leases = Counter(lease["statut"] for lease in caught_up.state.tables["leases"].records)
    assert by_type == {
        "fr.pivot.residence.upserted.v1": counts["residences"],
        "fr.pivot.building.upserted.v1": counts["buildings"],
        "fr.pivot.lot.upserted.v1": counts["lots"],
        "fr.pivot.tenant.upserted.v1": counts["tenants"],
        "fr.pivot.lease.signed.v1": leases["EN_COURS"] + leases["PREAVIS"],
    }
    assert counts["lots"] == LOTS and leases["RESILIE"] == 0
    assert caught_up.retries > 0, "the faults did not bite: the test proves nothing about retries"
    # residences, buildings, lots, tenants, leases each over their pages, then the change feed
    expected_pages = sum(-(-n // PAGE_SIZE) or 1 for n in counts.values()) + 1
    assert caught_up.pages == expected_pages


def test_references_resolve_to_the_records_of_the_export(caught_up: CaughtUp) -> None:
    ids = {kind: {e.id for e in caught_up.events if e.entity_model.kind == kind}
           for kind in ("residence", "building", "lot", "tenant", "lease")}
    for event in caught_up.events:
        data = event.model_dump()
        if event.entity_model.kind == "building":
            assert data["residence_id"] in ids["residence"]
        elif event.entity_model.kind == "lot":
            assert data["building_id"] in ids["building"]
        elif event.entity_model.kind == "lease":
            assert data["lot_id"] in ids["lot"]
            assert set(data["holder_ids"]) <= ids["tenant"]
    # the sandbox's identifiers (RPLS, RNB, BAN, DPE, phones, e-mails) are all valid
    findings = [f.rule for e in caught_up.events for f in check(e) if f.rule.startswith("identifier.")]
    assert findings == []


def test_a_scripted_notice_comes_through_the_change_feed(caught_up: CaughtUp) -> None:
    lease = next(r for r in caught_up.state.tables["leases"].records if r["statut"] == "EN_COURS")
    answer = httpx.post(f"{caught_up.url}/sandbox/changes", json={
        "type": "lease.notice_given", "lease_id": lease["code_bail"],
        "notice_date": "2026-11-24", "end_date": "2026-12-24",
    })
    assert answer.status_code == 201, answer.text

    page = caught_up.connector.fetch_page(caught_up.cursor)
    assert [(p["event"], p["key"]) for p in page.payloads] == [("lease.notice_given", lease["code_bail"])]
    assert not page.more
    notice, occupancy = _translate(caught_up.connector, caught_up.ctx, page.payloads)
    assert isinstance(notice, LeaseNoticeGiven) and isinstance(occupancy, LotOccupancyChanged)
    assert notice.id == caught_up.ctx.lookup("lease", lease["code_bail"])  # the golden record of the export
    assert str(notice.notice_date) == "2026-11-24" and str(notice.end_date) == "2026-12-24"
    assert occupancy.id == notice.lot_id == caught_up.ctx.lookup("lot", lease["code_ug"])
    assert occupancy.occupancy_status == "notice"

    idle = caught_up.connector.fetch_page(page.cursor)
    assert idle.payloads == [] and not idle.more
