"""Cross-reference of identifiers: (system, entity, source id) ↔ canonical id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canonical_model.base import new_canonical_id
from pivot.store.tables import Xref


def lookup(session: Session, system: str, entity: str, source_id: str) -> str | None:
    """Canonical id of a source id, or None when unknown."""
    return session.scalar(
        select(Xref.canonical_id).where(
            Xref.system == system, Xref.entity == entity, Xref.source_id == source_id
        )
    )


def link(session: Session, system: str, entity: str, source_id: str, canonical_id: str) -> str:
    """Link a source id to ``canonical_id``; return the canonical id it is linked to.

    When the source id is already linked, the existing link wins (a source id never moves
    silently) and its canonical id is returned.
    """
    existing = lookup(session, system, entity, source_id)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            session.add(Xref(system=system, entity=entity, source_id=source_id,
                             canonical_id=canonical_id))
    except IntegrityError:  # another worker linked it first
        existing = lookup(session, system, entity, source_id)
        if existing is None:  # pragma: no cover - constraint violated by something else
            raise
        return existing
    return canonical_id


def resolve(session: Session, system: str, entity: str, source_id: str) -> str:
    """Canonical id of a source id, minted and linked when it is new."""
    existing = lookup(session, system, entity, source_id)
    if existing is not None:
        return existing
    return link(session, system, entity, source_id, new_canonical_id(entity))


def source_ids(session: Session, system: str, entity: str, canonical_id: str) -> list[str]:
    """Every source id that ``system`` uses for a canonical id (oldest first)."""
    return list(
        session.scalars(
            select(Xref.source_id)
            .where(Xref.system == system, Xref.entity == entity, Xref.canonical_id == canonical_id)
            .order_by(Xref.id)
        )
    )
