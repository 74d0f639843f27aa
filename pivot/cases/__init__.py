"""Case tracking: the business view of a flow.

A case is a tenant request followed across systems: received (chatbot, Ublo), triaged by the
AI, answered, or worked on (interventions opened, scheduled, started, completed, cancelled),
billed, the tenant told at each step. Its id is the request's canonical id. Each urgency has
a deadline (``PIVOT_CASES_*``); a case is breached when it was not closed in time.

* :mod:`pivot.cases.deadlines` — what closes a case, met / open / breached (pure);
* :mod:`pivot.cases.timeline` — a case's timeline from the store, with trace ids;
* :mod:`pivot.cases.index` — the case index behind ``pivot case list`` and the gauges;
* :mod:`pivot.cases.watch` — the API process's thread that keeps the index and metrics;
* :mod:`pivot.cases.cli` — ``pivot case show|list``.
"""

from pivot.cases.deadlines import CaseSummary, Verdict
from pivot.cases.timeline import Case, Entry, UnknownCase, build_case, find_case

__all__ = ["Case", "CaseSummary", "Entry", "UnknownCase", "Verdict", "build_case", "find_case"]
