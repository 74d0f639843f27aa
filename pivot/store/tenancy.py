"""Which lease held a lot on a day: leases come and go, the lot stays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, delete, func, or_, select, union, update
from sqlalchemy.orm import Session

from pivot.store import bulk
from pivot.store.tables import LeaseHolder, Tenancy, XrefMerge


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


_DAY = bindparam("day")
_LEASE_ON = (
    select(Tenancy.lease_id)
    .where(Tenancy.lot_id == bindparam("lot_id"), Tenancy.start_date <= _DAY,
           or_(Tenancy.end_date.is_(None), Tenancy.end_date >= _DAY))
    .order_by(Tenancy.start_date.desc())
    .limit(1)
)
_TENANT = bindparam("tenant_id")
#: The tenant, or the record it was merged into, and every record merged into that one.
_SURVIVOR = func.coalesce(
    select(XrefMerge.survivor_id).where(XrefMerge.absorbed_id == _TENANT).scalar_subquery(), _TENANT)
_MERGED = union(select(_SURVIVOR), select(XrefMerge.absorbed_id).where(XrefMerge.survivor_id == _SURVIVOR))
_LOT_OF_TENANT = (
    select(Tenancy.lot_id)
    .join(LeaseHolder, LeaseHolder.lease_id == Tenancy.lease_id)
    .where(LeaseHolder.tenant_id.in_(_MERGED), Tenancy.start_date <= _DAY,
           or_(Tenancy.end_date.is_(None), Tenancy.end_date >= _DAY))
    .order_by(Tenancy.start_date.desc())
    .limit(1)
)


def lease_on(session: Session, lot_id: str, day: date) -> str | None:
    """The lease holding ``lot_id`` on ``day`` (the latest-started one if periods overlap)."""
    return bulk.query(session, _LEASE_ON, {"lot_id": lot_id, "day": day}).scalar()


def lot_of_tenant(session: Session, tenant_id: str, day: date) -> str | None:
    """The lot a tenant holds a lease on, on ``day``; merged records count as one tenant.

    The tenant may be a record merged into another (its survivor), or a survivor others were
    merged into: a lease held by any of them counts. One statement, built once: the chatbot's
    mapping asks it for every message.
    """
    return bulk.query(session, _LOT_OF_TENANT, {"tenant_id": tenant_id, "day": day}).scalar()


def history(session: Session, lot_id: str) -> list[Tenancy]:
    """Every lease of a lot, oldest first."""
    return list(session.scalars(
        select(Tenancy).where(Tenancy.lot_id == lot_id).order_by(Tenancy.start_date)))
