"""Cross-reference of identifiers: minting, linking, ERP migrations and the resolve race."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pivot.store import Store, xref
from pivot.store.tables import Xref

if TYPE_CHECKING:  # the fixture's type; conftest is not importable from a test module
    from tests.unit.store.conftest import SourceIds

CANONICAL = re.compile(r"(?P<kind>[a-z_]+)_[0-9a-f]{32}")


def _rows(store: Store, system: str, entity: str, source_id: str) -> int:
    with store.session() as session:
        return session.scalar(
            select(func.count()).select_from(Xref).where(
                Xref.system == system, Xref.entity == entity, Xref.source_id == source_id
            )
        ) or 0


def test_lookup_of_an_unknown_source_id_is_none(store: Store, ids: SourceIds) -> None:
    with store.session() as session:
        assert xref.lookup(session, "erp", "tenant", ids.erp_tenant) is None
        assert xref.source_ids(session, "erp", "tenant", "tenant_" + "0" * 32) == []


def test_resolve_mints_once_and_returns_the_same_id(store: Store, ids: SourceIds) -> None:
    with store.session() as session:
        first = xref.resolve(session, "ublo", "lot", ids.rpls_lot)
        again = xref.resolve(session, "ublo", "lot", ids.rpls_lot)
    with store.session() as session:  # and after commit, from another transaction
        later = xref.resolve(session, "ublo", "lot", ids.rpls_lot)
        assert xref.lookup(session, "ublo", "lot", ids.rpls_lot) == first
    match = CANONICAL.fullmatch(first)
    assert match is not None and match["kind"] == "lot"
    assert again == first and later == first
    assert _rows(store, "ublo", "lot", ids.rpls_lot) == 1


def test_same_source_id_in_other_systems_or_entities_gets_other_ids(store: Store, ids: SourceIds) -> None:
    # The ERP and Ublo both know the lot by its RPLS number: until a steward links them,
    # they are two source records, each with its own canonical id.
    with store.session() as session:
        from_erp = xref.resolve(session, "erp", "lot", ids.rpls_lot)
        from_ublo = xref.resolve(session, "ublo", "lot", ids.rpls_lot)
        as_building = xref.resolve(session, "erp", "building", ids.rpls_lot)
    assert len({from_erp, from_ublo, as_building}) == 3
    assert CANONICAL.fullmatch(as_building)["kind"] == "building"  # type: ignore[index]
    with store.session() as session:
        assert xref.resolve(session, "erp", "lot", ids.rpls_lot) == from_erp
        assert xref.resolve(session, "ublo", "lot", ids.rpls_lot) == from_ublo


def test_link_of_an_already_linked_source_id_keeps_the_existing_link(
    store: Store, ids: SourceIds, more_ids: SourceIds
) -> None:
    with store.session() as session:
        original = xref.resolve(session, "urbest", "intervention", ids.urbest_intervention)
    other = f"intervention_{more_ids.n:032x}"
    with store.session() as session:
        assert xref.link(session, "urbest", "intervention", ids.urbest_intervention, other) == original
    with store.session() as session:
        assert xref.lookup(session, "urbest", "intervention", ids.urbest_intervention) == original
        assert xref.source_ids(session, "urbest", "intervention", other) == []
        assert xref.source_ids(session, "urbest", "intervention", original) == [ids.urbest_intervention]
    assert _rows(store, "urbest", "intervention", ids.urbest_intervention) == 1


def test_link_of_a_new_source_id_returns_the_given_canonical_id(store: Store, ids: SourceIds) -> None:
    with store.session() as session:
        canonical_id = xref.resolve(session, "erp", "tenant", ids.erp_tenant)
        # The chatbot user gave their ERP reference: the steward links the chatbot id to it.
        assert xref.link(session, "chatbot", "tenant", ids.chatbot_user, canonical_id) == canonical_id
    with store.session() as session:
        assert xref.resolve(session, "chatbot", "tenant", ids.chatbot_user) == canonical_id
        assert xref.source_ids(session, "chatbot", "tenant", canonical_id) == [ids.chatbot_user]
        assert xref.source_ids(session, "erp", "tenant", canonical_id) == [ids.erp_tenant]


def test_erp_migration_keeps_old_and_new_ids_oldest_first(store: Store, ids: SourceIds) -> None:
    # The landlord changes ERP: tenants get a new reference, the old one still arrives
    # from archives and from satellites that were not migrated yet. Both must resolve.
    old, new = ids.erp_tenant, ids.erp_tenant_new
    interim = f"LOC-M{ids.n:06d}"
    with store.session() as session:
        canonical_id = xref.resolve(session, "erp", "tenant", old)
    with store.session() as session:
        assert xref.link(session, "erp", "tenant", interim, canonical_id) == canonical_id
    with store.session() as session:
        assert xref.link(session, "erp", "tenant", new, canonical_id) == canonical_id
        xref.resolve(session, "chatbot", "tenant", f"CB-USR-{ids.n:06d}")  # unrelated, other system
    with store.session() as session:
        assert {xref.resolve(session, "erp", "tenant", s) for s in (old, interim, new)} == {canonical_id}
        assert xref.source_ids(session, "erp", "tenant", canonical_id) == [old, interim, new]
        assert xref.source_ids(session, "ublo", "tenant", canonical_id) == []


def test_concurrent_resolve_of_one_source_id_mints_one_canonical_id(store: Store, ids: SourceIds) -> None:
    # Four translate workers receive the same Urbest intervention at once (at-least-once
    # delivery after a rebalance). Each has its own session; exactly one link may win.
    workers = 4
    for round_ in range(3):
        source_id = f"URB-2026-{ids.n:04d}{round_:02d}"
        barrier = threading.Barrier(workers)

        def resolve(_worker: int, source_id: str = source_id, barrier: threading.Barrier = barrier) -> str:
            with store.session() as session:
                barrier.wait(timeout=10)
                return xref.resolve(session, "urbest", "intervention", source_id)

        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(resolve, range(workers)))

        assert len(results) == workers
        assert len(set(results)) == 1, results
        assert CANONICAL.fullmatch(results[0])["kind"] == "intervention"  # type: ignore[index]
        assert _rows(store, "urbest", "intervention", source_id) == 1
        with store.session() as session:
            assert xref.lookup(session, "urbest", "intervention", source_id) == results[0]


def test_link_that_loses_the_race_returns_the_winner_and_keeps_the_transaction(
    store: Store, ids: SourceIds, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deterministic version of the race above: this worker's look-up ran just before another
    # worker committed the link, so its INSERT hits the unique constraint.
    with store.session() as session:
        winner = xref.resolve(session, "erp", "tenant", ids.erp_tenant)
    real_lookup = xref.lookup
    calls: list[str] = []

    def stale_first_lookup(session: Session, system: str, entity: str, source_id: str) -> str | None:
        calls.append(source_id)
        return None if len(calls) == 1 else real_lookup(session, system, entity, source_id)

    with store.session() as session:
        lot = xref.resolve(session, "erp", "lot", ids.rpls_lot)  # earlier work of the same batch
        monkeypatch.setattr(xref, "lookup", stale_first_lookup)
        loser = f"tenant_{ids.n:032x}"
        assert xref.link(session, "erp", "tenant", ids.erp_tenant, loser) == winner
        monkeypatch.setattr(xref, "lookup", real_lookup)
        assert calls == [ids.erp_tenant, ids.erp_tenant]  # the IntegrityError branch ran
        chatbot = xref.resolve(session, "chatbot", "tenant", ids.chatbot_user)  # still usable
    with store.session() as session:
        assert xref.lookup(session, "erp", "lot", ids.rpls_lot) == lot
        assert xref.lookup(session, "chatbot", "tenant", ids.chatbot_user) == chatbot
        assert xref.source_ids(session, "erp", "tenant", winner) == [ids.erp_tenant]
        assert xref.source_ids(session, "erp", "tenant", loser) == []
    assert _rows(store, "erp", "tenant", ids.erp_tenant) == 1
