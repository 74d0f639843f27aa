"""Home insurance certificates (attestations d'assurance habitation)."""

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from canonical_model.base import CanonicalEntity
from canonical_model.entities.patrimoine import Address
from canonical_model.pii import PIIClass, pii


class CertificateStatus(StrEnum):
    """Lifecycle of a certificate (transitions: canonical_model.entities.lifecycle)."""

    RECEIVED = "received"
    VALID = "valid"
    EXPIRED = "expired"
    MISMATCH = "mismatch"
    MISSING = "missing"


class InsuranceCertificate(CanonicalEntity):
    """A home insurance certificate a tenant must provide every year, as read and checked."""

    kind: ClassVar[str] = "insurance_certificate"

    lease_id: str | None = None
    """Canonical id of the lease it covers, once matched."""
    tenant_id: str | None = None
    """Canonical id of the tenant who sent it, once matched."""
    insurer: str = Field(min_length=1)
    """Insurer, e.g. `MAIF`."""
    policy_number: str = pii(PIIClass.IDENTITY, min_length=1)
    """Policy (contract) number; identifies the insured person."""
    insured_names: list[str] = pii(PIIClass.IDENTITY, default_factory=list)
    """Names of the insured persons as written on the certificate."""
    covered_address: Address = pii(PIIClass.CONTACT)
    """Address of the insured home (a person's home: contact data)."""
    valid_from: date
    """First day of cover."""
    valid_to: date
    """Last day of cover."""
    status: CertificateStatus = CertificateStatus.RECEIVED
    """Where the certificate is in its lifecycle."""
    extraction_confidence: float | None = Field(default=None, ge=0, le=1)
    """Confidence of the document reading, 0 to 1 (absent when typed in by a person)."""
    rejection_reason: str | None = pii(PIIClass.IDENTITY, default=None)
    """Why the certificate was not accepted (may name the insured persons)."""
