"""Polling the ERP: the export entity by entity, then the change feed; retries; resuming."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from connectors.erp import ErpConnector, ErpSettings
from connectors.erp.poll import EXPORT_ORDER, RECORD_KEYS
from connectors.sdk.base import Page
from pivot.errors import ConfigurationError, DeliveryRejected, MappingError, RetryableError

BASE_URL = "http://erp.test"
SIZES = {"residences": 3, "buildings": 2, "lots": 5, "tenants": 3, "leases": 2}
STAMP = "2026-11-01T03:00:00.000Z"


def _record(entity: str, n: int) -> dict[str, Any]:
    record: dict[str, Any] = {RECORD_KEYS[entity]: f"{entity[:3].upper()}-{n:04d}"}
    if entity not in {"residences", "buildings"}:  # those two carry no date_maj in the ERP
        record["date_maj"] = STAMP
    return record


class FakeErp:
    """The ERP's export and change-feed endpoints over small in-memory tables."""

    def __init__(self) -> None:
        self.tables = {e: [_record(e, n) for n in range(1, SIZES[e] + 1)] for e in EXPORT_ORDER}
        self.changes: list[dict[str, Any]] = []
        self.feed_head_at_export = "feed@0"
        #: Answers served before the real ones, per path (faults).
        self.first: dict[str, list[httpx.Response]] = {}

    def add_change(self, kind: str, record: str, code: str) -> None:
        field = RECORD_KEYS[record + "s"]
        self.changes.append({
            "change_id": len(self.changes) + 1, "type": kind, "occurred_at": "2026-11-24T17:20:03.256Z",
            "data": {record: {field: code}},
        })

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        limit = int(params["limit"])
        path = request.url.path
        if self.first.get(path):
            return self.first[path].pop(0)
        if path.startswith("/api/v1/export/"):
            entity = path.rsplit("/", 1)[-1]
            offset = int(params.get("cursor", "export@0").split("@")[1])
            items = self.tables[entity][offset:offset + limit]
            end = offset + len(items)
            return httpx.Response(200, json={
                "items": items, "total": len(self.tables[entity]),
                "next_cursor": f"export@{end}" if end < len(self.tables[entity]) else None,
                "changes_cursor": self.feed_head_at_export,
            })
        assert path == "/api/v1/changes"
        after = int(params.get("since", "feed@0").split("@")[1])
        items = self.changes[after:after + limit]
        last = items[-1]["change_id"] if items else after
        return httpx.Response(200, json={
            "items": items, "next_cursor": f"feed@{last}", "has_more": last < len(self.changes),
            "last_change_id": len(self.changes),
        })


@pytest.fixture
def erp() -> Iterator[tuple[FakeErp, respx.MockRouter]]:
    fake = FakeErp()
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        router.route(method="GET").mock(side_effect=fake)
        yield fake, router


def _connector(page_size: int = 2) -> ErpConnector:
    return ErpConnector(ErpSettings(base_url=BASE_URL, page_size=page_size, max_attempts=3,
                                    initial_wait_s=0, max_wait_s=0))


def _catch_up(connector: ErpConnector, cursor: str | None) -> tuple[list[Page], str | None]:
    pages = []
    while True:
        page = connector.fetch_page(cursor)
        pages.append(page)
        cursor = page.cursor
        if not page.more:
            return pages, cursor


def test_walks_the_export_in_entity_order_then_the_change_feed(
    erp: tuple[FakeErp, respx.MockRouter],
) -> None:
    fake, router = erp
    fake.add_change("lease.notice_given", "lease", "LEA-0002")  # made while the export runs
    pages, _ = _catch_up(_connector(), None)

    events = [p["event"] for page in pages for p in page.payloads]
    expected = [f"export.{e[:-1]}" for e in EXPORT_ORDER for _ in range(SIZES[e])]
    assert events == [*expected, "lease.notice_given"]
    paths = [(call.request.url.path, dict(call.request.url.params)) for call in router.calls]
    assert [p for p, _ in paths] == [
        *["/api/v1/export/residences"] * 2, "/api/v1/export/buildings", *["/api/v1/export/lots"] * 3,
        *["/api/v1/export/tenants"] * 2, "/api/v1/export/leases", "/api/v1/changes",
    ]
    assert paths[-1][1] == {"limit": "2", "since": "feed@0"}  # where the feed stood at the start
    assert [p.note for p in pages[3:6]] == ["lots 2/5", "lots 4/5", "lots 5/5"]
    assert pages[-1].note == "changes up to #1"
    assert all(p.more for p in pages[:-1]) and not pages[-1].more


def test_payloads_are_shaped_for_the_raw_topic(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, _ = erp
    fake.add_change("tenant.updated", "tenant", "TEN-0003")
    pages, _ = _catch_up(_connector(page_size=1000), None)
    payloads = [p for page in pages for p in page.payloads]
    lot = next(p for p in payloads if p["event"] == "export.lot")
    assert lot == {"event": "export.lot", "event_id": f"erp:lot:LOT-0001:{STAMP}", "key": "LOT-0001",
                   "occurred_at": STAMP, "data": {"code_ug": "LOT-0001", "date_maj": STAMP}}
    residence = next(p for p in payloads if p["event"] == "export.residence")
    assert residence["event_id"].startswith("erp:residence:RES-0001:")  # a digest of the record
    assert residence["occurred_at"] is None
    change = payloads[-1]
    assert change["event_id"] == "erp:change:1" and change["key"] == "TEN-0003"
    assert ErpConnector().source_key(change) == "TEN-0003"
    assert all(json.loads(json.dumps(p)) == p for p in payloads)  # plain JSON, as published


def test_the_event_id_of_a_record_is_stable_across_exports(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    first, _ = _catch_up(_connector(), None)
    again, _ = _catch_up(_connector(), None)
    ids = [p["event_id"] for page in first for p in page.payloads]
    assert ids == [p["event_id"] for page in again for p in page.payloads]
    assert len(set(ids)) == len(ids)


def test_the_change_feed_pages_until_caught_up_then_waits(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, _ = erp
    connector = _connector()
    _, cursor = _catch_up(connector, None)
    for n in range(3):
        fake.add_change("tenant.updated", "tenant", f"TEN-000{n + 1}")
    first = connector.fetch_page(cursor)
    assert [p["event_id"] for p in first.payloads] == ["erp:change:1", "erp:change:2"]
    assert first.more
    second = connector.fetch_page(first.cursor)
    assert [p["event_id"] for p in second.payloads] == ["erp:change:3"]
    assert not second.more and second.note == "changes up to #3"
    idle = connector.fetch_page(second.cursor)
    assert idle.payloads == [] and not idle.more and idle.cursor == second.cursor


def test_a_503_page_is_retried_in_place(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, router = erp
    fake.first["/api/v1/export/residences"] = [httpx.Response(503, json={"error": "injected_fault"})]
    page = _connector().fetch_page(None)
    assert [p["key"] for p in page.payloads] == ["RES-0001", "RES-0002"]
    assert router.calls.call_count == 2


def test_an_erp_that_stays_down_raises_a_retryable_error(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, router = erp
    fake.first["/api/v1/export/residences"] = [httpx.Response(503) for _ in range(5)]
    with pytest.raises(RetryableError):
        _connector().fetch_page(None)
    assert router.calls.call_count == 3


def test_a_refused_read_is_not_retried(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, router = erp
    fake.first["/api/v1/export/residences"] = [httpx.Response(400, json={"error": "invalid_cursor"})]
    with pytest.raises(DeliveryRejected):
        _connector().fetch_page(None)
    assert router.calls.call_count == 1


def test_the_cursor_resumes_where_the_poll_stopped(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    _, router = erp
    cursor = None
    for _ in range(4):  # residences (2 pages), buildings, first page of lots
        cursor = _connector().fetch_page(cursor).cursor
    assert cursor is not None and len(cursor) < 1024  # fits the store's cursor column
    router.calls.reset()
    resumed = _connector().fetch_page(cursor)  # a new process, the saved cursor
    request = router.calls.last.request
    assert request.url.path == "/api/v1/export/lots"
    assert request.url.params["cursor"] == "export@2"
    assert [p["key"] for p in resumed.payloads] == ["LOT-0003", "LOT-0004"]
    assert resumed.note == "lots 4/5"
    rest, _ = _catch_up(_connector(), resumed.cursor)
    keys = [p["key"] for page in rest for p in page.payloads]
    assert keys[0] == "LOT-0005" and keys[-1] == "LEA-0002"


def test_an_unreadable_cursor_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="reset the poll"):
        _connector().fetch_page("not json")


def test_a_malformed_page_is_a_mapping_error(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, _ = erp
    fake.first["/api/v1/export/residences"] = [httpx.Response(200, json={"items": 3})]
    with pytest.raises(MappingError, match="items"):
        _connector().fetch_page(None)


def test_a_page_that_is_not_json_is_retried(erp: tuple[FakeErp, respx.MockRouter]) -> None:
    fake, router = erp
    fake.first["/api/v1/export/residences"] = [httpx.Response(200, text="<html>proxy</html>")]
    page = _connector().fetch_page(None)
    assert len(page.payloads) == 2 and router.calls.call_count == 2
