"""Polling the satellites that send no webhooks (the ERP): pages onto the raw topic.

A poller reads one page from the connector's saved cursor, journals its payloads together
with the new cursor in one store transaction, then publishes them on ``pivot.raw.<name>``
like accepted webhooks (spooled if the broker is away). A crash between two pages resumes
at the saved cursor; nothing read is lost and the translate stage dedupes by event id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from connectors.sdk.base import Connector, Page
from observability.metrics import Outcome, PivotMetrics
from observability.tracing import internal_span
from pivot import jsoncodec
from pivot.errors import PivotError
from pivot.ingestion import IngestionService
from pivot.store import Store, cursors

log = logging.getLogger(__name__)

#: Longest wait between two polls of a satellite that keeps failing.
MAX_BACKOFF_S = 60.0


class Poller:
    """Polls one connector's satellite, forever or until caught up."""

    def __init__(
        self, connector: Connector, store: Store, ingestion: IngestionService,
        metrics: PivotMetrics, interval_s: float | None = None,
    ) -> None:
        self.connector = connector
        self.store = store
        self.ingestion = ingestion
        self.metrics = metrics
        self.interval_s = interval_s or connector.poll_interval_s or 5.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Payloads published since this poller was created.
        self.published = 0
        self.last_note = ""

    def poll_once(self) -> Page:
        """Read and journal one page; raise the satellite's error when it stays unavailable.

        Traced as a ``"<connector> poll"`` span (the page's HTTP calls are its children); each
        record of the page starts a trace of its own, linked to it.
        """
        name = self.connector.name
        with internal_span(f"{name} poll", **{"pivot.connector": name}) as span:
            with self.store.read_session() as session:
                cursor = cursors.get(session, name)
            page = self.connector.fetch_page(cursor)
            items = [(self.connector.source_key(p), jsoncodec.dumps(p))
                     for p in page.payloads]
            span.set_attribute("messaging.batch.message_count", len(items))
            self.ingestion.accept_many(name, items, own_traces=True,
                                       also=lambda session: cursors.save(session, name, page.cursor))
        self.published += len(items)
        self.last_note = page.note
        if items:
            self.metrics.ingested.labels(name, Outcome.OK).inc(len(items))
        return page

    def catch_up(self, progress: Callable[[Page], None] | None = None) -> int:
        """Poll page after page until the satellite has nothing more now; return payloads read."""
        before = self.published
        while not self._stop.is_set():
            page = self.poll_once()
            if progress is not None:
                progress(page)
            if not page.more:
                break
        return self.published - before

    def reset(self) -> None:
        """Forget the cursor: the next poll starts again from the beginning (a full resync)."""
        with self.store.session() as session:
            cursors.save(session, self.connector.name, None)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            wait = self.interval_s
            try:
                self.catch_up()
                failures = 0
            except PivotError as exc:
                failures += 1
                wait = min(self.interval_s * 2 ** failures, MAX_BACKOFF_S)
                log.warning("polling %s failed, next try in %.0f s: %s", self.connector.name,
                            wait, exc)
            except Exception:  # the store or the broker may be down: keep trying, never die
                failures += 1
                wait = min(self.interval_s * 2 ** failures, MAX_BACKOFF_S)
                log.exception("polling %s failed", self.connector.name)
            self._stop.wait(wait)

    def start(self) -> Poller:
        """Poll in a background thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=f"poll-{self.connector.name}",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling (the current page finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
