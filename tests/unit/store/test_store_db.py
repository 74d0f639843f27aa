"""The store's engine, migrations and transactions, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import OperationalError

from pivot.serving import free_port
from pivot.store import Store, db, golden, idempotency, xref
from pivot.store.tables import GoldenRecordVersion, ProcessedEvent, Xref

if TYPE_CHECKING:  # the fixture's type; conftest is not importable from a test module
    from tests.unit.store.conftest import SourceIds

TABLES = {
    "xref", "golden_record", "golden_record_version", "processed_event", "ingestion",
    "dead_letter_replay", "outbox", "xref_merge", "tenancy", "lease_holder",
    "poll_cursor",
}


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from pivot.store.db import MIGRATIONS

    return str(ScriptDirectory(str(MIGRATIONS)).get_current_head())


def test_migrations_run_twice_and_create_the_tables(store_url: str) -> None:
    first = Store(store_url)
    try:
        first.migrate()
        first.migrate()
        tables = set(inspect(first.engine).get_table_names())
    finally:
        first.dispose()
    second = Store(store_url)  # a new process on an already migrated database
    try:
        second.migrate()
        inspector = inspect(second.engine)
        assert TABLES | {"alembic_version"} <= tables
        assert TABLES | {"alembic_version"} <= set(inspector.get_table_names())
        with second.engine.connect() as connection:
            versions_now = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert versions_now.scalars().all() == [_head_revision()] == ["0009"]
        uniques = {u["name"]: u["column_names"] for u in inspector.get_unique_constraints("xref")}
        assert uniques["uq_xref_source"] == ["system", "entity", "source_id"]
        versions = "golden_record_version"
        golden_uniques = [u["column_names"] for u in inspector.get_unique_constraints(versions)]
        golden_indexes = [i["column_names"] for i in inspector.get_indexes(versions) if i.get("unique")]
        assert ["event_id"] in golden_uniques + golden_indexes
        assert inspector.get_pk_constraint("processed_event")["constrained_columns"] == [
            "consumer", "event_id"
        ]
    finally:
        second.dispose()


def test_ping_answers_on_a_reachable_database(store: Store) -> None:
    assert store.ping() is True


def test_ping_is_false_when_the_database_is_unreachable() -> None:
    unreachable = Store(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/pivot?connect_timeout=2")
    try:
        assert unreachable.ping() is False
    finally:
        unreachable.dispose()


# On SQLite the first write of a transaction may be made inside a savepoint (xref.link,
# idempotency.mark): the store sends BEGIN itself so that RELEASE does not commit it.
@pytest.mark.parametrize("first_write", ["xref", "idempotency", "golden"])
def test_a_rolled_back_transaction_leaves_nothing(
    store: Store, ids: SourceIds, first_write: str
) -> None:
    event_id = f"evt-rollback-{ids.n}"
    canonical_id = f"tenant_{ids.n:032x}"
    lineage = golden.Lineage(event_id, "fr.pivot.tenant.created.v1", "erp", "1.0.0", ids.erp_tenant)
    writes = {
        "xref": lambda session: xref.link(session, "erp", "tenant", ids.erp_tenant, canonical_id),
        "idempotency": lambda session: idempotency.mark(session, "translate:erp", event_id, "ok"),
        "golden": lambda session: golden.apply(
            session, canonical_id, "tenant", {"last_name": "Benali", "first_name": "Nadia"}, lineage
        ),
    }
    order = [first_write] + [name for name in writes if name != first_write]
    with pytest.raises(RuntimeError, match="ERP quittancement indisponible"), store.session() as session:
        results = {name: writes[name](session) for name in order}
        assert results == {"xref": canonical_id, "idempotency": True, "golden": 1}
        assert xref.lookup(session, "erp", "tenant", ids.erp_tenant) == canonical_id
        raise RuntimeError("ERP quittancement indisponible")

    with store.session() as session:
        assert xref.lookup(session, "erp", "tenant", ids.erp_tenant) is None
        assert golden.get(session, canonical_id) is None
        assert golden.history(session, canonical_id) == []
        assert idempotency.seen(session, "translate:erp", [event_id]) == set()
        assert session.scalar(select(func.count()).select_from(Xref)
                              .where(Xref.source_id == ids.erp_tenant)) == 0
        assert session.scalar(select(func.count()).select_from(GoldenRecordVersion)
                              .where(GoldenRecordVersion.event_id == event_id)) == 0
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)
                              .where(ProcessedEvent.event_id == event_id)) == 0


def test_a_committed_transaction_is_visible_to_a_new_store(store: Store, store_url: str,
                                                           ids: SourceIds) -> None:
    with store.session() as session:
        canonical_id = xref.resolve(session, "ublo", "lot", ids.rpls_lot)
    other = Store(store_url)
    try:
        with other.session() as session:
            assert xref.lookup(session, "ublo", "lot", ids.rpls_lot) == canonical_id
    finally:
        other.dispose()


def test_an_overlong_source_key_is_journaled_as_its_digest(store: Store) -> None:
    from pivot.store import journal

    key = "LOT-" + "9" * 400
    with store.session() as session:
        first = journal.record(session, str(uuid.uuid4()), "ublo", key, b"{}", 0.0)
        second = journal.record(session, str(uuid.uuid4()), "ublo", key, b"{}", 0.0)
    assert first.source_key == second.source_key
    assert first.source_key.startswith("sha256:") and len(first.source_key) <= journal.MAX_KEY


def _hold_write_lock(path: Path, acquired: threading.Event, hold_s: float,
                     released: list[float]) -> None:
    """Another process's writer, as the journal or a worker is: the lock, ``hold_s``, commit."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        acquired.set()
        time.sleep(hold_s)
        other.execute("COMMIT")
        released.append(time.monotonic())
    finally:
        other.close()


@contextmanager
def _store_while_locked(tmp_path: Path, hold_s: float) -> Iterator[tuple[Store, list[float]]]:
    """A migrated store whose write lock another connection holds for ``hold_s`` from now.

    Yields the store and the list the release time is appended to; the holder is joined on
    exit (the store stays open for the caller to use, then dispose).
    """
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    acquired, released = threading.Event(), []
    holder = threading.Thread(target=_hold_write_lock,
                              args=(tmp_path / "hub.db", acquired, hold_s, released))
    holder.start()
    try:
        assert acquired.wait(5)
        yield store, released
    finally:
        holder.join(5)


def test_a_waiting_sqlite_writer_takes_the_lock_as_soon_as_it_is_free(tmp_path: Path) -> None:
    """SQLite's own busy handler would try again 98 ms after a release at 235 ms (its sleeps
    grow to 100 ms); the store's writers try every millisecond."""
    with _store_while_locked(tmp_path, hold_s=0.235) as (store, released), \
            store.session() as session:
        session.execute(text("select 1"))
        took = time.monotonic()
    store.dispose()
    assert released and took - released[0] < 0.04, f"{(took - released[0]) * 1000:.0f} ms"


def test_a_sqlite_writer_gives_up_with_the_usual_error_and_keeps_its_timeout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)
    with _store_while_locked(tmp_path, hold_s=1.0) as (store, _released), \
            pytest.raises(OperationalError, match="database is locked"), store.session() as session:
        session.execute(text("select 1"))
    with store.session() as session:  # the connection is usable, its timeout restored
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    store.dispose()
