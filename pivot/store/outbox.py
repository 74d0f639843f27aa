"""The outbox: canonical events kept in the store until every interested consumer applied them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pivot.store.bulk import insert_ignore
from pivot.store.tables import Ingestion, Outbox, ProcessedEvent, utcnow


def row_headers(headers: list[tuple[str, bytes]]) -> list[list[str]]:
    """Kafka headers as the outbox keeps them (JSON)."""
    return [[k, v.decode("utf-8", "replace")] for k, v in headers]


def add_many(session: Session, rows: Sequence[dict[str, object]]) -> None:
    """Keep produced events in one statement; an event id already kept is left alone.

    Rows carry ``event_id, event_type, topic, key, value, headers`` (see :func:`row_headers`).
    """
    insert_ignore(session, Outbox, rows, conflict=("event_id",))


def mark_published(session: Session, event_ids: Sequence[str]) -> None:
    """Record that the broker acknowledged these events."""
    if event_ids:
        session.execute(update(Outbox).where(Outbox.event_id.in_(list(event_ids)))
                        .values(published_at=utcnow()))


def unpublished(session: Session, limit: int = 500) -> list[Outbox]:
    """Events waiting to be (re)published, oldest first."""
    return list(session.scalars(select(Outbox).where(Outbox.published_at.is_(None))
                                .order_by(Outbox.seq).limit(limit)))


def settle(session: Session, consumers_of: Mapping[str, Iterable[str]], batch: int = 1000) -> int:
    """Mark settled the events every interested consumer has applied; return how many.

    ``consumers_of`` maps an event type to the consumers (``deliver:<connector>``) that apply it;
    an event type nobody consumes settles as soon as it is published.
    """
    settled = 0
    last = 0
    while True:
        rows = list(session.execute(
            select(Outbox.seq, Outbox.event_id, Outbox.event_type)
            .where(Outbox.settled_at.is_(None), Outbox.published_at.is_not(None), Outbox.seq > last)
            .order_by(Outbox.seq).limit(batch)
        ))
        if not rows:
            return settled
        last = rows[-1].seq
        applied: dict[str, set[str]] = {}
        for consumer, event_id in session.execute(
            select(ProcessedEvent.consumer, ProcessedEvent.event_id)
            .where(ProcessedEvent.event_id.in_([r.event_id for r in rows]))
        ):
            applied.setdefault(event_id, set()).add(consumer)
        done = [r.seq for r in rows
                if set(consumers_of.get(r.event_type, ())) <= applied.get(r.event_id, set())]
        if done:
            session.execute(update(Outbox).where(Outbox.seq.in_(done)).values(settled_at=utcnow()))
            settled += len(done)


def redrive(session: Session) -> tuple[int, int]:
    """After the broker lost its data: queue again what was not fully applied.

    Payloads not yet translated go back to the ingestion spool; canonical events not yet
    settled go back to the outbox queue. Returns (payloads, events) queued again.
    """
    payloads = session.execute(
        update(Ingestion).where(Ingestion.translated_at.is_(None), Ingestion.published_at.is_not(None))
        .values(published_at=None)
    ).rowcount
    events = session.execute(
        update(Outbox).where(Outbox.settled_at.is_(None), Outbox.published_at.is_not(None))
        .values(published_at=None)
    ).rowcount
    return int(payloads or 0), int(events or 0)
