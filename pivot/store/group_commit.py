"""Group commit of the ingestion journal: concurrent requests share one write transaction.

Each accepted webhook must be in the journal before its 202. Written one transaction per
request, the store's commit (and, on SQLite, its single writer) bounds the API. Here the first
request that finds no write in progress becomes the leader: it writes every row queued so far
in one transaction, with the "published" marks of earlier rows, and wakes their requests;
rows queued meanwhile go with the next leader. A request still returns only once its own row
is committed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pivot.store import Store, journal
from pivot.store.bulk import insert_ignore
from pivot.store.tables import Ingestion


class SignatureSeen(Exception):
    """The row's signature is already in the journal (the same signed request came again)."""


@dataclass(eq=False)
class _Queued:
    values: dict[str, Any]
    seq: int | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class GroupCommit:
    """Journal rows and published marks, written by whichever request leads the next batch."""

    store: Store
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _queue: list[_Queued] = field(default_factory=list)
    _marks: list[int] = field(default_factory=list)
    _writing: bool = False

    def record(self, values: dict[str, Any]) -> Ingestion:
        """Journal one row (columns of :class:`Ingestion`); return it once committed.

        Raises :class:`SignatureSeen` for a signature already journaled.
        """
        item = _Queued({**values, "source_key": journal.storable_key(values["source_key"])})
        with self._cond:
            self._queue.append(item)
            while not item.done and self._writing:
                self._cond.wait()
            if not item.done:
                self._writing = True
                batch, self._queue = self._queue, []
                marks, self._marks = self._marks, []
        if not item.done:
            self._lead(batch, marks)
        if item.error is not None:
            raise item.error
        return Ingestion(seq=item.seq, **item.values)

    def mark_published(self, seqs: Sequence[int]) -> None:
        """Queue published marks; the next batch (or :meth:`flush`) writes them."""
        with self._cond:
            self._marks.extend(seqs)

    def flush(self) -> None:
        """Write the queued marks now (the spool drainer calls it, so none waits long)."""
        with self._cond:
            while self._writing:
                self._cond.wait()
            if not self._marks and not self._queue:
                return
            self._writing = True
            batch, self._queue = self._queue, []
            marks, self._marks = self._marks, []
        self._lead(batch, marks)

    def _lead(self, batch: list[_Queued], marks: list[int]) -> None:
        try:
            seqs = self._write(batch, marks)
            failure: BaseException | None = None
        except BaseException as exc:  # the store is down: every request of the batch fails
            seqs, failure = {}, exc
        with self._cond:
            for item in batch:
                item.seq = seqs.get(item.values["ingestion_id"])
                if failure is not None:
                    item.error = failure
                elif item.seq is None:
                    item.error = SignatureSeen(item.values["ingestion_id"])
                item.done = True
            if failure is not None:
                self._marks[:0] = marks  # kept for the next batch
            self._writing = False
            self._cond.notify_all()

    def _write(self, batch: list[_Queued], marks: list[int]) -> dict[str, int]:
        with self.store.session() as session:
            inserted = insert_ignore(session, Ingestion, [item.values for item in batch],
                                     conflict=("signature",),
                                     returning=(Ingestion.ingestion_id, Ingestion.seq))
            journal.mark_published(session, marks)
        return {ingestion_id: seq for ingestion_id, seq in inserted}
