"""The Ublo-like tool's own JSON: webhook payloads and API answers (its format, not the canonical one)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

#: An identifier Ublo or the hub wrote (``ubl_prop_12``, ``UBL-REQ-000001``, ``lot_<hex>``,
#: ``LOC-0004567``): printable, no spaces, so it is safe as an xref key and a URL segment.
Ref = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]

DpeLetter = Literal["A", "B", "C", "D", "E", "F", "G"]
Occupancy = Literal["occupied", "notice", "vacant", "works"]
UbloChannel = Literal["chatbot", "web", "sms", "phone", "email", "whatsapp", "agency"]
UbloCategory = Literal[
    "plumbing", "heating_hot_water", "electricity", "lift", "access_security", "common_areas",
    "pests", "damp_ventilation", "neighbour_disturbance", "rent_charges", "administrative", "other",
]
UbloUrgency = Literal["urgent", "high", "normal"]
UbloRequestStatus = Literal["new", "in_progress", "resolved"]


class _Satellite(BaseModel):
    # A satellite may add fields at any release: ignore them, validate what we use.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class UbloAddress(_Satellite):
    """A property's postal address."""

    street: str = Field(min_length=1, max_length=300)
    postal_code: str = Field(min_length=1, max_length=10)
    city: str = Field(min_length=1, max_length=100)
    insee_code: str | None = Field(default=None, max_length=5)
    ban_key: str | None = Field(default=None, max_length=40)


class UbloDpe(_Satellite):
    """A DPE (energy performance diagnosis): one block, replaced as a whole by a new diagnosis."""

    energy_class: DpeLetter
    ges_class: DpeLetter | None = None
    number: str | None = Field(default=None, max_length=20)
    issued_on: date | None = None


class UbloProperty(_Satellite):
    """A property (the hub's lot) as Ublo sends and returns it."""

    id: Ref
    #: The hub's reference: the canonical lot id it was pushed with.
    external_ref: Ref | None = None
    rpls: str | None = Field(default=None, max_length=20)
    address: UbloAddress
    typology: Literal["T1", "T2", "T3", "T4", "T5", "T6"]
    rooms: int | None = Field(default=None, ge=1, le=20)
    surface_m2: Decimal = Field(gt=0, le=1000, decimal_places=2)
    floor: int | None = Field(default=None, ge=-5, le=80)
    dpe: UbloDpe | None = None
    occupancy: Occupancy
    occupancy_since: date | None = None
    #: The hub's reference of the building (a canonical building id) when the hub pushed it.
    building_ref: Ref | None = None
    residence_name: str | None = Field(default=None, max_length=200)
    construction_year: int | None = Field(default=None, ge=1800, le=2100)
    version: int | None = None


class UbloRequest(_Satellite):
    """A tenant request as Ublo sends and returns it."""

    id: Ref
    #: The hub's reference (canonical request id); null for requests logged in Ublo.
    external_ref: Ref | None = None
    property_id: Ref | None = None
    property_external_ref: Ref | None = None
    channel: UbloChannel
    description: str = Field(min_length=1, max_length=5_000)
    category: UbloCategory | None = None
    urgency: UbloUrgency | None = None
    #: The ERP's tenant code (``LOC-0004567``) when known: the hub writes it, agents may too.
    tenant_ref: Ref | None = None
    status: UbloRequestStatus
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None


class _Webhook(_Satellite):
    event_id: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime


class PropertyUpdatedData(_Satellite):
    """``data`` of ``property.updated``."""

    property: UbloProperty
    changed_fields: list[str] = Field(default_factory=list)
    reason: str | None = None


class UbloPropertyUpdated(_Webhook):
    """``property.updated``: Ublo changed a property's technical data (new DPE, re-measured surface)."""

    event: Literal["property.updated"]
    data: PropertyUpdatedData


class RequestData(_Satellite):
    """``data`` of ``request.created`` and ``request.updated``."""

    request: UbloRequest
    previous_status: UbloRequestStatus | None = None


class UbloRequestCreated(_Webhook):
    """``request.created``: an agent logged a tenant request in Ublo (phone, agency, e-mail)."""

    event: Literal["request.created"]
    data: RequestData


class UbloRequestUpdated(_Webhook):
    """``request.updated``: a request's status changed in Ublo."""

    event: Literal["request.updated"]
    data: RequestData
