"""Identity that survives real life: national ids first, ERP migrations, merges, lease periods."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from pivot.pipeline.context import StoreContext
from pivot.store import Store, golden, tenancy, xref

if TYPE_CHECKING:
    from tests.unit.store.conftest import SourceIds


def test_a_lot_brought_by_two_systems_with_one_rpls_is_one_golden_record(
    store: Store, ids: SourceIds
) -> None:
    with store.session() as session:
        from_erp = xref.match(session, "erp", "lot", f"LOT-{ids.n}", {"rpls": ids.rpls_lot})
        from_ublo = xref.match(session, "ublo", "lot", f"ubl_prop_{ids.n}", {"rpls": ids.rpls_lot})
        again = xref.match(session, "ublo", "lot", f"ubl_prop_{ids.n}", {"rpls": None})
    assert from_erp == from_ublo == again
    with store.session() as session:
        assert xref.lookup(session, "rpls", "lot", ids.rpls_lot) == from_erp


def test_the_national_id_wins_over_a_source_link_and_unknown_kinds_are_refused(
    store: Store, ids: SourceIds
) -> None:
    with store.session() as session:
        erp_lot = xref.match(session, "erp", "lot", f"LOT-{ids.n}", {"rpls": ids.rpls_lot})
        stray = xref.resolve(session, "ublo", "lot", f"ubl_prop_{ids.n}")
        matched = xref.match(session, "ublo", "lot", f"ubl_prop_{ids.n}", {"rpls": ids.rpls_lot})
        assert stray != erp_lot and matched == erp_lot
        with pytest.raises(ValueError, match="national id kind"):
            xref.match(session, "erp", "lot", f"LOT-{ids.n}", {"insee": "69266"})


def test_store_context_matches_national_ids_like_the_store(store: Store, ids: SourceIds) -> None:
    with store.session() as session:
        erp = StoreContext(session, "erp").canonical_id(
            "building", f"BAT-{ids.n}", national_ids={"rnb": f"RNB{ids.n:09d}"})
        ublo = StoreContext(session, "ublo").canonical_id(
            "building", f"bld-{ids.n}", national_ids={"rnb": f"RNB{ids.n:09d}"})
    assert erp == ublo


def test_after_an_erp_migration_old_and_new_ids_resolve_and_the_new_one_is_written_to(
    store: Store, ids: SourceIds
) -> None:
    with store.session() as session:
        tenant = xref.resolve(session, "erp", "tenant", ids.erp_tenant)
        xref.link(session, "erp", "tenant", ids.erp_tenant_new, tenant)
        assert xref.retire(session, "erp", "tenant", ids.erp_tenant)
    with store.session() as session:
        assert xref.lookup(session, "erp", "tenant", ids.erp_tenant) == tenant
        assert xref.lookup(session, "erp", "tenant", ids.erp_tenant_new) == tenant
        assert StoreContext(session, "erp").source_id("tenant", tenant) == ids.erp_tenant_new
        assert xref.source_ids(session, "erp", "tenant", tenant) == [ids.erp_tenant,
                                                                    ids.erp_tenant_new]


def test_a_merge_redirects_the_absorbed_record_and_keeps_its_history(
    store: Store, ids: SourceIds
) -> None:
    with store.session() as session:
        erp = xref.resolve(session, "erp", "tenant", ids.erp_tenant)
        chatbot = xref.resolve(session, "chatbot", "tenant", ids.chatbot_user)
        moved = xref.merge(session, "tenant", erp, chatbot, "same phone and name")
    assert moved == 1
    with store.session() as session:
        assert xref.lookup(session, "chatbot", "tenant", ids.chatbot_user) == erp
        assert xref.survivor_of(session, chatbot) == erp
        assert xref.absorbed_into(session, erp) == [chatbot]
        golden.apply(session, erp, "tenant", {"id": erp, "last_name": "Benali"},
                     golden.Lineage(f"evt-merge-{ids.n}", "fr.pivot.tenant.upserted.v1", "erp", "1"))
        ctx = StoreContext(session, "chatbot")
        assert ctx.golden(chatbot) == ctx.golden(erp) == {"id": erp, "last_name": "Benali"}
        assert ctx.golden(f"tenant_{ids.n:032x}") is None
        with pytest.raises(ValueError, match="itself"):
            xref.merge(session, "tenant", erp, erp, "no")
        with pytest.raises(ValueError, match="was itself merged"):
            xref.merge(session, "tenant", chatbot, erp, "loop")


def test_a_lot_outlives_its_leases(store: Store, ids: SourceIds) -> None:
    lot = f"lot_{ids.n:032x}"
    old, new = f"lease_a{ids.n:031x}", f"lease_b{ids.n:031x}"
    tenant_old, tenant_new = f"tenant_a{ids.n:031x}", f"tenant_b{ids.n:031x}"
    with store.session() as session:
        tenancy.record(session, old, lot, date(2015, 3, 1), date(2026, 6, 30), [tenant_old])
        tenancy.record(session, new, lot, date(2026, 8, 1), None, [tenant_new])
    with store.session() as session:
        assert tenancy.lease_on(session, lot, date(2020, 1, 1)) == old
        assert tenancy.lease_on(session, lot, date(2026, 7, 15)) is None  # vacant
        assert tenancy.lease_on(session, lot, date(2026, 11, 24)) == new
        assert tenancy.lot_of_tenant(session, tenant_old, date(2026, 11, 24)) is None
        assert tenancy.lot_of_tenant(session, tenant_new, date(2026, 11, 24)) == lot
        assert [t.lease_id for t in tenancy.history(session, lot)] == [old, new]


def test_two_stages_minting_for_one_source_id_at_once_agree(store: Store, ids: SourceIds) -> None:
    # The delivery that created an intervention defers its link until after the HTTP call;
    # the tool's first webhook may be translated meanwhile. Both mint the same id.
    with store.read_session() as session:
        deferred = StoreContext(session, "urbest", defer_writes=True)
        from_answer = deferred.canonical_id("intervention", ids.urbest_intervention)
    with store.session() as session:
        from_webhook = StoreContext(session, "urbest").canonical_id(
            "intervention", ids.urbest_intervention)
    with store.session() as session:
        deferred.flush(session)
        assert xref.lookup(session, "urbest", "intervention", ids.urbest_intervention) == from_webhook
    assert from_answer == from_webhook


def test_a_lease_held_by_either_side_of_a_merge_gives_the_tenant_its_lot(
    store: Store, ids: SourceIds
) -> None:
    lot, other_lot = f"lot_c{ids.n:031x}", f"lot_d{ids.n:031x}"
    survivor, absorbed = f"tenant_c{ids.n:031x}", f"tenant_d{ids.n:031x}"
    stranger = f"tenant_e{ids.n:031x}"
    day = date(2026, 11, 24)
    with store.session() as session:
        tenancy.record(session, f"lease_c{ids.n:031x}", lot, date(2021, 9, 1), None, [absorbed])
        tenancy.record(session, f"lease_d{ids.n:031x}", other_lot, date(2022, 1, 1), None,
                       [stranger])
        assert tenancy.lot_of_tenant(session, survivor, day) is None
        xref.merge(session, "tenant", survivor, absorbed, "same IBAN and birth date")
    with store.session() as session:
        assert tenancy.lot_of_tenant(session, survivor, day) == lot  # held by the absorbed one
        assert tenancy.lot_of_tenant(session, absorbed, day) == lot
        assert tenancy.lot_of_tenant(session, stranger, day) == other_lot
