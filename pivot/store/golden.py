"""Golden records: the current state of each canonical entity, with its lineage."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from pivot.store import bulk
from pivot.store.tables import GoldenRecord, GoldenRecordVersion, XrefMerge, utcnow


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


_LOAD = select(GoldenRecord.canonical_id, GoldenRecord.version, GoldenRecord.data).where(
    GoldenRecord.canonical_id.in_(bindparam("ids", expanding=True)))
_APPLIED = select(GoldenRecordVersion.event_id).where(
    GoldenRecordVersion.event_id.in_(bindparam("ids", expanding=True)))


def load(session: Session, canonical_ids: Iterable[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """Version and data of the golden records among ``canonical_ids`` that exist."""
    ids = list(canonical_ids)
    if not ids:
        return {}
    return {cid: (version, data)
            for cid, version, data in bulk.query(session, _LOAD, {"ids": ids})}


def applied(session: Session, event_ids: Iterable[str]) -> set[str]:
    """The subset of ``event_ids`` already recorded as a version of some golden record."""
    ids = list(event_ids)
    if not ids:
        return set()
    return set(bulk.query(session, _APPLIED, {"ids": ids}).scalars())


def write_many(
    session: Session, created: Sequence[dict[str, Any]], changed: Sequence[dict[str, Any]],
    versions: Sequence[dict[str, Any]],
) -> None:
    """Insert new golden records, update changed ones and add their versions, set-based.

    Rows carry the table's column names. Two workers versioning the same record at once
    clash on the (canonical id, version) constraint: one transaction fails and is redone.
    """
    bulk.insert(session, GoldenRecord, created)
    if changed:
        table = GoldenRecord.__table__
        bulk.execute(session, update(table).where(table.c.canonical_id == bindparam("key")),
                     [{**row, "key": row["canonical_id"]} for row in changed])
        bulk.expire(session, GoldenRecord, {row["canonical_id"] for row in changed})
    bulk.insert(session, GoldenRecordVersion, versions)


def get(session: Session, canonical_id: str) -> GoldenRecord | None:
    """The current golden record, or None."""
    return session.get(GoldenRecord, canonical_id)


_SURVIVOR = bindparam("canonical_id")
_DATA_OF_SURVIVOR = select(GoldenRecord.data).where(
    GoldenRecord.canonical_id == func.coalesce(
        select(XrefMerge.survivor_id).where(XrefMerge.absorbed_id == _SURVIVOR).scalar_subquery(),
        _SURVIVOR,
    )
)


def data_of_survivor(session: Session, canonical_id: str) -> dict[str, Any] | None:
    """Current data of a golden record, or of the record it was merged into; None if none."""
    # One statement: what a delivery reads for every event (ORM get + merge look-up cost
    # three times as much).
    data = bulk.query(session, _DATA_OF_SURVIVOR, {"canonical_id": canonical_id}).scalar()
    return dict(data) if data is not None else None


def history(session: Session, canonical_id: str) -> list[GoldenRecordVersion]:
    """Every version of a golden record, oldest first."""
    return list(
        session.scalars(
            select(GoldenRecordVersion)
            .where(GoldenRecordVersion.canonical_id == canonical_id)
            .order_by(GoldenRecordVersion.version)
        )
    )
