"""Quality findings kept next to the golden records they are about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pivot.store.bulk import insert_ignore
from pivot.store.tables import QualityFinding

#: Longest message kept (the column's size).
MAX_MESSAGE = 512


def record_many(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Keep findings (``canonical_id, entity, event_id, rule, field, severity, message, found_at``).

    The same event checked again (a redelivered batch) adds nothing.
    """
    insert_ignore(session, QualityFinding,
                  [{**row, "message": str(row["message"])[:MAX_MESSAGE]} for row in rows],
                  conflict=("event_id", "rule", "field"))


def of_record(session: Session, canonical_id: str) -> list[QualityFinding]:
    """Every finding of a golden record, oldest first."""
    return list(session.scalars(select(QualityFinding)
                                .where(QualityFinding.canonical_id == canonical_id)
                                .order_by(QualityFinding.id)))
