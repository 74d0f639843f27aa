"""Status lifecycles: which status may follow which.

Each table maps a status to the statuses it may move to. Staying in the same status is always
allowed (events are delivered at least once, so the same state can arrive twice).
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from canonical_model.entities.insurance import CertificateStatus
from canonical_model.entities.intervention import InterventionStatus
from canonical_model.entities.lease import LeaseStatus
from canonical_model.entities.patrimoine import OccupancyStatus
from canonical_model.entities.request import RequestStatus

S = TypeVar("S", bound=StrEnum)


class InvalidTransition(ValueError):
    """A status change the lifecycle does not allow."""


def _table(transitions: Mapping[S, set[S]]) -> Mapping[S, frozenset[S]]:
    return MappingProxyType({status: frozenset(nexts) for status, nexts in transitions.items()})


LEASE_TRANSITIONS = _table(
    {
        LeaseStatus.DRAFT: {LeaseStatus.ACTIVE, LeaseStatus.TERMINATED},
        LeaseStatus.ACTIVE: {LeaseStatus.NOTICE, LeaseStatus.TERMINATED},
        # A notice can be withdrawn with the landlord's agreement.
        LeaseStatus.NOTICE: {LeaseStatus.ACTIVE, LeaseStatus.TERMINATED},
        LeaseStatus.TERMINATED: set(),
    }
)

INTERVENTION_TRANSITIONS = _table(
    {
        InterventionStatus.CREATED: {
            InterventionStatus.SCHEDULED,
            InterventionStatus.STARTED,
            InterventionStatus.COMPLETED,
            InterventionStatus.CANCELLED,
        },
        InterventionStatus.SCHEDULED: {
            InterventionStatus.STARTED,
            InterventionStatus.COMPLETED,
            InterventionStatus.CANCELLED,
        },
        # Work started may need another appointment (missing part, tenant absent).
        InterventionStatus.STARTED: {InterventionStatus.SCHEDULED, InterventionStatus.COMPLETED},
        InterventionStatus.COMPLETED: set(),
        InterventionStatus.CANCELLED: set(),
    }
)

REQUEST_TRANSITIONS = _table(
    {
        RequestStatus.RECEIVED: {
            RequestStatus.TRIAGED,
            RequestStatus.IN_PROGRESS,
            RequestStatus.RESOLVED,
            RequestStatus.CLOSED,
            RequestStatus.REJECTED,
        },
        RequestStatus.TRIAGED: {
            RequestStatus.IN_PROGRESS,
            RequestStatus.RESOLVED,
            RequestStatus.CLOSED,
            RequestStatus.REJECTED,
        },
        RequestStatus.IN_PROGRESS: {
            RequestStatus.RESOLVED,
            RequestStatus.CLOSED,
            RequestStatus.REJECTED,
        },
        # The tenant says it is not fixed: the request is reopened.
        RequestStatus.RESOLVED: {RequestStatus.IN_PROGRESS, RequestStatus.CLOSED},
        RequestStatus.CLOSED: set(),
        RequestStatus.REJECTED: set(),
    }
)

CERTIFICATE_TRANSITIONS = _table(
    {
        CertificateStatus.RECEIVED: {
            CertificateStatus.VALID,
            CertificateStatus.EXPIRED,
            CertificateStatus.MISMATCH,
            CertificateStatus.MISSING,
        },
        CertificateStatus.VALID: {CertificateStatus.EXPIRED},
        # A person reviewing a mismatch (maiden name, co-holder) may accept the certificate.
        CertificateStatus.MISMATCH: {CertificateStatus.VALID},
        # The document finally arrives.
        CertificateStatus.MISSING: {CertificateStatus.RECEIVED},
        CertificateStatus.EXPIRED: set(),
    }
)

OCCUPANCY_TRANSITIONS = _table(
    {
        OccupancyStatus.OCCUPIED: {OccupancyStatus.NOTICE, OccupancyStatus.VACANT},
        OccupancyStatus.NOTICE: {OccupancyStatus.OCCUPIED, OccupancyStatus.VACANT},
        OccupancyStatus.VACANT: {OccupancyStatus.OCCUPIED, OccupancyStatus.WORKS},
        OccupancyStatus.WORKS: {OccupancyStatus.VACANT, OccupancyStatus.OCCUPIED},
    }
)

TRANSITIONS: Mapping[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = MappingProxyType(
    {
        LeaseStatus: LEASE_TRANSITIONS,
        InterventionStatus: INTERVENTION_TRANSITIONS,
        RequestStatus: REQUEST_TRANSITIONS,
        CertificateStatus: CERTIFICATE_TRANSITIONS,
        OccupancyStatus: OCCUPANCY_TRANSITIONS,
    }
)
"""Every lifecycle table, by status enum."""


def _table_for(old: StrEnum, new: StrEnum) -> Mapping[StrEnum, frozenset[StrEnum]]:
    status_type = type(old)
    if type(new) is not status_type:
        raise TypeError(
            f"cannot compare statuses of different lifecycles: "
            f"{status_type.__name__}.{old.name} and {type(new).__name__}.{new.name}"
        )
    try:
        return TRANSITIONS[status_type]
    except KeyError:
        raise TypeError(f"{status_type.__name__} has no lifecycle table") from None


def allowed_transitions(status: StrEnum) -> frozenset[StrEnum]:
    """Return the statuses a status may move to (itself excluded).

    Args:
        status: A member of a lifecycle enum, e.g. ``LeaseStatus.ACTIVE``.

    Returns:
        The possible next statuses.

    Raises:
        TypeError: If the enum has no lifecycle table.

    """
    return _table_for(status, status)[status]


def can_transition(old: S, new: S) -> bool:
    """Say whether a status may change from ``old`` to ``new``.

    Args:
        old: Current status.
        new: Proposed status, of the same enum.

    Returns:
        True when the lifecycle allows it; ``old == new`` is always allowed.

    Raises:
        TypeError: If the statuses belong to different enums or to an enum without lifecycle.

    """
    table = _table_for(old, new)
    return old == new or new in table[old]


def check_transition(old: S, new: S) -> None:
    """Refuse a status change the lifecycle does not allow.

    Args:
        old: Current status.
        new: Proposed status, of the same enum.

    Raises:
        InvalidTransition: If the change is not allowed; the message lists the allowed ones.
        TypeError: If the statuses belong to different enums or to an enum without lifecycle.

    """
    if can_transition(old, new):
        return
    allowed = sorted(status.value for status in allowed_transitions(old))
    raise InvalidTransition(
        f"{type(old).__name__} cannot go from {old.value!r} to {new.value!r}; "
        f"from {old.value!r} it may go to: {', '.join(allowed) or 'nothing (final status)'}"
    )
