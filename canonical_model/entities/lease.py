"""Leases (baux)."""

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from canonical_model.base import CanonicalEntity
from canonical_model.money import Money


class LeaseStatus(StrEnum):
    """Lifecycle of a lease (transitions: canonical_model.entities.lifecycle)."""

    DRAFT = "draft"
    ACTIVE = "active"
    NOTICE = "notice"
    TERMINATED = "terminated"


class InsuranceStatus(StrEnum):
    """State of the tenant's home insurance (assurance habitation) for a lease."""

    VALID = "valid"
    EXPIRED = "expired"
    MISMATCH = "mismatch"
    MISSING = "missing"


class Lease(CanonicalEntity):
    """A residential lease (bail) of a lot to one or more holders."""

    kind: ClassVar[str] = "lease"

    lot_id: str
    """Canonical id of the lot let."""
    holder_ids: list[str] = Field(min_length=1)
    """Canonical ids of the tenants holding the lease (co-holders included)."""
    start_date: date
    """Date the lease takes effect."""
    end_date: date | None = None
    """Date the lease ends (set once terminated or when notice fixes it)."""
    notice_date: date | None = None
    """Date the tenant's notice (préavis) was received."""
    status: LeaseStatus
    """Where the lease is in its lifecycle."""
    monthly_rent: Money
    """Monthly rent excluding charges (loyer principal), EUR."""
    monthly_charges: Money
    """Monthly provision for charges, EUR."""
    deposit: Money | None = None
    """Security deposit (dépôt de garantie), EUR."""
    insurance_status: InsuranceStatus | None = None
    """State of the holders' home insurance."""
