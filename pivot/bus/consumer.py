"""The consumer loop: a consumer group, batches, manual commit after processing, clean stop.

The handler gets each polled batch (records of a partition stay in offset order) and must
deal with per-record problems itself (dead-letter them). Offsets are committed only after the
handler returned, so a crash at any point redelivers what was not fully processed. When the
handler raises (store down, broker gone), the loop seeks back to the batch's first offsets,
backs off and tries again: nothing is skipped.
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
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.group = group
        self.handler = handler
        self.settings = settings or KafkaSettings()
        self.poll_timeout_ms = poll_timeout_ms
        self.error_backoff_s = error_backoff_s
        self._stop = threading.Event()
        self._assigned = threading.Event()
        self.batches = 0
        self.records = 0

    def _consumer(self) -> KafkaConsumer:
        s = self.settings
        return KafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
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
        """Ask the loop to finish its current batch, commit and return."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stop.is_set()

    def wait_assigned(self, timeout_s: float) -> bool:
        """Block until the group gave this consumer its partitions (or timeout)."""
        return self._assigned.wait(timeout_s)

    def run(self) -> None:
        """Run until :meth:`stop`; commits after every processed batch."""
        consumer = self._consumer()
        try:
            while not self._stop.is_set():
                polled = consumer.poll(timeout_ms=self.poll_timeout_ms)
                if consumer.assignment():
                    self._assigned.set()
                if not polled:
                    continue
                batch = [record for records in polled.values() for record in records]
                try:
                    self.handler(batch)
                except Exception:
                    log.exception("batch of %d records failed in %s; retrying it", len(batch),
                                  self.group)
                    self._rewind(consumer, polled)
                    self._stop.wait(self.error_backoff_s)
                    continue
                consumer.commit()
                self.batches += 1
                self.records += len(batch)
        finally:
            try:
                consumer.close(autocommit=False)
            except KafkaError:  # pragma: no cover - best effort on the way out
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
