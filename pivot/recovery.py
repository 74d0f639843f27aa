"""Recovery from a broker that lost its data, and the outbox relay.

The embedded broker keeps everything in memory: killed and restarted, it comes back empty —
no topics, no records, no consumer-group offsets. The watch notices (the hub's topics are
gone), recreates the topics and queues again, from the store, what was accepted but not fully
applied: payloads not yet translated (back into the ingestion spool) and canonical events not
yet applied by every interested consumer (back into the outbox queue). Everything downstream
is idempotent, so what had been applied already is skipped.

The same thread publishes outbox rows nobody published (a worker that died between its store
commit and its broker acknowledgement) and marks settled the events every consumer applied.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from pivot.bus import topics
from pivot.errors import BrokerUnavailable
from pivot.hub import Hub
from pivot.store import outbox
from pivot.store.tables import utcnow

log = logging.getLogger(__name__)


def consumers_of(hub: Hub) -> dict[str, list[str]]:
    """Event type → the consumers (``deliver:<connector>``) that apply it."""
    wanted: dict[str, list[str]] = {}
    for connector in hub.connectors.values():
        for event_type in connector.outbound:
            wanted.setdefault(event_type, []).append(f"deliver:{connector.name}")
    return wanted


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; they are UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class BrokerWatch:
    """A thread: detect a broker reset and re-drive; relay the outbox; settle applied events."""

    def __init__(self, hub: Hub, every_s: float = 2.0, relay_after_s: float = 10.0) -> None:
        self.hub = hub
        self.every_s = every_s
        self.relay_after_s = relay_after_s
        self.resets = 0
        self._consumers: Mapping[str, list[str]] = consumers_of(hub)
        self._consumer: KafkaConsumer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _marker_present(self) -> bool | None:
        """Whether the broker still holds the hub's epoch marker; None when unreachable."""
        try:
            if self._consumer is None:
                self._consumer = KafkaConsumer(bootstrap_servers=self.hub.bootstrap,
                                               client_id="pivot-broker-watch",
                                               request_timeout_ms=5_000, bootstrap_timeout_ms=3_000)
            marker = TopicPartition(topics.EPOCH, 0)
            return bool(self._consumer.end_offsets([marker]).get(marker, 0))
        except KafkaError:
            self._close_consumer()
            return None

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(KafkaError):
                self._consumer.close()
            self._consumer = None

    def check(self) -> bool:
        """One round; True when a reset was detected and re-driven."""
        with self.hub.store.session() as session:
            outbox.settle(session, self._consumers)
        present = self._marker_present()
        if present is None:
            return False  # broker unreachable: the spool takes over, nothing to re-drive yet
        reset = not present
        if reset:
            self.resets += 1
            log.warning("the broker lost the hub's data (epoch marker gone): recreating the "
                        "topics and re-driving from the store")
            if not self.hub.prepare_topics():
                return False  # someone else (another hub process) already wrote the new epoch
            self.hub.ingestion.flush_marks()  # a mark written after the re-drive would hide a lost payload
            with self.hub.store.session() as session:
                payloads, events = outbox.redrive(session)
            log.warning("re-driving %d payload(s) and %d event(s)", payloads, events)
            self.hub.ingestion.reload()
        self.relay(older_than_s=0.0 if reset else self.relay_after_s)
        return reset

    def relay(self, older_than_s: float) -> int:
        """Publish outbox rows nobody published, oldest first; return how many."""
        published = 0
        producer = self.hub.producer
        while True:
            with self.hub.store.read_session() as session:
                rows = [r for r in outbox.unpublished(session)
                        if (utcnow() - _aware(r.created_at)).total_seconds() >= older_than_s]
            if not rows:
                return published
            futures = [producer.send_raw(r.topic, r.key.encode() if r.key else None, r.value,
                                         [(k, v.encode()) for k, v in r.headers]) for r in rows]
            producer.wait(futures)
            with self.hub.store.session() as session:
                outbox.mark_published(session, [r.event_id for r in rows])
            published += len(rows)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.check()
            except BrokerUnavailable as exc:
                log.info("broker unavailable during recovery check: %s", exc)
            except Exception:  # never let the watch die
                log.exception("recovery check failed")

    def start(self) -> BrokerWatch:
        """Start the watch thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="broker-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the watch thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._close_consumer()


__all__ = ["BrokerWatch", "consumers_of"]
