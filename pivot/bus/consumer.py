"""The consumer loop: a consumer group, batches, manual commit after processing, clean stop.

The handler gets each polled batch (records of a partition stay in offset order) and must
deal with per-record problems itself (dead-letter them). Offsets are committed only after the
handler returned, so a crash at any point redelivers what was not fully processed. When the
handler raises (store down, broker gone), the loop seeks back to the batch's first offsets,
backs off and tries again: nothing is skipped. A poll or a commit that fails (rebalance,
restarted broker) never ends the loop: an uncommitted batch is redelivered and its effects,
already recorded, are skipped.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError

from observability.metrics import PivotMetrics
from pivot.bus.epoch import epoch_reader, read_epoch
from pivot.errors import BrokerUnavailable
from pivot.retry import RetryInterrupted
from pivot.settings import KafkaSettings

log = logging.getLogger(__name__)

BatchHandler = Callable[[list[ConsumerRecord]], None]


class ConsumerLoop:
    """Poll ``topics`` in consumer group ``group`` and hand each batch to ``handler``."""

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        group: str,
        handler: BatchHandler,
        settings: KafkaSettings | None = None,
        *,
        poll_timeout_ms: int = 200,
        error_backoff_s: float = 1.0,
        log_check_s: float = 2.0,
        follow_epoch: bool = False,
        metrics: PivotMetrics | None = None,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.group = group
        self.handler = handler
        self.settings = settings or KafkaSettings()
        self.poll_timeout_ms = poll_timeout_ms
        self.error_backoff_s = error_backoff_s
        self.log_check_s = log_check_s
        #: Use consumer groups of the broker epoch (``<group>.<epoch>``) and move when it changes.
        self.follow_epoch = follow_epoch
        self.epoch: str | None = None
        self._epoch_reader: KafkaConsumer | None = None
        self._stop = threading.Event()
        self._assigned = threading.Event()
        #: Where ``pivot_consumer_lag`` of this loop's partitions goes (none when None).
        self.metrics = metrics
        #: Called by :meth:`stop` (a deliver loop interrupts its retries there).
        self.on_stop = on_stop
        self._lag_partitions: set[tuple[str, int]] = set()
        self._ends_asked = 0.0
        self.batches = 0
        self.records = 0

    def _current_epoch(self) -> str | None:
        if self._epoch_reader is None:
            self._epoch_reader = epoch_reader(self.bootstrap)
        return read_epoch(self._epoch_reader)

    def _consumer(self) -> KafkaConsumer:
        s = self.settings
        group = self.group
        if self.follow_epoch:
            while (epoch := self._current_epoch()) is None and not self._stop.is_set():
                self._stop.wait(self.error_backoff_s)  # the hub is re-creating the epoch
            self.epoch = epoch
            group = f"{self.group}.{epoch}"
        return KafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=group,
            client_id=f"{s.client_id}-{self.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            max_poll_interval_ms=s.max_poll_interval_ms,
            max_poll_records=s.max_poll_records,
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            request_timeout_ms=max(s.request_timeout_ms, s.session_timeout_ms + 1_000),
        )

    def stop(self) -> None:
        """Ask the loop to finish its current batch, commit and return.

        A batch waiting to retry a call (``on_stop`` interrupts it) is not committed: it is
        consumed again by whoever takes the partition.
        """
        self._stop.set()
        if self.on_stop is not None:
            self.on_stop()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def wait_assigned(self, timeout_s: float) -> bool:
        """Block until the group gave this consumer its partitions (or timeout)."""
        return self._assigned.wait(timeout_s)

    def run(self) -> None:
        """Run until :meth:`stop`; commits after every processed batch."""
        consumer = self._connect()
        checked = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    polled = consumer.poll(timeout_ms=self.poll_timeout_ms)
                    if self.follow_epoch and time.monotonic() - checked > self.log_check_s:
                        checked = time.monotonic()
                        if self._current_epoch() != self.epoch:
                            raise KafkaError("the broker epoch changed (its data was lost)")
                except (KafkaError, BrokerUnavailable) as exc:
                    consumer = self._restart(consumer, f"poll failed: {exc}")
                    continue
                if consumer.assignment():
                    self._assigned.set()
                self._record_lag(consumer, polled)
                if not polled:
                    continue
                batch = [record for records in polled.values() for record in records]
                try:
                    self.handler(batch)
                except (KafkaError, BrokerUnavailable) as exc:
                    consumer = self._restart(consumer, f"batch of {len(batch)} failed: {exc}")
                    continue
                except RetryInterrupted:
                    log.info("stopping: the batch of %d records in %s is left uncommitted",
                             len(batch), self.group)
                    self._rewind(consumer, polled)
                    continue
                except Exception:
                    log.exception("batch of %d records failed in %s; retrying it", len(batch),
                                  self.group)
                    self._rewind(consumer, polled)
                    self._stop.wait(self.error_backoff_s)
                    continue
                try:
                    consumer.commit()
                except KafkaError as exc:
                    consumer = self._restart(consumer, f"commit failed: {exc}")
                    continue
                self.batches += 1
                self.records += len(batch)
        finally:
            self._close(consumer)
            if self._epoch_reader is not None:
                self._epoch_reader.close()

    def _record_lag(
        self, consumer: KafkaConsumer, polled: dict[TopicPartition, list[ConsumerRecord]]
    ) -> None:
        """Set ``pivot_consumer_lag`` of each assigned partition: records not processed yet.

        From what the client already knows (the highwater of the last fetch, the position), so
        it costs no request; a polled batch counts as not processed yet. Partitions this
        consumer lost in a rebalance stop being reported by it.
        """
        if self.metrics is None:
            return
        gauge = self.metrics.consumer_lag
        first = {tp: records[0].offset for tp, records in polled.items() if records}
        try:
            assigned = consumer.assignment()
            ends = self._ends_when_unknown(consumer, assigned)
            for tp in assigned:
                highwater = consumer.highwater(tp)
                if highwater is None:  # no fetch answered yet (or a broker that leaves it out)
                    highwater = ends.get(tp)
                if highwater is None:
                    continue
                position = first.get(tp)
                if position is None:
                    position = consumer.position(tp, timeout_ms=0)
                if position is not None:
                    gauge.labels(self.group, tp.topic, str(tp.partition)).set(max(0, highwater - position))
                    self._lag_partitions.add((tp.topic, tp.partition))
        except KafkaError as exc:  # a metric never stops the loop
            log.debug("consumer lag of %s not measured: %s", self.group, exc)
            return
        current = {(tp.topic, tp.partition) for tp in assigned}
        for topic, partition in self._lag_partitions - current:
            gauge.remove(self.group, topic, str(partition))
        self._lag_partitions &= current

    def _ends_when_unknown(
        self, consumer: KafkaConsumer, assigned: set[TopicPartition]
    ) -> dict[TopicPartition, int]:
        """End offsets of the partitions whose fetches told no highwater, asked every 10 s at most."""
        unknown = [tp for tp in assigned if consumer.highwater(tp) is None]
        if not unknown or time.monotonic() - self._ends_asked < 10.0:
            return {}
        self._ends_asked = time.monotonic()
        return dict(consumer.end_offsets(unknown))

    def _restart(self, consumer: KafkaConsumer, why: str) -> KafkaConsumer:
        """Start over from the committed offsets with a fresh consumer.

        Used when the broker failed us: it may have restarted and lost its logs (a memory-only
        broker), so in-memory positions of the old log must not be reused. The uncommitted
        batch comes again; its recorded effects are skipped.
        """
        log.warning("%s in %s: reconnecting from the committed offsets", why, self.group)
        self._close(consumer)
        self._stop.wait(self.error_backoff_s)
        return self._connect()

    def _connect(self) -> KafkaConsumer:
        """A new consumer, retried while the broker is away (until :meth:`stop`)."""
        while True:
            try:
                return self._consumer()
            except (KafkaError, BrokerUnavailable) as exc:
                if self._stop.is_set():
                    raise
                log.warning("cannot connect %s yet: %s", self.group, exc)
                if self._epoch_reader is not None:
                    self._epoch_reader.close()
                    self._epoch_reader = None
                self._stop.wait(self.error_backoff_s)

    def _close(self, consumer: KafkaConsumer) -> None:
        try:
            consumer.close(autocommit=False)
        except KafkaError:  # pragma: no cover - best effort
            log.warning("consumer %s did not close cleanly", self.group)

    @staticmethod
    def _rewind(consumer: KafkaConsumer, polled: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        for tp, records in polled.items():
            if records:
                consumer.seek(tp, records[0].offset)


def stop_on_signals(*loops: ConsumerLoop, extra: Callable[[], None] | None = None) -> None:
    """Make SIGTERM and SIGINT stop ``loops`` gracefully (main thread only)."""

    def _handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received: finishing the current batch", signum)
        for loop in loops:
            loop.stop()
        if extra is not None:
            extra()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


def run_in_thread(loop: ConsumerLoop, name: str | None = None) -> threading.Thread:
    """Start ``loop.run`` in a daemon thread."""
    thread = threading.Thread(target=loop.run, name=name or loop.group, daemon=True)
    thread.start()
    return thread


def wait_all_assigned(loops: Sequence[ConsumerLoop], timeout_s: float = 30.0) -> bool:
    """Wait until every loop has partitions assigned."""
    deadline = time.monotonic() + timeout_s
    return all(loop.wait_assigned(max(0.0, deadline - time.monotonic())) for loop in loops)
