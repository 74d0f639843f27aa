"""Group commit of the ingestion journal: concurrent webhooks share a write transaction."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import event, func, select

from pivot.store import Store
from pivot.store.group_commit import GroupCommit, SignatureSeen
from pivot.store.tables import Ingestion


def _row(signature: str | None = None) -> dict[str, object]:
    return {"ingestion_id": str(uuid.uuid4()), "connector": "chatbot", "source_key": "MSG-2026-118",
            "body": b'{"event": "message.created"}', "ingested_at": time.time(),
            "trace_headers": None, "signature": signature}


def test_concurrent_rows_are_each_committed_once_in_fewer_transactions(store: Store) -> None:
    commits = []
    event.listen(store.engine, "commit", lambda _conn: commits.append(1))
    journal = GroupCommit(store)
    rows = [_row(f"sig-{uuid.uuid4().hex}") for _ in range(40)]
    seqs: list[int] = []
    start = threading.Barrier(len(rows))

    def accept(values: dict[str, object]) -> None:
        start.wait()
        seqs.append(journal.record(values).seq)

    threads = [threading.Thread(target=accept, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with store.read_session() as session:
        kept = session.scalar(select(func.count()).select_from(Ingestion).where(
            Ingestion.ingestion_id.in_([r["ingestion_id"] for r in rows])))
    assert len(seqs) == len(set(seqs)) == kept == 40
    assert len(commits) < 40, "every request had its own transaction"


def test_a_replayed_signature_fails_alone_and_marks_are_written_by_flush(store: Store) -> None:
    journal = GroupCommit(store)
    signature = f"sig-{uuid.uuid4().hex}"
    first = journal.record(_row(signature))
    with pytest.raises(SignatureSeen):
        journal.record(_row(signature))
    other = journal.record(_row())
    journal.mark_published([first.seq, other.seq])
    with store.read_session() as session:
        assert session.get(Ingestion, first.seq).published_at is None  # queued, not written yet
    journal.flush()
    with store.read_session() as session:
        marked = [session.get(Ingestion, seq).published_at for seq in (first.seq, other.seq)]
    assert all(marked)
