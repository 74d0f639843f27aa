"""Accepting satellites' payloads durably: journal in the store, then the raw topic.

Every accepted payload is written to the ingestion journal (group commit) before its 202, so
a 202 is never given for something that is not durable, and never waits for the broker. The
relay thread then produces the committed payloads to ``pivot.raw.<connector>`` in commit
order, a batch at a time, and marks them published. When the broker does not acknowledge in
time (outage, pause), the relay switches to the spool: it publishes the journal's unpublished
payloads in acceptance order once the broker answers again, and new payloads queue behind
them, so per-key order is kept across an outage.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from observability.metrics import PivotMetrics
from observability.tracing import creation_context, inject
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import INGESTED_AT, RAW_EVENT_TYPE, Envelope
from pivot.errors import BrokerUnavailable, RejectedError
from pivot.pipeline.canonical import connector_source
from pivot.store import Store, journal
from pivot.store.group_commit import GroupCommit, SignatureSeen
from pivot.store.tables import Ingestion

log = logging.getLogger(__name__)


class ReplayedWebhook(RejectedError):
    """The very same signed request came again (a replay): refused."""

    kind = "replayed"


@dataclass(frozen=True)
class Accepted:
    """A payload the hub has made durable."""

    ingestion_id: str
    topic: str
    #: True when the broker was away: it waits in the store's spool for the broker's return.
    spooled: bool


def raw_envelope(row: Ingestion) -> Envelope:
    """The raw-topic CloudEvent of a journal row (the payload exactly as received)."""
    return Envelope(
        id=row.ingestion_id, type=RAW_EVENT_TYPE, source=connector_source(row.connector),
        data=row.body, key=row.source_key,
        headers={INGESTED_AT: f"{row.ingested_at:.6f}", **(row.trace_headers or {})},
    )


class IngestionService:
    """Journal, relay to the broker and, when the broker is away, spool and drain."""

    def __init__(
        self, store: Store, producer: Callable[[], BusProducer], metrics: PivotMetrics,
        ack_timeout_s: float = 2.0, drain_batch: int = 500, retry_every_s: float = 1.0,
        max_queued: int = 5_000,
    ) -> None:
        self.store = store
        self._producer = producer
        self.metrics = metrics
        self.ack_timeout_s = ack_timeout_s
        self.drain_batch = drain_batch
        self.retry_every_s = retry_every_s
        #: Committed payloads the relay keeps in memory; past this, they wait in the spool (and
        #: a poller waits for room). A bound on memory: with 20,000, an ERP poller running ahead
        #: of the broker took its worker to ≈ 500 MB in a 100,000-record backfill (365 MB now).
        self.max_queued = max_queued
        self._lock = threading.Lock()
        #: Notified when the relay published a batch (a poller waiting for room goes on).
        self._room = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Journal writes of concurrent requests share a transaction (group commit).
        self._journal = GroupCommit(store, on_commit=self._committed)
        #: Committed, not yet produced (the relay's work), in commit order.
        self._queue: deque[Ingestion] = deque()
        #: Batches the journal committed (a drain that read nothing checks none came meanwhile).
        self._commits = 0
        with store.read_session() as session:
            self._pending = journal.pending_count(session)
        #: The broker is away (or the spool is not drained yet): payloads wait in the store.
        self._spooling = self._pending > 0
        self._gauge()

    @property
    def pending(self) -> int:
        """Accepted payloads the broker has not acknowledged yet."""
        return self._pending

    @property
    def spooling(self) -> bool:
        """True while payloads wait in the store's spool for the broker."""
        return self._spooling

    def accept(
        self, connector: str, source_key: str | None, body: bytes, signature: str | None = None
    ) -> Accepted:
        """Make a payload durable; the relay publishes it (see :meth:`accept_async`)."""
        try:
            row = self._journal.record(self._row(connector, source_key, body, signature))
        except SignatureSeen as exc:
            raise ReplayedWebhook("this signed webhook was already accepted") from exc
        return self._accepted(row)

    async def accept_async(
        self, connector: str, source_key: str | None, body: bytes, signature: str | None = None
    ) -> Accepted:
        """Make a payload durable and return once it is committed, without holding a thread.

        Raises :class:`ReplayedWebhook` when the same signed request was accepted before, and
        the store's error when it cannot commit.
        """
        future = self._journal.submit(self._row(connector, source_key, body, signature))
        try:
            row = await asyncio.wrap_future(future)
        except SignatureSeen as exc:
            raise ReplayedWebhook("this signed webhook was already accepted") from exc
        return self._accepted(row)

    def _row(self, connector: str, source_key: str | None, body: bytes,
             signature: str | None) -> dict[str, object]:
        self.start()
        trace = dict(inject({}))
        ingestion_id = str(uuid.uuid4())
        return {"ingestion_id": ingestion_id, "connector": connector,
                "source_key": source_key or ingestion_id, "body": body, "ingested_at": time.time(),
                "trace_headers": trace or None, "signature": signature}

    def _accepted(self, row: Ingestion) -> Accepted:
        return Accepted(row.ingestion_id, topics.raw(row.connector), spooled=self._spooling)

    def _committed(self, rows: list[Ingestion]) -> None:
        """Hand committed rows to the relay (called by the journal writer, in commit order)."""
        with self._lock:
            self._commits += 1
            self._pending += len(rows)
            if not self._spooling and len(self._queue) + len(rows) > self.max_queued:
                log.warning("relay behind by %d payloads: they wait in the spool", self.max_queued)
                self._to_spool()
            if not self._spooling:
                self._queue.extend(rows)
            self._gauge()
        self._wake.set()

    def accept_many(
        self, connector: str, items: Sequence[tuple[str | None, bytes]],
        also: Callable[[Session], None] | None = None, *, own_traces: bool = False,
    ) -> int:
        """Make a batch of (source key, payload) durable in one transaction; the relay publishes it.

        ``also`` runs in the same transaction (a poller saves its cursor there, so a page is
        either journaled with its cursor or not at all). With ``own_traces`` each payload
        starts a trace of its own (linked to the current span), else they all continue the
        current one. Returns how many wait in the spool (the broker is away). A caller
        faster than the broker waits here until its batch fits in the relay's queue (a poller
        reading a full export goes no faster than the broker takes it).
        """
        self.start()
        with self._room:  # before the journal: rows committed meanwhile are the relay's or the spool's
            while (self._queue and len(self._queue) + len(items) > self.max_queued
                   and not self._spooling and not self._stop.is_set()):
                self._room.wait(1.0)
        now = time.time()
        topic = topics.raw(connector)
        ids = [str(uuid.uuid4()) for _ in items]
        if own_traces:
            traces = [creation_context(topic, ingestion_id) for ingestion_id in ids]
        else:
            traces = [dict(inject({}))] * len(ids)
        values = [{"ingestion_id": ingestion_id, "connector": connector, "source_key": key or "-",
                   "body": body, "ingested_at": now, "trace_headers": trace or None,
                   "signature": None}
                  for ingestion_id, (key, body), trace in zip(ids, items, traces, strict=True)]
        with self.store.session() as session:
            rows = journal.record_many(session, values)
            if also is not None:
                also(session)
        if not rows:
            return 0
        self._committed(rows)
        return len(rows) if self._spooling else 0

    def _to_spool(self) -> None:
        """The relay's queue is dropped: its payloads are in the store (the caller holds the lock)."""
        self._spooling = True
        self._queue.clear()
        self._room.notify_all()

    def _gauge(self) -> None:
        self.metrics.spool_depth.set(self._pending if self._spooling else 0)

    def reload(self) -> None:
        """Re-read the spool's depth from the store (after a re-drive) and drain it."""
        with self.store.read_session() as session:
            pending = journal.pending_count(session)
        with self._lock:
            self._pending = pending
            if pending:
                self._to_spool()
            self._gauge()
        self._wake.set()

    def drain(self) -> int:
        """Publish the spool in order, batch by batch; return how many were published.

        Once the store has no unpublished payload left (and the journal committed none while
        it looked), the relay takes new payloads from memory again.
        """
        published = 0
        self._journal.flush()  # what is marked published is not sent again
        while True:
            with self._lock:
                commits = self._commits
            with self.store.read_session() as session:
                rows = journal.pending(session, self.drain_batch)
            if not rows:
                with self._lock:
                    if self._commits != commits:
                        continue  # a batch committed while the store was read: read again
                    self._spooling = False
                    self._pending = len(self._queue)
                    self._gauge()
                return published
            self._publish(rows, max(self.ack_timeout_s, 5.0))
            with self.store.session() as session:
                journal.mark_published(session, [r.seq for r in rows])
            published += len(rows)
            with self._lock:
                self._pending = max(0, self._pending - len(rows))
                self._gauge()

    def relay(self) -> int:
        """Publish the payloads committed since the last call, a batch at a time, in order.

        Returns how many the broker acknowledged; when it does not in time, the payloads stay
        in the store and the relay switches to the spool.
        """
        published = 0
        while True:
            with self._lock:
                if self._spooling or not self._queue:
                    return published
                rows = [self._queue.popleft()
                        for _ in range(min(self.drain_batch, len(self._queue)))]
            try:
                self._publish(rows, self.ack_timeout_s)
            except BrokerUnavailable as exc:
                log.warning("broker did not acknowledge, %d payload(s) spooled: %s",
                            len(rows), exc)
                with self._lock:
                    self._to_spool()
                    self._gauge()
                return published
            self._journal.mark_published([r.seq for r in rows])
            if self._journal.marks_waiting() >= 4 * self.drain_batch:
                self._journal.flush()  # a long backfill keeps few payloads to publish again
            published += len(rows)
            with self._room:
                self._pending = max(0, self._pending - len(rows))
                self._room.notify_all()

    def _publish(self, rows: Sequence[Ingestion], timeout_s: float) -> None:
        """Produce journal rows to their raw topics; raise BrokerUnavailable without every ack."""
        futures = [self._producer().send(topics.raw(r.connector), raw_envelope(r)) for r in rows]
        self._producer().wait(futures, timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            idle = not self._wake.wait(self.retry_every_s)
            self._wake.clear()
            try:
                self.relay()
            except Exception:  # never die: what is not published waits in the store
                log.exception("relay failed")
                with self._lock:
                    self._to_spool()
            if idle and not self._queue:  # the marks ride with the journal's next batch, or now
                try:
                    self._journal.flush()
                except Exception:  # the store is down: the marks wait for the next round
                    log.exception("published marks not written")
            if self._stop.is_set() or not self._spooling:
                continue
            try:
                count = self.drain()
                log.info("spool drained: %d payload(s) published", count)
            except BrokerUnavailable as exc:
                log.warning("broker still unavailable, spool holds %d: %s", self._pending, exc)
            except Exception:  # the store may be down too: keep trying, never die
                log.exception("spool drain failed")
        try:
            self.relay()  # what was accepted before the stop goes out now if it can
        except Exception:  # left in the store: published at the next start
            log.exception("relay failed at stop")

    def start(self) -> IngestionService:
        """Start the relay thread (drains what a previous run left at once); idempotent."""
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._stop.clear()
                    self._thread = threading.Thread(target=self._run, name="ingestion-relay",
                                                    daemon=True)
                    self._thread.start()
            self._wake.set()
        return self

    def stop(self) -> None:
        """Publish what was accepted (if the broker answers), stop the relay and the writer."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10 + self.ack_timeout_s)
            self._thread = None
        try:
            self._journal.close()
        except Exception:  # the store is down: the payloads are published again at restart
            log.exception("published marks not written")

    def flush_marks(self) -> None:
        """Write the queued "published" marks now."""
        self._journal.flush()
