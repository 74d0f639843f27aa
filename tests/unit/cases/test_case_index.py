"""The case index, breach counting and the case metrics, on a store of their own."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from observability.metrics import CASE_URGENCIES, PivotMetrics
from pivot.cases import index
from pivot.cases.deadlines import aware
from pivot.cases.watch import CaseWatch
from pivot.settings import CasesSettings
from pivot.store.tables import CaseCursor, CaseState, utcnow

if TYPE_CHECKING:  # fixture types; a conftest is not importable from a test module
    from tests.unit.cases.conftest import Lineage

H = timedelta(hours=1)
SETTINGS = CasesSettings(settle_s=0)
CREATED = "fr.pivot.intervention.created.v1"
COMPLETED = "fr.pivot.intervention.completed.v1"


def _verdicts(lineage: Lineage) -> dict[str, str | None]:
    with lineage.store.read_session() as session:
        return {row.request_id: row.verdict for row in session.query(CaseState)}


def _repair(lineage: Lineage, request_id: str, opened: timedelta, done: timedelta) -> None:
    t0, intervention = lineage.t0, f"intervention_{request_id[-32:]}"
    lineage.intervention_event(intervention, request_id, CREATED, t0 + opened)
    lineage.intervention_event(intervention, request_id, COMPLETED, t0 + done, status="completed",
                               completed_at=(t0 + done).isoformat(), cost="92.00")


def test_the_index_lists_cases_newest_first_and_counts_the_open_ones(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    repair = own_lineage.repair_case()
    question, _ = own_lineage.new_request(t0 + H, "normal", intent="question")
    now = t0 + 3 * 24 * H
    assert index.refresh(store, SETTINGS, now=now) == 2
    assert index.refresh(store, SETTINGS, now=now) == 0  # nothing new since
    with store.read_session() as session:
        listed = index.list_cases(session, now=now)
        assert [c.request_id for c in listed] == [question, repair.request_id]
        assert listed[1].closed_at == repair.completed_at and listed[1].urgency == "high"
        assert [c.request_id for c in index.list_cases(session, now=now, open_only=True)] == [question]
        assert index.list_cases(session, now=now, overdue_only=True) == []
        assert [c.request_id for c in index.list_cases(session, now=now, limit=1)] == [question]
        assert index.open_and_overdue(session, now) == {"normal": (1, 0)}
        assert index.open_and_overdue(session, t0 + 40 * 24 * H) == {"normal": (1, 1)}


def test_each_breach_is_counted_once_whoever_looks_and_however_often(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    index.refresh(store, SETTINGS, now=t0)  # the index starts watching
    urgent, _ = own_lineage.new_request(t0 + H, "urgent")  # due t0 + 25 h
    high, _ = own_lineage.new_request(t0 + 2 * H, "high")  # due t0 + 74 h
    index.refresh(store, SETTINGS, now=t0 + 3 * H)
    assert index.judge(store, now=t0 + 3 * H) == Counter()

    index.refresh(store, SETTINGS, now=t0 + 26 * H)
    assert index.judge(store, now=t0 + 26 * H) == Counter({"urgent": 1})  # found overdue
    assert index.judge(store, now=t0 + 27 * H) == Counter()  # another process, or after a restart
    with store.read_session() as session:
        assert index.open_and_overdue(session, t0 + 27 * H) == {"urgent": (1, 1), "high": (1, 0)}

    _repair(own_lineage, urgent, 28 * H, 30 * H)  # fixed at last: still one breach
    _repair(own_lineage, high, 3 * H, 80 * H)  # closed late while nobody looked
    index.refresh(store, SETTINGS, now=t0 + 100 * H)
    assert index.judge(store, now=t0 + 100 * H) == Counter({"high": 1})
    assert index.judge(store, now=t0 + 101 * H) == Counter()
    assert _verdicts(own_lineage) == {urgent: "breached", high: "breached"}
    with store.read_session() as session:
        assert index.open_and_overdue(session, t0 + 100 * H) == {}


def test_breaches_from_before_the_index_existed_are_judged_not_counted(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    forgotten, _ = own_lineage.new_request(t0 - 72 * H, "urgent")  # due t0 - 48 h, never closed
    repair = own_lineage.repair_case()  # high, closed in time
    now = t0 + 30 * 24 * H
    index.refresh(store, SETTINGS, now=now)
    assert index.judge(store, now=now) == Counter()
    assert _verdicts(own_lineage) == {forgotten: "breached", repair.request_id: "met"}


def test_a_case_reopened_by_new_work_is_judged_again(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    repair = own_lineage.repair_case()  # high: due t0 + 72 h, closed at t0 + 25 h 40
    index.refresh(store, SETTINGS, now=t0 + 26 * H)
    assert index.judge(store, now=t0 + 26 * H) == Counter()
    assert _verdicts(own_lineage) == {repair.request_id: "met"}
    own_lineage.intervention_event(f"intervention_{repair.request_id[-31:]}x", repair.request_id,
                                   CREATED, t0 + 27 * H)  # the leak is back
    index.refresh(store, SETTINGS, now=t0 + 28 * H)
    assert _verdicts(own_lineage) == {repair.request_id: None}
    index.refresh(store, SETTINGS, now=t0 + 73 * H)
    assert index.judge(store, now=t0 + 73 * H) == Counter({"high": 1})


def test_versions_committed_late_are_still_indexed(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    settings = CasesSettings(settle_s=60)

    def received(request_id: str, at: timedelta, row_id: int) -> None:
        own_lineage.version(request_id, "request", "fr.pivot.request.received.v1", "chatbot",
                            {"id": request_id, "channel": "sms", "status": "received",
                             "received_at": (t0 + at).isoformat()}, t0 + at, row_id=row_id)

    received("request_00000000000000000000000000001000", timedelta(0), 1000)
    index.refresh(store, settings, now=t0 + timedelta(seconds=10))
    # a transaction numbered its version earlier but commits only now
    received("request_00000000000000000000000000000500", -timedelta(seconds=2), 500)
    index.refresh(store, settings, now=t0 + timedelta(seconds=20))
    assert set(_verdicts(own_lineage)) == {"request_00000000000000000000000000001000",
                                           "request_00000000000000000000000000000500"}
    with store.read_session() as session:
        assert session.get(CaseCursor, index.CURSOR).version_id == 0  # still young: read again
    index.refresh(store, settings, now=t0 + timedelta(minutes=2))
    with store.read_session() as session:
        assert session.get(CaseCursor, index.CURSOR).version_id == 1000


def test_a_refresh_summarizes_without_holding_the_write_lock(
        own_lineage: Lineage, monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal and the workers go on writing while a round summarizes: on SQLite, the
    one writer lock held for a whole round stalled every webhook's 202 for hundreds of ms."""
    store, t0 = own_lineage.store, own_lineage.t0
    repair = own_lineage.repair_case()
    summarizing, written = threading.Event(), threading.Event()
    waited: list[bool] = []
    real = index.summarize

    def held_summarize(*args: Any, **kwargs: Any) -> Any:
        summarizing.set()
        waited.append(written.wait(10))  # without the change: the write below waits for this
        return real(*args, **kwargs)

    monkeypatch.setattr(index, "summarize", held_summarize)
    refresher = threading.Thread(target=index.refresh, args=(store, SETTINGS),
                                 kwargs={"now": t0 + 3 * 24 * H})
    refresher.start()
    assert summarizing.wait(10)
    with store.session() as session:  # another writer, as the journal is
        session.add(CaseCursor(name=f"other-{uuid.uuid4().hex[:20]}", version_id=0, since=t0,
                               updated_at=t0))
    written.set()
    refresher.join(30)
    assert waited and all(waited), "the write waited for the refresh to summarize"
    with store.read_session() as session:
        assert [c.request_id for c in index.list_cases(session)] == [repair.request_id]


def test_the_watch_sets_the_gauges_and_counts_breaches_once(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    registry = CollectorRegistry()
    metrics = PivotMetrics(registry)
    text = generate_latest(registry).decode()
    for urgency in CASE_URGENCIES:  # every series from the start: dashboards show 0
        for name in ("pivot_cases_open", "pivot_cases_overdue", "pivot_case_deadline_breaches_total"):
            assert f'{name}{{urgency="{urgency}"}} 0.0' in text

    def value(name: str, urgency: str, on: CollectorRegistry = registry) -> float | None:
        return on.get_sample_value(name, {"urgency": urgency})

    watch = CaseWatch(store, metrics, SETTINGS)
    watch.check(now=t0)
    own_lineage.new_request(t0 + H, "urgent")
    own_lineage.new_request(t0 + 2 * H, None)  # nobody triaged it
    watch.check(now=t0 + 3 * H)
    assert (value("pivot_cases_open", "urgent"), value("pivot_cases_open", "untriaged")) == (1, 1)
    assert value("pivot_cases_overdue", "urgent") == 0
    watch.check(now=t0 + 27 * H)
    watch.check(now=t0 + 28 * H)
    for urgency in ("urgent", "untriaged"):
        assert value("pivot_cases_overdue", urgency) == 1
        assert value("pivot_case_deadline_breaches_total", urgency) == 1
    assert value("pivot_cases_open", "normal") == 0

    restarted = CollectorRegistry()
    CaseWatch(store, PivotMetrics(restarted), SETTINGS).check(now=t0 + 29 * H)
    assert value("pivot_case_deadline_breaches_total", "urgent", restarted) == 0  # not again
    assert value("pivot_cases_overdue", "urgent", restarted) == 1


def test_the_watch_thread_refreshes_until_stopped(own_lineage: Lineage) -> None:
    registry = CollectorRegistry()
    watch = CaseWatch(own_lineage.store, PivotMetrics(registry), CasesSettings(refresh_s=0.2),
                      first_after_s=0.1).start()
    try:
        own_lineage.new_request(utcnow(), "high")
        deadline = time.monotonic() + 20
        while registry.get_sample_value("pivot_cases_open", {"urgency": "high"}) != 1:
            assert time.monotonic() < deadline, "the case gauges were not refreshed"
            time.sleep(0.1)
    finally:
        watch.stop()


def test_a_changed_deadline_applies_to_the_open_cases_when_asked(own_lineage: Lineage) -> None:
    store, t0 = own_lineage.store, own_lineage.t0
    waiting, _ = own_lineage.new_request(t0, "urgent")
    done = own_lineage.repair_case(urgency="urgent")
    index.refresh(store, SETTINGS, now=t0 + 2 * 24 * H)
    stricter = CasesSettings(settle_s=0, urgent_hours=4)
    index.refresh(store, stricter, now=t0 + 2 * 24 * H)  # nothing new: nothing summarized
    with store.read_session() as session:
        assert aware(session.get(CaseState, waiting).deadline_at) == t0 + 24 * H
    assert index.refresh(store, stricter, now=t0 + 2 * 24 * H, open_cases=True) == 1
    with store.read_session() as session:
        assert aware(session.get(CaseState, waiting).deadline_at) == t0 + 4 * H
        assert aware(session.get(CaseState, done.request_id).deadline_at) == t0 + 24 * H
