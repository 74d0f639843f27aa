"""A thread of the API process: keeps the case index, the case gauges and the breach counter."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from observability.metrics import CASE_URGENCIES, PivotMetrics
from pivot.cases import index
from pivot.cases.deadlines import aware
from pivot.settings import CasesSettings
from pivot.store import Store
from pivot.store.tables import utcnow

log = logging.getLogger(__name__)


class CaseWatch:
    """Every ``refresh_s``: refresh the index, judge deadlines, count breaches, set the gauges.

    Each round costs the lineage written since the last one, the cases without a verdict
    and one aggregate query over the open cases.
    """

    def __init__(self, store: Store, metrics: PivotMetrics, settings: CasesSettings,
                 first_after_s: float = 1.0) -> None:
        self.store = store
        self.metrics = metrics
        self.settings = settings
        self.first_after_s = min(first_after_s, settings.refresh_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first = True

    def check(self, now: datetime | None = None) -> None:
        """One round (the first also applies this process's deadlines to the open cases)."""
        now = aware(now or utcnow())
        index.refresh(self.store, self.settings, now=now, open_cases=self._first)
        self._first = False
        for urgency, breaches in index.judge(self.store, now=now).items():
            self.metrics.case_deadline_breaches.labels(urgency).inc(breaches)
        with self.store.read_session() as session:
            counts = index.open_and_overdue(session, now)
        for urgency in sorted(set(CASE_URGENCIES) | set(counts)):
            opened, overdue = counts.get(urgency, (0, 0))
            self.metrics.cases_open.labels(urgency).set(opened)
            self.metrics.cases_overdue.labels(urgency).set(overdue)

    def _run(self) -> None:
        wait = self.first_after_s
        while not self._stop.wait(wait):
            wait = self.settings.refresh_s
            try:
                self.check()
            except Exception:  # never let the watch die: the next round tries again
                log.exception("case index refresh failed")

    def start(self) -> CaseWatch:
        """Start the thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="case-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread (after the round in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
