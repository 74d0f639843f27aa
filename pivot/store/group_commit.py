"""Group commit of the ingestion journal: concurrent requests share one write transaction.

Each accepted webhook must be in the journal before its 202. Written one transaction per
request, the store's commit (and, on SQLite, its single writer) bounds the API. Here requests
only queue their row and wait on a future; a writer thread writes every row queued so far in
one transaction, with the "published" marks of earlier rows, then resolves their futures.
Rows queued meanwhile go with the next transaction. A request still returns only once its own
row is committed; an ``async`` caller awaits the future without holding a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from pivot.store import Store, journal
from pivot.store.tables import Ingestion


class SignatureSeen(Exception):
    """The row's signature is already in the journal (the same signed request came again)."""


@dataclass(eq=False, slots=True)
class _Queued:
    values: dict[str, Any]
    future: Future[Ingestion] = field(default_factory=Future)


class GroupCommit:
    """Journal rows and published marks, written a batch per transaction by one writer thread.

    ``on_commit`` receives each batch's committed rows, in commit order, before their futures
    are resolved (the spool relay publishes them from there).
    """

    def __init__(self, store: Store,
                 on_commit: Callable[[list[Ingestion]], None] | None = None) -> None:
        self.store = store
        self._on_commit = on_commit
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._marks: list[int] = []
        self._writer: threading.Thread | None = None
        self._closed = False

    def submit(self, values: dict[str, Any]) -> Future[Ingestion]:
        """Queue one row (columns of :class:`Ingestion`); the future holds it once committed.

        The future fails with :class:`SignatureSeen` for a signature already journaled, or
        with the store's error when the transaction failed.
        """
        item = _Queued(values)
        with self._cond:
            self._queue.append(item)
            if self._writer is None or not self._writer.is_alive():
                self._closed = False
                self._writer = threading.Thread(target=self._run, name="journal-writer",
                                                daemon=True)
                self._writer.start()
            self._cond.notify()
        return item.future

    def record(self, values: dict[str, Any]) -> Ingestion:
        """Journal one row and return it once committed (see :meth:`submit`)."""
        return self.submit(values).result()

    def mark_published(self, seqs: Sequence[int]) -> None:
        """Queue published marks; the next batch (or :meth:`flush`) writes them."""
        with self._cond:
            self._marks.extend(seqs)

    def marks_waiting(self) -> int:
        """Published marks queued, not written yet."""
        return len(self._marks)

    def flush(self) -> None:
        """Write what is queued (marks and rows) now, in the calling thread."""
        self._write_next()

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            writer = self._writer
        if writer is not None:
            writer.join(10)
        self._write_next()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed and not self._queue:
                    return
            self._write_next()

    def _write_next(self) -> None:
        with self._write_lock:  # one batch at a time, so rows reach on_commit in commit order
            with self._cond:
                batch, self._queue = self._queue, []
                marks, self._marks = self._marks, []
            if not batch and not marks:
                return
            try:
                written = self._write(batch, marks)
            except BaseException as exc:  # the store is down: every request of the batch fails
                with self._cond:
                    self._marks[:0] = marks  # kept for the next batch
                for item in batch:
                    item.future.set_exception(exc)
                return
            committed: list[tuple[_Queued, Ingestion]] = []
            for item in batch:
                row = written.get(item.values["ingestion_id"])
                if row is None:
                    item.future.set_exception(SignatureSeen(item.values["ingestion_id"]))
                else:
                    committed.append((item, row))
            try:
                if self._on_commit is not None and committed:
                    self._on_commit([row for _, row in committed])
            finally:  # committed is durable: its requests are answered whatever on_commit did
                for item, row in committed:
                    item.future.set_result(row)

    def _write(self, batch: list[_Queued], marks: list[int]) -> dict[str, Ingestion]:
        with self.store.session() as session:
            inserted = journal.record_many(session, [item.values for item in batch])
            journal.mark_published(session, marks)
        return {row.ingestion_id: row for row in inserted}
