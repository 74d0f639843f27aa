"""Canonical events: versioned, state-transfer payloads of the CloudEvents published by the hub.

An event type is ``fr.pivot.<entity>.<verb>.v<major>`` (``<entity>`` is the entity kind). An event
class subclasses its entity *and* :class:`CanonicalEvent`, so the payload (CloudEvents ``data``) is
the entity's new state, plus the extra fields an event needs::

    class LeaseNoticeGiven(Lease, CanonicalEvent):
        event_type = "fr.pivot.lease.notice_given.v1"
        allowed_statuses = frozenset({LeaseStatus.NOTICE})
        required_fields = ("notice_date",)

Defining the class registers it in :data:`EVENT_TYPES`; the entity model and the version are read
from the type string, and a type string defined twice is refused at import time. Envelope data
(event id, time, source, trace context) lives in the CloudEvents attributes, not here.

A breaking change to a payload is a new class with ``.v2``; v1 stays registered while consumers
migrate.
"""

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import Field, model_validator

from canonical_model.base import CanonicalEntity, CanonicalModel
from canonical_model.entities.insurance import CertificateStatus, InsuranceCertificate
from canonical_model.entities.intervention import Intervention, InterventionStatus
from canonical_model.entities.lease import Lease, LeaseStatus
from canonical_model.entities.patrimoine import Building, Lot, Residence
from canonical_model.entities.request import RequestStatus, TenantRequest
from canonical_model.entities.tenant import Tenant, TenantStatus
from canonical_model.pii import PIIClass, pii

EVENT_TYPE_PATTERN = re.compile(r"^fr\.pivot\.(?P<entity>[a-z_]+)\.(?P<verb>[a-z_]+)\.v(?P<major>[0-9]+)$")

EVENT_TYPES: dict[str, type["CanonicalEvent"]] = {}
"""Every concrete event class, by event type. Filled when the classes are defined."""


class EventDefinitionError(TypeError):
    """An event class is badly declared (type string, entity, version). Raised at import time."""


class DuplicateEventType(EventDefinitionError):
    """Two event classes declare the same event type."""


class UnknownEventType(KeyError):
    """No event class is registered for this event type."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown event type"


def _entity_of(cls: type) -> type[CanonicalEntity] | None:
    for base in cls.__mro__[1:]:
        if (
            issubclass(base, CanonicalEntity)
            and not issubclass(base, CanonicalEvent)
            and "kind" in base.__dict__
        ):
            return base
    return None


class CanonicalEvent(CanonicalModel):
    """Mixin of every canonical event; combine it with the entity whose new state it carries.

    Class variables of a concrete event:

    * ``event_type`` (required): ``fr.pivot.<entity>.<verb>.v<major>``;
    * ``entity_model`` and ``version``: derived from the bases and the type string (declaring them
      is allowed, and then checked);
    * ``allowed_statuses``: statuses the payload may carry (empty: any);
    * ``status_field``: the field holding the status (default ``status``);
    * ``required_fields``: optional entity fields this event requires to be set.
    """

    event_type: ClassVar[str]
    entity_model: ClassVar[type[CanonicalEntity]]
    version: ClassVar[int]
    allowed_statuses: ClassVar[frozenset[StrEnum]] = frozenset()
    status_field: ClassVar[str] = "status"
    required_fields: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:
        id: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register a concrete event class (one that declares its own ``event_type``)."""
        super().__pydantic_init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            _register(cls)

    @property
    def subject(self) -> str:
        """Canonical id of the entity (the CloudEvents ``subject``, the Kafka key)."""
        return self.id

    def snapshot(self) -> CanonicalEntity:
        """Return the entity state carried by the event, without the event-only fields.

        Returns:
            An instance of ``entity_model``.

        """
        model = self.entity_model
        return model.model_validate({name: getattr(self, name) for name in model.model_fields})

    @classmethod
    def from_entity(cls, entity: CanonicalEntity, **extra: Any) -> Self:
        """Build the event from an entity state and the event-only fields.

        Args:
            entity: The entity's new state, an instance of ``entity_model``.
            **extra: Event-only fields (e.g. ``absorbed_id`` of ``TenantMerged``).

        Returns:
            The validated event.

        Raises:
            TypeError: If ``entity`` is not an instance of ``entity_model``.
            pydantic.ValidationError: If the event's own rules refuse the state.

        """
        if not isinstance(entity, cls.entity_model):
            raise TypeError(
                f"{cls.__name__} carries a {cls.entity_model.__name__}, not a {type(entity).__name__}"
            )
        state = {name: getattr(entity, name) for name in cls.entity_model.model_fields}
        return cls.model_validate({**state, **extra})

    @model_validator(mode="after")
    def _check_event_rules(self) -> Self:
        if self.allowed_statuses:
            status = getattr(self, self.status_field)
            if status not in self.allowed_statuses:
                allowed = ", ".join(sorted(str(s) for s in self.allowed_statuses))
                raise ValueError(
                    f"{self.event_type} needs {self.status_field} in ({allowed}), got {str(status)!r}"
                )
        for name in self.required_fields:
            if getattr(self, name) in (None, "", []):
                raise ValueError(f"{self.event_type} needs {name} to be set")
        return self


def _register(cls: type[CanonicalEvent]) -> None:
    event_type = cls.event_type
    where = f"{cls.__module__}.{cls.__qualname__}"
    match = EVENT_TYPE_PATTERN.fullmatch(event_type)
    if match is None:
        raise EventDefinitionError(
            f"{where}: event type {event_type!r} does not match fr.pivot.<entity>.<verb>.v<major>"
        )
    entity = cls.__dict__.get("entity_model") or _entity_of(cls)
    if entity is None:
        raise EventDefinitionError(f"{where} must also subclass a canonical entity")
    if match["entity"] != entity.kind:
        raise EventDefinitionError(
            f"{where}: event type {event_type!r} names entity {match['entity']!r} "
            f"but the payload is a {entity.__name__} (kind {entity.kind!r})"
        )
    version = int(match["major"])
    if "version" in cls.__dict__ and cls.version != version:
        raise EventDefinitionError(f"{where}: version {cls.version} contradicts {event_type!r}")
    unknown = [name for name in cls.required_fields if name not in cls.model_fields]
    if cls.allowed_statuses and cls.status_field not in cls.model_fields:
        unknown.append(cls.status_field)
    if unknown:
        raise EventDefinitionError(f"{where} refers to unknown fields: {', '.join(unknown)}")
    existing = EVENT_TYPES.get(event_type)
    if existing is not None:
        raise DuplicateEventType(
            f"event type {event_type!r} is already defined by "
            f"{existing.__module__}.{existing.__qualname__}; {where} cannot define it again"
        )
    cls.entity_model = entity
    cls.version = version
    EVENT_TYPES[event_type] = cls


def event_class(event_type: str) -> type[CanonicalEvent]:
    """Return the event class registered for an event type.

    Args:
        event_type: E.g. ``"fr.pivot.request.received.v1"``.

    Returns:
        The event class.

    Raises:
        UnknownEventType: If nothing is registered under that type.

    """
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(
            f"unknown event type {event_type!r} ({len(EVENT_TYPES)} types are registered)"
        ) from None


def parse_event(event_type: str, data: bytes | str | Mapping[str, Any]) -> CanonicalEvent:
    """Validate an event payload (CloudEvents ``data``) into its event class.

    Args:
        event_type: The CloudEvents ``type``.
        data: The payload, as JSON bytes/text or as a decoded mapping.

    Returns:
        The validated event.

    Raises:
        UnknownEventType: If the event type is not registered.
        pydantic.ValidationError: If the payload does not fit the event.

    """
    cls = event_class(event_type)
    if isinstance(data, bytes | str):
        return cls.model_validate_json(data)
    return cls.model_validate(data)


# --- patrimoine -------------------------------------------------------------------------------


class ResidenceUpserted(Residence, CanonicalEvent):
    """A residence was created or changed."""

    event_type = "fr.pivot.residence.upserted.v1"


class BuildingUpserted(Building, CanonicalEvent):
    """A building was created or changed."""

    event_type = "fr.pivot.building.upserted.v1"


class LotUpserted(Lot, CanonicalEvent):
    """A lot was created or changed."""

    event_type = "fr.pivot.lot.upserted.v1"


class LotOccupancyChanged(Lot, CanonicalEvent):
    """A lot's occupancy changed (let, notice received, vacated, works)."""

    event_type = "fr.pivot.lot.occupancy_changed.v1"
    status_field = "occupancy_status"


# --- tenants ----------------------------------------------------------------------------------


class TenantUpserted(Tenant, CanonicalEvent):
    """A tenant was created or changed."""

    event_type = "fr.pivot.tenant.upserted.v1"


class TenantMerged(Tenant, CanonicalEvent):
    """Two tenant records were found to be the same person; the payload is the surviving one."""

    event_type = "fr.pivot.tenant.merged.v1"
    allowed_statuses = frozenset({TenantStatus.ACTIVE, TenantStatus.FORMER})

    absorbed_id: str = Field(min_length=1)
    """Canonical id of the record merged into this one (its status becomes `merged`)."""

    @model_validator(mode="after")
    def _not_merged_into_itself(self) -> Self:
        if self.absorbed_id == self.id:
            raise ValueError(f"tenant {self.id} cannot absorb itself")
        return self


# --- leases -----------------------------------------------------------------------------------


class LeaseSigned(Lease, CanonicalEvent):
    """A lease was signed: it is in force (or already under notice when loaded late)."""

    event_type = "fr.pivot.lease.signed.v1"
    allowed_statuses = frozenset({LeaseStatus.ACTIVE, LeaseStatus.NOTICE})


class LeaseUpdated(Lease, CanonicalEvent):
    """A lease changed (rent revision, charges, holders, insurance status)."""

    event_type = "fr.pivot.lease.updated.v1"


class LeaseNoticeGiven(Lease, CanonicalEvent):
    """The tenant gave notice (préavis)."""

    event_type = "fr.pivot.lease.notice_given.v1"
    allowed_statuses = frozenset({LeaseStatus.NOTICE})
    required_fields = ("notice_date",)


class LeaseTerminated(Lease, CanonicalEvent):
    """The lease ended."""

    event_type = "fr.pivot.lease.terminated.v1"
    allowed_statuses = frozenset({LeaseStatus.TERMINATED})
    required_fields = ("end_date",)


# --- interventions ----------------------------------------------------------------------------


class InterventionCreated(Intervention, CanonicalEvent):
    """A work order was opened (possibly with its appointment already set)."""

    event_type = "fr.pivot.intervention.created.v1"
    allowed_statuses = frozenset({InterventionStatus.CREATED, InterventionStatus.SCHEDULED})


class InterventionScheduled(Intervention, CanonicalEvent):
    """An appointment was set (or moved)."""

    event_type = "fr.pivot.intervention.scheduled.v1"
    allowed_statuses = frozenset({InterventionStatus.SCHEDULED})
    required_fields = ("scheduled_for",)


class InterventionStarted(Intervention, CanonicalEvent):
    """The contractor started the work."""

    event_type = "fr.pivot.intervention.started.v1"
    allowed_statuses = frozenset({InterventionStatus.STARTED})


class InterventionCompleted(Intervention, CanonicalEvent):
    """The work was completed."""

    event_type = "fr.pivot.intervention.completed.v1"
    allowed_statuses = frozenset({InterventionStatus.COMPLETED})
    required_fields = ("completed_at",)


class InterventionCancelled(Intervention, CanonicalEvent):
    """The work order was cancelled."""

    event_type = "fr.pivot.intervention.cancelled.v1"
    allowed_statuses = frozenset({InterventionStatus.CANCELLED})


# --- tenant requests --------------------------------------------------------------------------


class RequestReceived(TenantRequest, CanonicalEvent):
    """A tenant request came in."""

    event_type = "fr.pivot.request.received.v1"
    allowed_statuses = frozenset({RequestStatus.RECEIVED})


class RequestTriaged(TenantRequest, CanonicalEvent):
    """A request was categorised and prioritised (by the AI triage or by a person)."""

    event_type = "fr.pivot.request.triaged.v1"
    allowed_statuses = frozenset({RequestStatus.TRIAGED})
    required_fields = ("category", "urgency")

    triage_reasons: list[str] = pii(PIIClass.SENSITIVE, default_factory=list)
    """Why this category and urgency (may quote the tenant's words)."""
    triage_confidence: float = Field(ge=0, le=1)
    """Confidence of the triage, 0 to 1."""
    needs_human_review: bool
    """Whether a person must confirm the triage before acting on it."""
    model_version: str = Field(min_length=1)
    """Version of the triage model or rule set (`human` for a manual triage)."""


class RequestAnswered(TenantRequest, CanonicalEvent):
    """A tenant's question was answered (by the assistant or an agent), or handed to a person."""

    event_type = "fr.pivot.request.answered.v1"

    answer: str = pii(PIIClass.SENSITIVE, min_length=1, max_length=4000)
    """The answer sent to the tenant (may quote their own records)."""
    answer_sources: list[str] = Field(default_factory=list)
    """What the answer rests on: FAQ entries, golden records (ids)."""
    handed_to_human: bool
    """Whether the question was handed to an agent instead of answered."""
    model_version: str = Field(min_length=1)
    """Version of the assistant (`human` for an agent)."""


class RequestUpdated(TenantRequest, CanonicalEvent):
    """A request changed (status, links, category corrected)."""

    event_type = "fr.pivot.request.updated.v1"


class RequestClosed(TenantRequest, CanonicalEvent):
    """A request is finished: resolved, closed or rejected."""

    event_type = "fr.pivot.request.closed.v1"
    allowed_statuses = frozenset({RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.REJECTED})


# --- insurance certificates -------------------------------------------------------------------


class InsuranceCertificateReceived(InsuranceCertificate, CanonicalEvent):
    """A certificate was received and read."""

    event_type = "fr.pivot.insurance_certificate.received.v1"
    allowed_statuses = frozenset({CertificateStatus.RECEIVED})


class InsuranceCertificateValidated(InsuranceCertificate, CanonicalEvent):
    """A certificate was checked and accepted."""

    event_type = "fr.pivot.insurance_certificate.validated.v1"
    allowed_statuses = frozenset({CertificateStatus.VALID})


class InsuranceCertificateRejected(InsuranceCertificate, CanonicalEvent):
    """A certificate was checked and refused (expired, names or address not matching, missing)."""

    event_type = "fr.pivot.insurance_certificate.rejected.v1"
    allowed_statuses = frozenset(
        {CertificateStatus.EXPIRED, CertificateStatus.MISMATCH, CertificateStatus.MISSING}
    )
    required_fields = ("rejection_reason",)
