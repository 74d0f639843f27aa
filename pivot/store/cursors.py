"""Poll cursors of polled satellites."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pivot.store.tables import PollCursor, utcnow


def get(session: Session, connector: str) -> str | None:
    """Where the poll of ``connector`` resumes (None: from the start)."""
    row = session.get(PollCursor, connector)
    return row.cursor if row is not None else None


def save(session: Session, connector: str, cursor: str | None) -> None:
    """Keep the cursor a poll ended on."""
    row = session.get(PollCursor, connector)
    if row is None:
        session.add(PollCursor(connector=connector, cursor=cursor, updated_at=utcnow()))
    else:
        row.cursor, row.updated_at = cursor, utcnow()
