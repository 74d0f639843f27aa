"""Processed event ids: what each consumer already applied, so nothing is applied twice."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pivot.store.bulk import insert_ignore
from pivot.store.tables import ProcessedEvent, utcnow


def seen(session: Session, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """The subset of ``event_ids`` that ``consumer`` already processed."""
    ids = list(event_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(ids)
            )
        )
    )


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
