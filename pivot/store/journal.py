"""The ingestion journal: every accepted payload, and which ones still wait for the broker."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pivot.store.bulk import insert_ignore
from pivot.store.tables import Ingestion, utcnow

#: Length of the ``source_key`` column.
MAX_KEY = 255


def record(
    session: Session, ingestion_id: str, connector: str, source_key: str, body: bytes,
    ingested_at: float, trace_headers: dict[str, str] | None = None, signature: str | None = None,
) -> Ingestion:
    """Journal an accepted payload (not yet published); a known signature raises IntegrityError.

    A source key longer than the column (a satellite's odd id) is kept as its digest: the same
    key still gives the same partition, so per-key order holds.
    """
    source_key = storable_key(source_key)
    row = Ingestion(ingestion_id=ingestion_id, connector=connector, source_key=source_key,
                    body=body, ingested_at=ingested_at, trace_headers=trace_headers or None,
                    signature=signature)
    session.add(row)
    session.flush()
    return row


def record_many(session: Session, rows: Sequence[dict[str, Any]]) -> list[Ingestion]:
    """Journal payloads (dicts of :class:`Ingestion` columns) in one statement.

    Returns the rows written, with their ``seq``, in the order given; a row whose signature
    is already journaled (a replayed request) is left out.
    """
    values = [{**row, "source_key": storable_key(row["source_key"])} for row in rows]
    inserted = dict(insert_ignore(session, Ingestion, values, conflict=("signature",),
                                  returning=(Ingestion.ingestion_id, Ingestion.seq)))
    return [Ingestion(seq=inserted[row["ingestion_id"]], **row)
            for row in values if row["ingestion_id"] in inserted]


def storable_key(source_key: str) -> str:
    """The key as the ``source_key`` column keeps it (its digest when it is too long)."""
    if len(source_key) > MAX_KEY:
        return "sha256:" + hashlib.sha256(source_key.encode()).hexdigest()
    return source_key


def pending(session: Session, limit: int = 500) -> list[Ingestion]:
    """The oldest payloads not yet acknowledged by the broker, in acceptance order."""
    return list(session.scalars(
        select(Ingestion).where(Ingestion.published_at.is_(None)).order_by(Ingestion.seq).limit(limit)
    ))


def pending_count(session: Session) -> int:
    """How many payloads wait in the spool."""
    return int(session.scalar(
        select(func.count()).select_from(Ingestion).where(Ingestion.published_at.is_(None))
    ) or 0)


def mark_translated(session: Session, ingestion_ids: Sequence[str]) -> None:
    """Record that these payloads became canonical events (kept in the outbox)."""
    if ingestion_ids:
        session.execute(update(Ingestion).where(Ingestion.ingestion_id.in_(list(ingestion_ids)))
                        .values(translated_at=utcnow()))


def mark_published(session: Session, seqs: Sequence[int]) -> None:
    """Record that the broker acknowledged these payloads."""
    if seqs:
        session.execute(
            update(Ingestion).where(Ingestion.seq.in_(list(seqs))).values(published_at=utcnow())
        )
