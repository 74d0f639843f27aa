"""Set-based writes of a batch: links, golden records, lineage, lease periods and outbox rows."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, ClassVar

import pytest
from sqlalchemy import func, select

from canonical_model.events import LeaseSigned, LotOccupancyChanged, LotUpserted
from connectors.sdk import Connector
from pivot.errors import StoreConflict
from pivot.pipeline.canonical import Stager
from pivot.pipeline.context import StoreContext
from pivot.pipeline.survivorship import Survivorship
from pivot.store import Store, findings, golden, tenancy, xref
from pivot.store.tables import GoldenRecordVersion, LeaseHolder, Outbox

if TYPE_CHECKING:
    from tests.unit.store.conftest import SourceIds


def _id(kind: str) -> str:
    return f"{kind}_{uuid.uuid4().hex}"


def _lot(ids: SourceIds, **changes: object) -> dict[str, object]:
    return {
        "id": _id("lot"), "building_id": _id("building"), "rpls_id": ids.rpls_lot,
        "typology": "T3", "habitable_surface_m2": "67.40", "rooms": 3, "floor": 2,
        "dpe_energy_class": "E", "occupancy_status": "occupied", **changes,
    }


def _lease(lot_id: str, holders: list[str], **changes: object) -> LeaseSigned:
    return LeaseSigned.model_validate({
        "id": _id("lease"), "lot_id": lot_id, "holder_ids": holders, "start_date": "2019-09-01",
        "status": "active", "monthly_rent": "512.30", "monthly_charges": "148.00", **changes,
    })


def test_links_are_written_once_and_a_link_taken_meanwhile_fails_the_batch(
    store: Store, ids: SourceIds
) -> None:
    mine, theirs = _id("tenant"), _id("tenant")
    links = [("erp", "tenant", ids.erp_tenant, mine), ("chatbot", "tenant", ids.chatbot_user, mine)]
    with store.session() as session:
        xref.link_many(session, links)
        xref.link_many(session, links)  # the same links again: nothing to say
    with store.session() as session:
        assert xref.lookup(session, "chatbot", "tenant", ids.chatbot_user) == mine
        with pytest.raises(StoreConflict, match=ids.erp_tenant):
            xref.link_many(session, [("erp", "tenant", ids.erp_tenant, theirs)])


def test_a_deferring_context_caches_misses_and_writes_its_links_at_flush(
    store: Store, ids: SourceIds
) -> None:
    with store.session() as session:
        ctx = StoreContext(session, "erp", defer_writes=True)
        lot = ctx.canonical_id("lot", f"UG-{ids.n}", national_ids={"rpls": ids.rpls_lot})
        assert ctx.canonical_id("lot", f"UG-{ids.n}") == lot
        assert xref.lookup(session, "rpls", "lot", ids.rpls_lot) is None  # not written yet
        ctx.flush(session)
        assert xref.lookup(session, "rpls", "lot", ids.rpls_lot) == lot
        assert ctx.pending_links == []


def test_a_stager_versions_each_event_once_in_order_and_keeps_every_outbox_row(
    store: Store, ids: SourceIds
) -> None:
    first = LotUpserted.model_validate(_lot(ids))
    second = LotOccupancyChanged.model_validate({**first.model_dump(mode="json"),
                                                 "occupancy_status": "notice"})
    with store.session() as session:
        stager = Stager(session, connector="erp", mapping_version="3")
        stager.add([first], origin_id="export:UG-1", source_id=f"UG-{ids.n}")
        stager.add([second], origin_id="change:77", source_id=f"UG-{ids.n}")
        staged = stager.flush()
        assert golden.get(session, first.id).version == 2
    with store.session() as session:
        again = Stager(session, connector="erp", mapping_version="3")
        again.add([second], origin_id="change:77", source_id=f"UG-{ids.n}")  # redelivered
        redone = again.flush()
        record = golden.get(session, first.id)
        versions = session.scalar(select(func.count()).select_from(GoldenRecordVersion)
                                  .where(GoldenRecordVersion.canonical_id == first.id))
        kept = session.scalar(select(func.count()).select_from(Outbox)
                              .where(Outbox.event_id.in_([s.event_id for s in staged])))
    assert [s.topic for s in staged] == ["pivot.canonical.lot", "pivot.canonical.lot"]
    assert redone[0].event_id == staged[1].event_id  # produced again (consumers dedupe it)
    assert (record.version, record.data["occupancy_status"], versions, kept) == (2, "notice", 2, 2)


class _Ublo(Connector):
    name = "ublo_batch_test"
    masters: ClassVar = {"lot": frozenset({"dpe_energy_class"})}


def test_survivorship_sees_the_masters_write_made_earlier_in_the_same_batch(
    store: Store, ids: SourceIds
) -> None:
    lot = _lot(ids)
    rules = Survivorship([_Ublo])
    with store.session() as session:
        ublo = Stager(session, connector="ublo_batch_test", mapping_version="1", survivorship=rules)
        ublo.add([LotUpserted.model_validate({**lot, "dpe_energy_class": "C"})], origin_id="u1")
        ublo.flush()
        erp = Stager(session, connector="erp", mapping_version="1", survivorship=rules)
        erp.add([LotOccupancyChanged.model_validate({**lot, "occupancy_status": "vacant"})],
                origin_id="e1")
        erp.add([LotOccupancyChanged.model_validate({**lot, "occupancy_status": "notice"})],
                origin_id="e2")
        erp.flush()
        data = golden.get(session, str(lot["id"])).data
    assert (data["dpe_energy_class"], data["occupancy_status"]) == ("C", "notice")


def test_reads_of_a_deferring_context_see_what_the_batch_queued(store: Store, ids: SourceIds) -> None:
    tenant = _id("tenant")
    lot = LotUpserted.model_validate(_lot(ids))
    with store.session() as session:
        stager = Stager(session, connector="erp", mapping_version="1")
        ctx = StoreContext(session, "erp", defer_writes=True, before_read=lambda _kind: stager.flush())
        stager.add([lot], origin_id="export:lot")
        assert ctx.golden(lot.id)["occupancy_status"] == "occupied"  # loaded into the session
        stager.add([LotOccupancyChanged.model_validate({**lot.model_dump(mode="json"),
                                                        "occupancy_status": "notice"})],
                   origin_id="change:notice")
        lease = _lease(lot.id, [tenant])
        stager.add([lease], origin_id="export:lease")
        assert ctx.golden(lot.id)["occupancy_status"] == "notice"  # not the stale instance
        assert ctx.lease_of_lot(lot.id, date(2026, 11, 24)) == lease.id
        assert ctx.lot_of_tenant(tenant, date(2026, 11, 24)) == lot.id


def test_lease_periods_are_created_moved_and_their_holders_replaced(store: Store, ids: SourceIds) -> None:
    lease, lot, other_lot = _id("lease"), _id("lot"), _id("lot")
    first, second = _id("tenant"), _id("tenant")
    with store.session() as session:
        tenancy.record_many(session, {lease: tenancy.Period(lot, date(2019, 9, 1), None,
                                                            frozenset({first}))})
    with store.session() as session:
        tenancy.record_many(session, {lease: tenancy.Period(other_lot, date(2019, 9, 1),
                                                            date(2026, 10, 31),
                                                            frozenset({first, second}))})
        holders = set(session.scalars(select(LeaseHolder.tenant_id)
                                      .where(LeaseHolder.lease_id == lease)))
        assert tenancy.lease_on(session, lot, date(2020, 1, 1)) is None
        assert tenancy.lease_on(session, other_lot, date(2026, 10, 31)) == lease
        assert tenancy.lease_on(session, other_lot, date(2026, 11, 1)) is None
    assert holders == {first, second}


def test_quality_findings_are_kept_once_with_the_version_that_broke_the_rule(
    store: Store, ids: SourceIds
) -> None:
    lot = LotUpserted.model_validate(_lot(ids, dpe_energy_class="G"))  # a "passoire thermique"
    reported = []
    for _ in range(2):  # the second time is a redelivered batch: no new version, no new finding
        with store.session() as session:
            stager = Stager(session, connector="erp", mapping_version="1")
            stager.add([lot], origin_id="export:lot-g")
            stager.flush()
            reported.append([rule for _, rule, _ in stager.findings])
    with store.session() as session:
        kept = [(f.rule, f.entity, f.event_id) for f in findings.of_record(session, lot.id)]
    assert reported == [["lot.dpe.class_g"], []]
    assert kept == [("lot.dpe.class_g", "lot", stager.staged[0].event_id)]
