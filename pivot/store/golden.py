"""Golden records: the current state of each canonical entity, with its lineage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pivot.store.tables import GoldenRecord, GoldenRecordVersion, utcnow


@dataclass(frozen=True)
class Lineage:
    """Where a version of a golden record came from."""

    event_id: str
    event_type: str
    source_system: str
    mapping_version: str
    source_id: str | None = None


def apply(
    session: Session, canonical_id: str, entity: str, data: dict[str, Any], lineage: Lineage
) -> int | None:
    """Record a new version of a golden record; None when this event was already applied."""
    already = session.scalar(
        select(GoldenRecordVersion.version).where(GoldenRecordVersion.event_id == lineage.event_id)
    )
    if already is not None:
        return None
    record = session.get(GoldenRecord, canonical_id)
    now = utcnow()
    if record is None:
        record = GoldenRecord(canonical_id=canonical_id, entity=entity, version=1, data=data,
                              last_event_id=lineage.event_id, updated_at=now)
        session.add(record)
    else:
        record.version += 1
        record.data = data
        record.last_event_id = lineage.event_id
        record.updated_at = now
    session.add(
        GoldenRecordVersion(
            canonical_id=canonical_id, version=record.version, event_id=lineage.event_id,
            event_type=lineage.event_type, source_system=lineage.source_system,
            source_id=lineage.source_id, mapping_version=lineage.mapping_version, data=data,
            recorded_at=now,
        )
    )
    session.flush()
    return record.version


def get(session: Session, canonical_id: str) -> GoldenRecord | None:
    """The current golden record, or None."""
    return session.get(GoldenRecord, canonical_id)


def history(session: Session, canonical_id: str) -> list[GoldenRecordVersion]:
    """Every version of a golden record, oldest first."""
    return list(
        session.scalars(
            select(GoldenRecordVersion)
            .where(GoldenRecordVersion.canonical_id == canonical_id)
            .order_by(GoldenRecordVersion.version)
        )
    )
