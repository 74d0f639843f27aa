"""Which lease held a lot on a day: leases come and go, the lot stays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from pivot.store.tables import LeaseHolder, Tenancy


def record(
    session: Session, lease_id: str, lot_id: str, start: date, end: date | None,
    holders: Sequence[str] = (),
) -> None:
    """Record (or update) the period a lease holds its lot, and who holds the lease."""
    row = session.get(Tenancy, lease_id)
    if row is None:
        session.add(Tenancy(lease_id=lease_id, lot_id=lot_id, start_date=start, end_date=end))
    else:
        row.lot_id, row.start_date, row.end_date = lot_id, start, end
    current = set(session.scalars(select(LeaseHolder.tenant_id)
                                  .where(LeaseHolder.lease_id == lease_id)))
    if current != set(holders):
        session.execute(delete(LeaseHolder).where(LeaseHolder.lease_id == lease_id))
        session.add_all(LeaseHolder(lease_id=lease_id, tenant_id=t) for t in sorted(set(holders)))


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
