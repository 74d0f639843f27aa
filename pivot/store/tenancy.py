"""Which lease held a lot on a day: leases come and go, the lot stays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from pivot.store import bulk
from pivot.store.tables import LeaseHolder, Tenancy


@dataclass(frozen=True, slots=True)
class Period:
    """A lease's hold on its lot and the lease's holders."""

    lot_id: str
    start: date
    end: date | None
    holders: frozenset[str] = field(default_factory=frozenset)


def record(
    session: Session, lease_id: str, lot_id: str, start: date, end: date | None,
    holders: Sequence[str] = (),
) -> None:
    """Record (or update) the period a lease holds its lot, and who holds the lease."""
    record_many(session, {lease_id: Period(lot_id, start, end, frozenset(holders))})


def record_many(session: Session, periods: Mapping[str, Period]) -> None:
    """Record (or update) the periods of several leases, set-based."""
    if not periods:
        return
    ids = list(periods)
    known = {lease: (lot, start, end) for lease, lot, start, end in session.execute(
        select(Tenancy.lease_id, Tenancy.lot_id, Tenancy.start_date, Tenancy.end_date)
        .where(Tenancy.lease_id.in_(ids)))}
    holders: dict[str, set[str]] = {}
    for lease, tenant in session.execute(select(LeaseHolder.lease_id, LeaseHolder.tenant_id)
                                         .where(LeaseHolder.lease_id.in_(ids))):
        holders.setdefault(lease, set()).add(tenant)
    rows = {lease: {"lease_id": lease, "lot_id": p.lot_id, "start_date": p.start, "end_date": p.end}
            for lease, p in periods.items()}
    created = [row for lease, row in rows.items() if lease not in known]
    changed = [row for lease, row in rows.items()
               if lease in known and known[lease] != (row["lot_id"], row["start_date"], row["end_date"])]
    bulk.insert(session, Tenancy, created)
    if changed:
        table = Tenancy.__table__
        bulk.execute(session, update(table).where(table.c.lease_id == bindparam("key")),
                     [{**row, "key": row["lease_id"]} for row in changed])
        bulk.expire(session, Tenancy, {row["lease_id"] for row in changed})
    moved = [lease for lease, p in periods.items() if holders.get(lease, set()) != set(p.holders)]
    if moved:
        session.execute(delete(LeaseHolder).where(LeaseHolder.lease_id.in_(moved)))
        bulk.insert(session, LeaseHolder, [{"lease_id": lease, "tenant_id": tenant}
                                           for lease in moved
                                           for tenant in sorted(periods[lease].holders)])


def lease_on(session: Session, lot_id: str, day: date) -> str | None:
    """The lease holding ``lot_id`` on ``day`` (the latest-started one if periods overlap)."""
    return session.scalar(
        select(Tenancy.lease_id)
        .where(Tenancy.lot_id == lot_id, Tenancy.start_date <= day,
               or_(Tenancy.end_date.is_(None), Tenancy.end_date >= day))
        .order_by(Tenancy.start_date.desc())
        .limit(1)
    )


def lot_of_tenant(session: Session, tenant_ids: Sequence[str], day: date) -> str | None:
    """The lot a tenant (any of ``tenant_ids``: merged records) holds a lease on, on ``day``."""
    return session.scalar(
        select(Tenancy.lot_id)
        .join(LeaseHolder, LeaseHolder.lease_id == Tenancy.lease_id)
        .where(LeaseHolder.tenant_id.in_(list(tenant_ids)), Tenancy.start_date <= day,
               or_(Tenancy.end_date.is_(None), Tenancy.end_date >= day))
        .order_by(Tenancy.start_date.desc())
        .limit(1)
    )


def history(session: Session, lot_id: str) -> list[Tenancy]:
    """Every lease of a lot, oldest first."""
    return list(session.scalars(
        select(Tenancy).where(Tenancy.lot_id == lot_id).order_by(Tenancy.start_date)))
