"""Accepting satellites' payloads durably: journal in the store, then the raw topic.

Every accepted payload is written to the ingestion journal before anything else, so a 202 is
never given for something that is not durable. It is then produced to
``pivot.raw.<connector>``; when the broker does not acknowledge in time (outage, pause), the
payload stays in the journal's spool and the drainer publishes the spool in acceptance order
once the broker answers again. While the spool is not empty, new payloads queue behind it, so
per-key order is kept across an outage.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
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
    #: True when it waits in the store's spool for the broker; False when already on Kafka.
    spooled: bool


def raw_envelope(row: Ingestion) -> Envelope:
    """The raw-topic CloudEvent of a journal row (the payload exactly as received)."""
    return Envelope(
        id=row.ingestion_id, type=RAW_EVENT_TYPE, source=connector_source(row.connector),
        data=row.body, key=row.source_key,
        headers={INGESTED_AT: f"{row.ingested_at:.6f}", **(row.trace_headers or {})},
    )


class IngestionService:
    """Journal, publish and, when the broker is away, spool and drain."""

    def __init__(
        self, store: Store, producer: Callable[[], BusProducer], metrics: PivotMetrics,
        ack_timeout_s: float = 2.0, drain_batch: int = 500, retry_every_s: float = 1.0,
    ) -> None:
        self.store = store
        self._producer = producer
        self.metrics = metrics
        self.ack_timeout_s = ack_timeout_s
        self.drain_batch = drain_batch
        self.retry_every_s = retry_every_s
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Journal writes of concurrent requests share a transaction (group commit).
        self._journal = GroupCommit(store)
        with store.read_session() as session:
            self._pending = journal.pending_count(session)
        metrics.spool_depth.set(self._pending)

    @property
    def pending(self) -> int:
        """Payloads waiting in the spool."""
        return self._pending

    def accept(
        self, connector: str, source_key: str | None, body: bytes, signature: str | None = None
    ) -> Accepted:
        """Make a payload durable; publish it now unless the spool holds older ones.

        Raises :class:`ReplayedWebhook` when the same signed request was accepted before.
        """
        trace = dict(inject({}))
        ingestion_id = str(uuid.uuid4())
        try:
            row = self._journal.record({
                "ingestion_id": ingestion_id, "connector": connector,
                "source_key": source_key or ingestion_id, "body": body, "ingested_at": time.time(),
                "trace_headers": trace or None, "signature": signature,
            })
        except SignatureSeen as exc:
            raise ReplayedWebhook("this signed webhook was already accepted") from exc
        topic = topics.raw(connector)
        with self._lock:
            if self._pending:
                return self._spool(row, topic)
            try:
                future = self._producer().send(topic, raw_envelope(row))
            except BrokerUnavailable:
                return self._spool(row, topic)
        try:
            self._producer().wait([future], self.ack_timeout_s)
        except BrokerUnavailable:
            with self._lock:
                return self._spool(row, topic)
        self._journal.mark_published([row.seq])  # written with the next batch: a crash
        # before then publishes the payload again, which its ingestion id dedupes downstream
        return Accepted(row.ingestion_id, topic, spooled=False)

    def accept_many(
        self, connector: str, items: Sequence[tuple[str | None, bytes]],
        also: Callable[[Session], None] | None = None, *, own_traces: bool = False,
    ) -> int:
        """Make a batch of (source key, payload) durable in one transaction, then publish it.

        ``also`` runs in the same transaction (a poller saves its cursor there, so a page is
        either journaled with its cursor or not at all). With ``own_traces`` each payload
        starts a trace of its own (linked to the current span), else they all continue the
        current one. Returns how many were spooled.
        """
        now = time.time()
        topic = topics.raw(connector)
        ids = [str(uuid.uuid4()) for _ in items]
        if own_traces:
            traces = [creation_context(topic, ingestion_id) for ingestion_id in ids]
        else:
            traces = [dict(inject({}))] * len(ids)
        with self.store.session() as session:
            rows = [journal.record(session, ingestion_id, connector, key or "-", body, now, trace)
                    for ingestion_id, (key, body), trace in zip(ids, items, traces, strict=True)]
            if also is not None:
                also(session)
        if not rows:
            return 0
        with self._lock:
            if self._pending:
                return self._spool_many(len(rows))
            try:
                futures = [self._producer().send(topic, raw_envelope(r)) for r in rows]
            except BrokerUnavailable:
                return self._spool_many(len(rows))
        try:
            self._producer().wait(futures, max(self.ack_timeout_s, 5.0))
        except BrokerUnavailable:
            with self._lock:
                return self._spool_many(len(rows))
        with self.store.session() as session:
            journal.mark_published(session, [r.seq for r in rows])
        return 0

    def _spool_many(self, count: int) -> int:
        self._pending += count
        self.metrics.spool_depth.set(self._pending)
        self._wake.set()
        return count

    def _spool(self, row: Ingestion, topic: str) -> Accepted:
        self._pending += 1
        self.metrics.spool_depth.set(self._pending)
        self._wake.set()
        return Accepted(row.ingestion_id, topic, spooled=True)

    def reload(self) -> None:
        """Re-read the spool's depth from the store (after a re-drive) and drain it."""
        with self.store.read_session() as session:
            pending = journal.pending_count(session)
        with self._lock:
            self._pending = pending
        self.metrics.spool_depth.set(pending)
        self._wake.set()

    def drain(self) -> int:
        """Publish the spool in order, batch by batch; return how many were published."""
        published = 0
        self._journal.flush()  # what is marked published is not sent again
        while True:
            with self.store.read_session() as session:
                rows = journal.pending(session, self.drain_batch)
            if not rows:
                with self._lock:
                    self._pending = 0
                self.metrics.spool_depth.set(0)
                return published
            with self._lock:
                futures = [self._producer().send(topics.raw(r.connector), raw_envelope(r))
                           for r in rows]
            self._producer().wait(futures, max(self.ack_timeout_s, 5.0))
            with self.store.session() as session:
                journal.mark_published(session, [r.seq for r in rows])
            published += len(rows)
            with self._lock:
                self._pending = max(0, self._pending - len(rows))
            self.metrics.spool_depth.set(self._pending)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.retry_every_s)
            self._wake.clear()
            try:
                self._journal.flush()
            except Exception:  # the store is down: the marks wait for the next round
                log.exception("published marks not written")
            if self._stop.is_set() or not self._pending:
                continue
            try:
                count = self.drain()
                log.info("spool drained: %d payload(s) published", count)
            except BrokerUnavailable as exc:
                log.warning("broker still unavailable, spool holds %d: %s", self._pending, exc)
            except Exception:  # the store may be down too: keep trying, never die
                log.exception("spool drain failed")

    def start(self) -> IngestionService:
        """Start the drainer thread (drains what a previous run left at once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="spool-drainer", daemon=True)
            self._thread.start()
            if self._pending:
                self._wake.set()
        return self

    def stop(self) -> None:
        """Stop the drainer thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        try:
            self._journal.flush()
        except Exception:  # the store is down: the payloads are published again at restart
            log.exception("published marks not written")

    def flush_marks(self) -> None:
        """Write the queued "published" marks now."""
        self._journal.flush()
