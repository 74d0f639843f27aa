"""Set-based writes shared by the store modules: one statement per batch, not one per row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Executable, Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.dml import Insert


@cache
def _insert_ignore(dialect: str, model: type[Any], conflict: tuple[str, ...],
                   returning: tuple[InstrumentedAttribute[Any], ...]) -> Insert:
    """The insert-or-ignore statement, built once per table, conflict and returned columns."""
    if dialect == "postgresql":
        statement = postgresql.insert(model.__table__).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        statement = sqlite.insert(model.__table__).on_conflict_do_nothing(index_elements=conflict)
    else:  # pragma: no cover
        raise NotImplementedError(f"no insert-or-ignore for the {dialect} dialect")
    return statement.returning(*returning) if returning else statement


def query(session: Session, statement: Executable,
          params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """Run a read built once at import (``bindparam`` for its values) in the session's transaction.

    Hot paths (look-ups made for every record) keep their statements in module constants:
    building a statement costs several times what running it does. Core execution, as in
    :func:`execute`: the ORM layer would double the cost of a few-column read. What the session
    holds unflushed is flushed first (a no-op when nothing is pending).
    """
    session.flush()
    return session.connection().execute(statement, dict(params or {}))


def execute(session: Session, statement: Executable, rows: Sequence[dict[str, Any]]) -> CursorResult[Any]:
    """Run a table-level statement for ``rows`` in the session's transaction.

    Core, not the ORM's bulk mode: rows are plain dicts of column values, and the ORM's
    per-row bookkeeping would cost more than the statement. What the session still holds
    unflushed is flushed first, as the ORM's autoflush would.
    """
    session.flush()
    return session.connection().execute(statement, list(rows))


def insert(session: Session, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``model``'s table in one statement."""
    if rows:
        execute(session, model.__table__.insert(), rows)


def insert_ignore(
    session: Session, model: type[Any], rows: Sequence[dict[str, Any]],
    conflict: Sequence[str], returning: Sequence[InstrumentedAttribute[Any]] = (),
) -> list[Row[Any]]:
    """Insert ``rows``, skipping those that clash on the unique columns ``conflict``.

    Returns the ``returning`` columns of the rows actually inserted (none when not asked):
    what is missing from the answer already existed, written by an earlier batch or by
    another worker at the same moment.
    """
    if not rows:
        return []
    statement = _insert_ignore(session.get_bind().dialect.name, model, tuple(conflict),
                               tuple(returning))
    result = execute(session, statement, rows)
    return list(result) if returning else []


def expire(session: Session, model: type[Any], keys: set[Any]) -> None:
    """Expire loaded ``model`` instances whose primary key is in ``keys``.

    Set-based UPDATEs bypass the session's identity map; an instance loaded earlier in the
    transaction would otherwise keep showing the values from before.
    """
    if not keys:
        return
    for instance in list(session.identity_map.values()):
        if isinstance(instance, model):
            pk = model.__mapper__.primary_key_from_instance(instance)
            if (pk[0] if len(pk) == 1 else tuple(pk)) in keys:
                session.expire(instance)
