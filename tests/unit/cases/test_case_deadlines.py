"""Deadlines of cases: what closes a case, met / open / breached (pure, no store)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from canonical_model.entities.request import Urgency
from observability.metrics import CASE_URGENCIES
from pivot.cases.deadlines import CaseSummary, Verdict, Version, summarize
from pivot.settings import CasesSettings, PivotSettings

T0 = datetime(2026, 11, 24, 8, 29, 58, tzinfo=UTC)
H = timedelta(hours=1)
_ids = itertools.count(1)
SETTINGS = CasesSettings()


def v(record: str, event_type: str, at: datetime, **data: Any) -> Version:
    return Version(next(_ids), record, f"evt-{next(_ids)}", event_type, "test", data, at)


def request(urgency: str | None = "high", status: str = "triaged") -> list[Version]:
    """Received, then triaged: build it before the versions that follow (ids are insert order)."""
    received = v("request_1", "fr.pivot.request.received.v1", T0, received_at=T0.isoformat(),
                 status="received", channel="whatsapp")
    if urgency is None:
        return [received]
    triaged = v("request_1", "fr.pivot.request.triaged.v1", T0 + timedelta(seconds=1),
                received_at=T0.isoformat(), status=status, urgency=urgency, category="plumbing")
    return [received, triaged]


def work(record: str, *steps: tuple[str, datetime, dict[str, Any]]) -> list[Version]:
    return [v(record, f"fr.pivot.intervention.{status}.v1", at, status=status, request_id="request_1",
              **extra) for status, at, extra in steps]


def test_default_deadlines_by_urgency_and_every_urgency_has_a_metric_label() -> None:
    assert SETTINGS.deadline("urgent") == 24 * H
    assert SETTINGS.deadline("high") == 72 * H
    assert SETTINGS.deadline("normal") == timedelta(days=30)
    assert SETTINGS.deadline(None) == 24 * H  # not triaged yet: held to the urgent deadline
    assert {u.value for u in Urgency} | {"untriaged"} == set(CASE_URGENCIES)


def test_deadlines_are_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_CASES_URGENT_HOURS", "4")
    monkeypatch.setenv("PIVOT_CASES_NORMAL_HOURS", "240")
    cases = PivotSettings().cases
    assert cases.deadline("urgent") == 4 * H
    assert cases.deadline("normal") == 10 * 24 * H
    assert cases.deadline("high") == 72 * H


def test_a_completed_repair_closes_the_case_at_the_contractors_completion_time() -> None:
    done = T0 + 26 * H
    summary = summarize("request_1", request(), work(
        "intervention_1", ("created", T0 + H, {}), ("scheduled", T0 + 3 * H, {}),
        ("completed", done + timedelta(minutes=4), {"completed_at": done.isoformat()})), SETTINGS)
    assert summary == CaseSummary("request_1", "high", T0, T0 + 72 * H, done,
                                  "fr.pivot.intervention.completed.v1")
    assert summary.verdict(T0 + 1000 * H) is Verdict.MET


def test_a_repair_finished_late_is_breached_and_an_open_one_overdue() -> None:
    late = summarize("request_1", request(urgency="urgent"), work(
        "intervention_1", ("created", T0 + H, {}),
        ("completed", T0 + 30 * H, {"completed_at": (T0 + 30 * H).isoformat()})), SETTINGS)
    assert late is not None and late.verdict(T0 + 31 * H) is Verdict.BREACHED
    assert not late.overdue(T0 + 31 * H)
    still = summarize("request_1", request(urgency="urgent"),
                      work("intervention_1", ("created", T0 + H, {})), SETTINGS)
    assert still is not None and still.closed_at is None
    assert still.verdict(T0 + 23 * H) is Verdict.OPEN and not still.overdue(T0 + 23 * H)
    assert still.verdict(T0 + 25 * H) is Verdict.BREACHED and still.overdue(T0 + 25 * H)


def test_all_the_work_must_be_done_and_a_cancelled_order_does_not_close_the_case() -> None:
    cancelled = work("intervention_1", ("created", T0 + H, {}), ("cancelled", T0 + 2 * H, {}))
    summary = summarize("request_1", request(), cancelled, SETTINGS)
    assert summary is not None and summary.closed_at is None  # nobody fixed the leak
    replaced = work("intervention_2", ("created", T0 + 3 * H, {}),
                    ("completed", T0 + 9 * H, {"completed_at": (T0 + 8 * H).isoformat()}))
    summary = summarize("request_1", request(), cancelled + replaced, SETTINGS)
    assert summary is not None and summary.closed_at == T0 + 8 * H
    pending = work("intervention_3", ("created", T0 + 4 * H, {}), ("scheduled", T0 + 5 * H, {}))
    summary = summarize("request_1", request(), cancelled + replaced + pending, SETTINGS)
    assert summary is not None and summary.closed_at is None


def test_an_answered_question_closes_the_case_but_one_handed_to_an_agent_does_not() -> None:
    base = request(urgency="normal")
    answered = v("request_1", "fr.pivot.request.answered.v1", T0 + timedelta(seconds=3),
                 received_at=T0.isoformat(), status="resolved", urgency="normal")
    summary = summarize("request_1", [*base, answered], [], SETTINGS)
    assert summary is not None
    assert (summary.closed_at, summary.closed_by) == (T0 + timedelta(seconds=3),
                                                      "fr.pivot.request.answered.v1")
    handed = v("request_1", "fr.pivot.request.answered.v1", T0 + timedelta(seconds=3),
               received_at=T0.isoformat(), status="in_progress", urgency="normal")
    summary = summarize("request_1", [*base, handed], [], SETTINGS)
    assert summary is not None and summary.closed_at is None
    assert summary.deadline_at == T0 + timedelta(days=30)


def test_a_request_closed_in_ublo_closes_the_case_until_it_is_reopened() -> None:
    base = request()
    closed = v("request_1", "fr.pivot.request.closed.v1", T0 + 5 * H, received_at=T0.isoformat(),
               status="closed", urgency="high")
    again = v("request_1", "fr.pivot.request.closed.v1", T0 + 6 * H, received_at=T0.isoformat(),
              status="rejected", urgency="high")
    summary = summarize("request_1", [*base, closed, again], [], SETTINGS)
    assert summary is not None and summary.closed_at == T0 + 5 * H  # closed since the first
    reopened = v("request_1", "fr.pivot.request.updated.v1", T0 + 7 * H, received_at=T0.isoformat(),
                 status="in_progress", urgency="high")
    summary = summarize("request_1", [*base, closed, reopened], [], SETTINGS)
    assert summary is not None and summary.closed_at is None


def test_certificates_decided_close_the_case_of_the_message_that_sent_them() -> None:
    certificate = [
        v("insurance_certificate_1", "fr.pivot.insurance_certificate.received.v1", T0 + H,
          status="received"),
        v("insurance_certificate_1", "fr.pivot.insurance_certificate.rejected.v1", T0 + H,
          status="expired"),
    ]
    summary = summarize("request_1", request(urgency="normal"), certificate, SETTINGS)
    assert summary is not None and summary.closed_by == "fr.pivot.insurance_certificate.rejected.v1"
    unread = summarize("request_1", request(urgency="normal"), certificate[:1], SETTINGS)
    assert unread is not None and unread.closed_at is None


def test_an_untriaged_request_is_held_to_the_untriaged_deadline() -> None:
    summary = summarize("request_1", request(urgency=None), [], CasesSettings(untriaged_hours=2))
    assert summary is not None
    assert (summary.urgency, summary.urgency_label) == (None, "untriaged")
    assert summary.deadline_at == T0 + 2 * H
    assert summarize("request_1", [], [], SETTINGS) is None
