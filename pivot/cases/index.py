"""The case index: one row per tenant request, kept up to date from the lineage.

The gauges and ``pivot case list`` must not walk every request ever received, so each case's
deadline facts (:func:`pivot.cases.deadlines.summarize`) are kept in ``case_state``, and the
records of its case in ``case_link``. :func:`refresh` reads the golden-record versions
written since its cursor (requests, interventions, certificates), and re-summarizes the cases
they touch; it is idempotent, so any process may run it.

Versions are numbered when written but may commit out of order on PostgreSQL: the cursor
only moves past versions recorded more than ``settle_s`` ago; younger ones are read again at
the next refresh.

:func:`judge` gives each case its verdict once: ``breached`` when it is found open past its
deadline or closed late, ``met`` when closed in time. The verdict is written with
``... WHERE verdict IS NULL``, so of several processes (or a restarted one) exactly one
counts a breach; breaches whose deadline passed before the index existed are not counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from pivot.cases.deadlines import UNTRIAGED, CaseSummary, Verdict, Version, aware, summarize
from pivot.cases.timeline import load_versions
from pivot.settings import CasesSettings
from pivot.store import Store
from pivot.store.tables import AiDecision, CaseCursor, CaseLink, CaseState, GoldenRecordVersion, utcnow

CURSOR = "cases"
#: Event types the index reads.
_KINDS = ("fr.pivot.request.%", "fr.pivot.intervention.%", "fr.pivot.insurance_certificate.%")


def _insert(session: Session, model: type[Any]) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"the case index has no upsert for the {dialect} dialect")


def _cursor(session: Session, now: datetime) -> CaseCursor:
    row = session.get(CaseCursor, CURSOR)
    if row is None:
        session.execute(_insert(session, CaseCursor)
                        .values(name=CURSOR, version_id=0, since=now, updated_at=now)
                        .on_conflict_do_nothing(index_elements=["name"]))
        row = session.get(CaseCursor, CURSOR)
    assert row is not None
    return row


def _versions_after(session: Session, after: int, limit: int) -> list[Version]:
    rows = session.execute(
        select(GoldenRecordVersion.id, GoldenRecordVersion.canonical_id,
               GoldenRecordVersion.event_id, GoldenRecordVersion.event_type,
               GoldenRecordVersion.source_system, GoldenRecordVersion.data,
               GoldenRecordVersion.recorded_at)
        .where(GoldenRecordVersion.id > after,
               or_(*(GoldenRecordVersion.event_type.like(kind) for kind in _KINDS)))
        .order_by(GoldenRecordVersion.id).limit(limit)
    )
    return [Version(r.id, r.canonical_id, r.event_id, r.event_type, r.source_system,
                    dict(r.data or {}), aware(r.recorded_at)) for r in rows]


def _links(session: Session, versions: Sequence[Version]) -> set[tuple[str, str, str]]:
    """(request, record, entity) of the interventions and certificates in ``versions``."""
    links = {(str(v.data["request_id"]), v.record_id, "intervention") for v in versions
             if v.entity == "intervention" and v.data.get("request_id")}
    certificates = {v.record_id for v in versions if v.entity == "insurance_certificate"}
    if certificates:
        links.update(
            (request, record, "insurance_certificate") for record, request in session.execute(
                select(AiDecision.subject, GoldenRecordVersion.canonical_id)
                .join(GoldenRecordVersion, GoldenRecordVersion.event_id == AiDecision.event_id)
                .where(AiDecision.subject.in_(sorted(certificates)),
                       GoldenRecordVersion.event_type.like("fr.pivot.request.%")))
        )
    return links


@dataclass
class _Round:
    """What one batch of versions changes in the index, computed in a read session."""

    links: set[tuple[str, str, str]] = field(default_factory=set)
    summaries: list[CaseSummary] = field(default_factory=list)

    def write(self, session: Session, now: datetime) -> int:
        """Write the links and summaries (a short write transaction); return the cases."""
        if self.links:
            session.execute(_insert(session, CaseLink).on_conflict_do_nothing(
                index_elements=["request_id", "record_id"]),
                [{"request_id": r, "record_id": rec, "entity": e} for r, rec, e in sorted(self.links)])
        _upsert(session, self.summaries, now)
        return len(self.summaries)


def _project(session: Session, versions: Sequence[Version], settings: CasesSettings) -> _Round:
    links = _links(session, versions)
    touched = {v.record_id for v in versions if v.entity != "request"}
    requests = {v.record_id for v in versions if v.entity == "request"}
    requests.update(request for request, record, _entity in links if record in touched)
    if touched:
        requests.update(session.scalars(select(CaseLink.request_id)
                                        .where(CaseLink.record_id.in_(sorted(touched)))))
    return _Round(links, _summarize(session, requests, settings, links))


def _summarize(session: Session, requests: set[str], settings: CasesSettings,
               new_links: Iterable[tuple[str, str, str]] = ()) -> list[CaseSummary]:
    """Summarize these cases again from their lineage (``new_links``: not written yet)."""
    if not requests:
        return []
    members: dict[str, set[str]] = {}
    for request, record, _entity in new_links:
        if request in requests:
            members.setdefault(request, set()).add(record)
    for request, record in session.execute(select(CaseLink.request_id, CaseLink.record_id)
                                           .where(CaseLink.request_id.in_(sorted(requests)))):
        members.setdefault(request, set()).add(record)
    everything = load_versions(session, requests | {r for m in members.values() for r in m})
    by_record: dict[str, list[Version]] = {}
    for version in everything:
        by_record.setdefault(version.record_id, []).append(version)
    return [s for request in sorted(requests) if (s := summarize(
        request, [v for v in by_record.get(request, []) if v.entity == "request"],
        [v for record in members.get(request, ()) for v in by_record.get(record, [])],
        settings)) is not None]


def _upsert(session: Session, summaries: Sequence[CaseSummary], now: datetime) -> None:
    if not summaries:
        return
    statement = _insert(session, CaseState)
    fields = ("urgency", "received_at", "deadline_at", "closed_at", "closed_by", "updated_at")
    reopened = and_(statement.excluded.closed_at.is_(None), CaseState.verdict == Verdict.MET.value)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["request_id"],
            set_={**{name: statement.excluded[name] for name in fields},
                  # a case closed in time and opened again (new work) is judged again
                  "verdict": case((reopened, null()), else_=CaseState.verdict)},
        ),
        [{"request_id": s.request_id, "urgency": s.urgency, "received_at": s.received_at,
          "deadline_at": s.deadline_at, "closed_at": s.closed_at, "closed_by": s.closed_by,
          "updated_at": now} for s in summaries],
    )


def refresh(store: Store, settings: CasesSettings, *, now: datetime | None = None,
            batch: int = 2000, open_cases: bool = False) -> int:
    """Bring the case index up to date with the lineage; return how many cases were summarized.

    With ``open_cases``, the open cases are summarized again too: their deadlines follow
    the settings of this process (a process reads them when it starts).
    """
    now = aware(now or utcnow())
    with store.session() as session:
        start = _cursor(session, now).version_id
    cases = 0
    if open_cases:
        with store.read_session() as session:
            still = sorted(session.scalars(select(CaseState.request_id)
                                           .where(CaseState.closed_at.is_(None))))
        for chunk in _chunked(still):
            with store.read_session() as session:
                summaries = _summarize(session, set(chunk), settings)
            with store.session() as session:
                cases += _Round(summaries=summaries).write(session, now)
    position = start
    while True:
        # read and summarize without the write lock (SQLite has one writer: the journal
        # and the workers would wait for this round), then write the result at once
        with store.read_session() as session:
            versions = _versions_after(session, position, batch)
            update_ = _project(session, versions, settings) if versions else _Round()
        if update_.links or update_.summaries:
            with store.session() as session:
                cases += update_.write(session, now)
        if versions:
            position = versions[-1].id
        if len(versions) < batch:
            break
    settled_before = now - timedelta(seconds=settings.settle_s)
    with store.session() as session:
        settled = session.scalar(select(func.max(GoldenRecordVersion.id)).where(
            GoldenRecordVersion.id > start, GoldenRecordVersion.recorded_at < settled_before))
        if settled is not None:
            session.execute(update(CaseCursor)
                            .where(CaseCursor.name == CURSOR, CaseCursor.version_id < settled)
                            .values(version_id=settled, updated_at=now))
    return cases


def judge(store: Store, *, now: datetime | None = None) -> Counter[str]:
    """Give each case that can have one its deadline verdict; return the breaches to count.

    Only cases without a verdict are read (the open ones and those just closed). Returns
    the new breaches by urgency label, leaving out those whose deadline passed before the
    index started.
    """
    now = aware(now or utcnow())
    counted: Counter[str] = Counter()
    with store.read_session() as session:  # the verdicts are computed without the write lock
        cursor = session.get(CaseCursor, CURSOR)
        if cursor is None:
            return counted
        since = aware(cursor.since)
        pending = session.execute(
            select(CaseState.request_id, CaseState.urgency, CaseState.deadline_at, CaseState.closed_at)
            .where(CaseState.verdict.is_(None))
        ).all()
    met: list[str] = []
    breached: dict[tuple[str, bool], list[str]] = {}
    for request, urgency, deadline_at, closed_at in pending:
        deadline_at = aware(deadline_at)
        if closed_at is not None and aware(closed_at) <= deadline_at:
            met.append(request)
        elif closed_at is not None or now > deadline_at:
            breached.setdefault((urgency or UNTRIAGED, deadline_at >= since), []).append(request)
    if not met and not breached:
        return counted
    # ``verdict IS NULL`` again when writing: a case judged meanwhile (another process) is
    # neither judged nor counted twice
    with store.session() as session:
        for chunk in _chunked(met):
            session.execute(update(CaseState).where(CaseState.request_id.in_(chunk),
                                                    CaseState.verdict.is_(None))
                            .values(verdict=Verdict.MET.value))
        for (label, counts), requests in breached.items():
            for chunk in _chunked(requests):
                result = session.execute(
                    update(CaseState).where(CaseState.request_id.in_(chunk), CaseState.verdict.is_(None))
                    .values(verdict=Verdict.BREACHED.value, breached_at=now))
                if counts:
                    counted[label] += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counted


def _chunked(values: Sequence[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start:start + size])


def open_and_overdue(session: Session, now: datetime | None = None) -> dict[str, tuple[int, int]]:
    """(open, overdue) cases by urgency label: one aggregate query over the open cases."""
    now = aware(now or utcnow())
    rows = session.execute(
        select(CaseState.urgency, func.count(),
               func.sum(case((CaseState.deadline_at < now, 1), else_=0)))
        .where(CaseState.closed_at.is_(None)).group_by(CaseState.urgency)
    )
    found: dict[str, tuple[int, int]] = {}
    for urgency, opened, overdue in rows:
        label = urgency or UNTRIAGED
        before = found.get(label, (0, 0))
        found[label] = (before[0] + int(opened), before[1] + int(overdue or 0))
    return found


def list_cases(
    session: Session, *, now: datetime | None = None, open_only: bool = False,
    overdue_only: bool = False, limit: int = 50,
) -> list[CaseSummary]:
    """Cases of the index, newest request first."""
    now = aware(now or utcnow())
    query = select(CaseState).order_by(CaseState.received_at.desc(), CaseState.request_id).limit(limit)
    if open_only or overdue_only:
        query = query.where(CaseState.closed_at.is_(None))
    if overdue_only:
        query = query.where(CaseState.deadline_at < now)
    return [CaseSummary(request_id=row.request_id, urgency=row.urgency,
                        received_at=aware(row.received_at), deadline_at=aware(row.deadline_at),
                        closed_at=aware(row.closed_at) if row.closed_at else None,
                        closed_by=row.closed_by)
            for row in session.scalars(query)]
