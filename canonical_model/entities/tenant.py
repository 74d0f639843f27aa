"""Tenants (tiers / locataires)."""

from datetime import date
from enum import StrEnum
from typing import ClassVar

from canonical_model.base import CanonicalEntity
from canonical_model.identifiers import Email, PhoneE164, Siren
from canonical_model.pii import PIIClass, pii


class Civility(StrEnum):
    """Civility as printed on letters and receipts (quittances)."""

    M = "M"
    MME = "MME"
    AUTRE = "autre"


class TenantStatus(StrEnum):
    """Whether a tenant record is live."""

    ACTIVE = "active"
    FORMER = "former"
    MERGED = "merged"


class Tenant(CanonicalEntity):
    """A tenant: a person, or a company (association, employer) holding a lease."""

    kind: ClassVar[str] = "tenant"

    civility: Civility | None = None
    """Civility, when known."""
    first_name: str | None = pii(PIIClass.IDENTITY, default=None)
    """First name (absent for a company tenant)."""
    last_name: str = pii(PIIClass.IDENTITY, min_length=1)
    """Last name, or company name for a company tenant."""
    email: Email | None = pii(PIIClass.CONTACT, default=None)
    """Email address."""
    phone: PhoneE164 | None = pii(PIIClass.CONTACT, default=None)
    """Phone number, E.164."""
    birth_date: date | None = pii(PIIClass.SENSITIVE, default=None)
    """Date of birth."""
    siren: Siren | None = None
    """SIREN of a company tenant."""
    status: TenantStatus = TenantStatus.ACTIVE
    """`merged` means this record was absorbed into another tenant record."""
