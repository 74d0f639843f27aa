"""Canonical entities, one module each, and the registry of entity kinds."""

from collections.abc import Mapping
from types import MappingProxyType

from canonical_model.base import CanonicalEntity
from canonical_model.entities.insurance import CertificateStatus, InsuranceCertificate
from canonical_model.entities.intervention import Intervention, InterventionStatus
from canonical_model.entities.lease import InsuranceStatus, Lease, LeaseStatus
from canonical_model.entities.lifecycle import (
    CERTIFICATE_TRANSITIONS,
    INTERVENTION_TRANSITIONS,
    LEASE_TRANSITIONS,
    OCCUPANCY_TRANSITIONS,
    REQUEST_TRANSITIONS,
    TRANSITIONS,
    InvalidTransition,
    allowed_transitions,
    can_transition,
    check_transition,
)
from canonical_model.entities.patrimoine import (
    Address,
    Building,
    DpeClass,
    Financing,
    Lot,
    OccupancyStatus,
    Residence,
    Typology,
)
from canonical_model.entities.request import (
    Attachment,
    Channel,
    RequestCategory,
    RequestIntent,
    RequestStatus,
    TenantRequest,
    Urgency,
)
from canonical_model.entities.tenant import Civility, Tenant, TenantStatus


class UnknownEntityKind(KeyError):
    """No canonical entity has this kind."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown entity kind"


ENTITY_TYPES: Mapping[str, type[CanonicalEntity]] = MappingProxyType(
    {
        model.kind: model
        for model in (
            Tenant,
            Residence,
            Building,
            Lot,
            Lease,
            Intervention,
            TenantRequest,
            InsuranceCertificate,
        )
    }
)
"""Every canonical entity model, by kind."""


def entity_class(kind: str) -> type[CanonicalEntity]:
    """Return the entity model of a kind.

    Args:
        kind: An entity kind, e.g. ``"lot"``.

    Returns:
        The model class, e.g. :class:`Lot`.

    Raises:
        UnknownEntityKind: If no entity has that kind.

    """
    try:
        return ENTITY_TYPES[kind]
    except KeyError:
        known = ", ".join(sorted(ENTITY_TYPES))
        raise UnknownEntityKind(f"unknown entity kind {kind!r}; known kinds: {known}") from None


__all__ = [
    "CERTIFICATE_TRANSITIONS",
    "ENTITY_TYPES",
    "INTERVENTION_TRANSITIONS",
    "LEASE_TRANSITIONS",
    "OCCUPANCY_TRANSITIONS",
    "REQUEST_TRANSITIONS",
    "TRANSITIONS",
    "Address",
    "Attachment",
    "Building",
    "CertificateStatus",
    "Channel",
    "Civility",
    "DpeClass",
    "Financing",
    "InsuranceCertificate",
    "InsuranceStatus",
    "Intervention",
    "InterventionStatus",
    "InvalidTransition",
    "Lease",
    "LeaseStatus",
    "Lot",
    "OccupancyStatus",
    "RequestCategory",
    "RequestIntent",
    "RequestStatus",
    "Residence",
    "Tenant",
    "TenantRequest",
    "TenantStatus",
    "Typology",
    "UnknownEntityKind",
    "Urgency",
    "allowed_transitions",
    "can_transition",
    "check_transition",
    "entity_class",
]
