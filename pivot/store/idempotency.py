"""Processed event ids: what each consumer already applied, so nothing is applied twice."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pivot.store.bulk import insert_ignore, query
from pivot.store.tables import ProcessedEvent, utcnow

_SEEN = select(ProcessedEvent.event_id).where(
    ProcessedEvent.consumer == bindparam("consumer"),
    ProcessedEvent.event_id.in_(bindparam("ids", expanding=True)),
)


def seen(session: Session, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """The subset of ``event_ids`` that ``consumer`` already processed."""
    ids = list(event_ids)
    if not ids:
        return set()
    return set(query(session, _SEEN, {"consumer": consumer, "ids": ids}).scalars())


def mark(session: Session, consumer: str, event_id: str, outcome: str) -> bool:
    """Record ``event_id`` as processed by ``consumer``; False when it already was."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(consumer=consumer, event_id=event_id, outcome=outcome))
    except IntegrityError:
        return False
    return True


def mark_many(session: Session, consumer: str, outcomes: Iterable[tuple[str, str]]) -> None:
    """Record several (event id, outcome) as processed by ``consumer`` in one statement."""
    now = utcnow()
    insert_ignore(session, ProcessedEvent,
                  [{"consumer": consumer, "event_id": eid, "outcome": outcome, "processed_at": now}
                   for eid, outcome in outcomes],
                  conflict=("consumer", "event_id"))
