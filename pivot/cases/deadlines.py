"""A case's deadline: when the request came in, what closed the case, met / open / breached.

Pure functions over golden-record versions, shared by the timeline (``pivot case show``) and
the case index (``pivot case list``, the gauges), so both always give the same verdict.

A case is closed by the first of:

* the request finished: resolved (a question answered), closed or rejected;
* its work done: every intervention answering it that was not cancelled is completed (at
  the completion time the contractor reported);
* its documents decided: every insurance certificate it sent is accepted or refused.

It is breached when it was not closed by ``received_at + deadline(urgency)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from canonical_model.events import EVENT_TYPE_PATTERN
from pivot.settings import CasesSettings

#: Label value of the cases whose request is not triaged yet.
UNTRIAGED = "untriaged"

FINISHED_REQUEST = frozenset({"resolved", "closed", "rejected"})
DECIDED_CERTIFICATE = frozenset({"valid", "expired", "mismatch", "missing"})
COMPLETED = "completed"
CANCELLED = "cancelled"


def aware(moment: datetime) -> datetime:
    """A UTC-aware datetime (SQLite gives back naive ones; the store only keeps UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time of a golden record's data, in UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return aware(datetime.fromisoformat(value))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Version:
    """One golden-record version, as a case reads it."""

    id: int
    record_id: str
    event_id: str
    event_type: str
    source_system: str
    data: dict[str, Any]
    recorded_at: datetime

    @property
    def entity(self) -> str:
        """The entity kind named by the event type (``request``, ``intervention``...)."""
        match = EVENT_TYPE_PATTERN.fullmatch(self.event_type)
        return match["entity"] if match else ""

    @property
    def status(self) -> str | None:
        """The record's status in this version."""
        value = self.data.get("status")
        return str(value) if value is not None else None


class Verdict(StrEnum):
    """Where a case stands against its deadline."""

    MET = "met"
    OPEN = "open"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """What decides a case's deadline."""

    request_id: str
    urgency: str | None
    received_at: datetime
    deadline_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None

    @property
    def urgency_label(self) -> str:
        """The urgency, or ``untriaged``: the metrics' label value."""
        return self.urgency or UNTRIAGED

    def verdict(self, now: datetime) -> Verdict:
        """Met (closed in time), open (not closed, still in time) or breached."""
        if self.closed_at is not None:
            return Verdict.MET if self.closed_at <= self.deadline_at else Verdict.BREACHED
        return Verdict.BREACHED if now > self.deadline_at else Verdict.OPEN

    def overdue(self, now: datetime) -> bool:
        """Still open past its deadline."""
        return self.closed_at is None and now > self.deadline_at


def _trailing(versions: Sequence[Version], statuses: frozenset[str]) -> Version | None:
    """The version that began the trailing run of ``statuses`` (None if the last is not one)."""
    first = None
    for version in reversed(versions):
        if version.status not in statuses:
            break
        first = version
    return first


def _by_record(versions: Iterable[Version], entity: str) -> dict[str, list[Version]]:
    grouped: dict[str, list[Version]] = {}
    for version in sorted(versions, key=lambda v: v.id):
        if version.entity == entity:
            grouped.setdefault(version.record_id, []).append(version)
    return grouped


def _work_done(linked: Iterable[Version]) -> tuple[datetime, str] | None:
    done: list[tuple[datetime, str]] = []
    for versions in _by_record(linked, "intervention").values():
        if versions[-1].status == CANCELLED:
            continue
        completed = _trailing(versions, frozenset({COMPLETED}))
        if completed is None:
            return None  # some work still open
        when = parse_time(versions[-1].data.get("completed_at")) or aware(completed.recorded_at)
        done.append((when, completed.event_type))
    return max(done) if done else None


def _documents_decided(linked: Iterable[Version]) -> tuple[datetime, str] | None:
    decided: list[tuple[datetime, str]] = []
    for versions in _by_record(linked, "insurance_certificate").values():
        first = _trailing(versions, DECIDED_CERTIFICATE)
        if first is None:
            return None
        decided.append((aware(first.recorded_at), first.event_type))
    return max(decided) if decided else None


def summarize(
    request_id: str, request: Sequence[Version], linked: Iterable[Version], settings: CasesSettings
) -> CaseSummary | None:
    """The deadline facts of a case from its versions (None when the request has none).

    ``request`` are the request's versions, oldest first; ``linked`` the versions of the
    records of the case (its interventions, its certificates).
    """
    if not request:
        return None
    ordered = sorted(request, key=lambda v: v.id)
    latest = ordered[-1].data
    urgency = latest.get("urgency") or None
    received = parse_time(latest.get("received_at")) or aware(ordered[0].recorded_at)
    closures: list[tuple[datetime, str]] = []
    finished = _trailing(ordered, FINISHED_REQUEST)
    if finished is not None:
        closures.append((aware(finished.recorded_at), finished.event_type))
    linked = list(linked)
    for closure in (_work_done(linked), _documents_decided(linked)):
        if closure is not None:
            closures.append(closure)
    closed_at, closed_by = min(closures) if closures else (None, None)
    return CaseSummary(
        request_id=request_id, urgency=str(urgency) if urgency else None, received_at=received,
        deadline_at=received + settings.deadline(str(urgency) if urgency else None),
        closed_at=closed_at, closed_by=closed_by,
    )
