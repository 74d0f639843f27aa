"""Data-quality findings: what is wrong with a canonical record, without refusing it.

:func:`check` runs two families of rules over any canonical model (entity or event):

* identifier rules — every field typed with an identifier type (``x-identifier`` marker) is checked
  with :func:`~canonical_model.identifiers.validate_identifier`, nested models and lists included;
  rule ``identifier.<kind>.invalid``;
* entity rules — coherence rules of one entity, declared in :data:`ENTITY_RULES`.

A finding is data (stored next to the golden record, shown to data stewards); a failing rule never
raises out of :func:`check`.
"""

from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel

from canonical_model.base import CanonicalEntity, CanonicalModel
from canonical_model.entities.insurance import InsuranceCertificate
from canonical_model.entities.intervention import Intervention
from canonical_model.entities.lease import Lease
from canonical_model.entities.patrimoine import DpeClass, Lot, Typology
from canonical_model.identifiers import IDENTIFIER_SCHEMA_KEY, validate_identifier
from canonical_model.introspection import nested_models, schema_marker

Severity = Literal["warning", "error"]


class QualityFinding(CanonicalModel):
    """One quality problem found on a record."""

    rule: str
    """Rule id, dotted, e.g. ``identifier.siret.invalid``."""
    field: str
    """Dotted path of the field concerned (``""`` for the whole record)."""
    message: str
    """What is wrong, in one line, without personal data beyond the checked identifier."""
    severity: Severity
    """``error``: the value is wrong; ``warning``: it is suspicious."""


EntityRule = Callable[[Any], Iterator[QualityFinding]]


def _lease_dates(lease: Lease) -> Iterator[QualityFinding]:
    if lease.end_date is not None and lease.end_date <= lease.start_date:
        yield QualityFinding(
            rule="lease.dates.end_before_start",
            field="end_date",
            message=f"lease ends on {lease.end_date} but starts on {lease.start_date}",
            severity="error",
        )
    notice = lease.notice_date
    if notice is not None and (
        notice < lease.start_date or (lease.end_date is not None and notice > lease.end_date)
    ):
        yield QualityFinding(
            rule="lease.notice_date.outside_lease",
            field="notice_date",
            message=(
                f"notice given on {notice}, outside the lease "
                f"({lease.start_date} to {lease.end_date or 'open-ended'})"
            ),
            severity="error",
        )


def _certificate_validity(certificate: InsuranceCertificate) -> Iterator[QualityFinding]:
    if certificate.valid_to <= certificate.valid_from:
        yield QualityFinding(
            rule="insurance_certificate.validity.inverted",
            field="valid_to",
            message=(f"cover ends on {certificate.valid_to}, not after its start {certificate.valid_from}"),
            severity="error",
        )


# Plausible habitable surfaces by typology, in m² (social housing, wide on purpose).
SURFACE_RANGES: MappingProxyType[Typology, tuple[Decimal, Decimal]] = MappingProxyType(
    {
        Typology.T1: (Decimal(9), Decimal(50)),
        Typology.T2: (Decimal(25), Decimal(75)),
        Typology.T3: (Decimal(40), Decimal(100)),
        Typology.T4: (Decimal(55), Decimal(125)),
        Typology.T5: (Decimal(65), Decimal(150)),
        Typology.T6: (Decimal(75), Decimal(250)),
    }
)
DECENCY_MINIMUM_M2 = Decimal(9)
"""Below 9 m² habitable a dwelling is not decent (décret n° 2002-120, art. 4)."""


def _lot_surface(lot: Lot) -> Iterator[QualityFinding]:
    surface = lot.habitable_surface_m2
    if surface <= 0:
        yield QualityFinding(
            rule="lot.surface.not_positive",
            field="habitable_surface_m2",
            message=f"habitable surface is {surface} m²",
            severity="error",
        )
        return
    if surface < DECENCY_MINIMUM_M2:
        yield QualityFinding(
            rule="lot.surface.below_decency_minimum",
            field="habitable_surface_m2",
            message=f"habitable surface {surface} m² is below the 9 m² decency minimum",
            severity="error",
        )
        return
    low, high = SURFACE_RANGES[lot.typology]
    if not low <= surface <= high:
        yield QualityFinding(
            rule="lot.surface.implausible_for_typology",
            field="habitable_surface_m2",
            message=f"{surface} m² is unusual for a {lot.typology} (expected {low} to {high} m²)",
            severity="warning",
        )


def _lot_rooms(lot: Lot) -> Iterator[QualityFinding]:
    expected = int(str(lot.typology)[1:])
    if lot.rooms < expected or (lot.typology != Typology.T6 and lot.rooms > expected):
        yield QualityFinding(
            rule="lot.rooms.typology_mismatch",
            field="rooms",
            message=f"a {lot.typology} has {expected} main rooms, got {lot.rooms}",
            severity="warning",
        )


def _lot_energy_class(lot: Lot) -> Iterator[QualityFinding]:
    if lot.dpe_energy_class == DpeClass.G:
        yield QualityFinding(
            rule="lot.dpe.class_g",
            field="dpe_energy_class",
            message="DPE class G dwellings are not decent for new leases since 2025-01-01",
            severity="warning",
        )


def _intervention_links(intervention: Intervention) -> Iterator[QualityFinding]:
    if intervention.lot_id is None and intervention.building_id is None:
        yield QualityFinding(
            rule="intervention.location.missing",
            field="",
            message="intervention has neither a lot nor a building",
            severity="warning",
        )
    if intervention.rechargeable_to_tenant and intervention.cost is None:
        yield QualityFinding(
            rule="intervention.rechargeable.without_cost",
            field="cost",
            message="intervention is rechargeable to the tenant but has no cost",
            severity="warning",
        )


def _id_prefix(entity: CanonicalEntity) -> Iterator[QualityFinding]:
    if not entity.id.startswith(f"{entity.kind}_"):
        yield QualityFinding(
            rule="entity.id.kind_prefix",
            field="id",
            message=f"canonical id {entity.id!r} does not start with {entity.kind + '_'!r}",
            severity="warning",
        )


ENTITY_RULES: tuple[tuple[type[BaseModel], EntityRule], ...] = (
    (CanonicalEntity, _id_prefix),
    (Lease, _lease_dates),
    (InsuranceCertificate, _certificate_validity),
    (Lot, _lot_surface),
    (Lot, _lot_rooms),
    (Lot, _lot_energy_class),
    (Intervention, _intervention_links),
)
"""Entity rules: (model class the rule applies to, including subclasses and events; rule)."""


@cache
def _field_plan(model_cls: type[BaseModel]) -> tuple[tuple[str, str | None, bool], ...]:
    """(field name, identifier kind or None, may hold nested models) for each field."""
    return tuple(
        (
            name,
            schema_marker(field, IDENTIFIER_SCHEMA_KEY),
            bool(nested_models(field.annotation)),
        )
        for name, field in model_cls.model_fields.items()
    )


def _identifier_findings(kind: str, value: Any, path: str) -> Iterator[QualityFinding]:
    if value is None:
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _identifier_findings(kind, item, f"{path}.{index}")
        return
    problem = validate_identifier(kind, value)
    if problem is not None:
        yield QualityFinding(rule=f"identifier.{kind}.invalid", field=path, message=problem, severity="error")


def _walk(model: BaseModel, prefix: str) -> Iterator[QualityFinding]:
    for name, kind, nested in _field_plan(type(model)):
        value = getattr(model, name, None)
        path = prefix + name
        if kind is not None:
            yield from _identifier_findings(kind, value, path)
        if nested:
            yield from _walk_value(value, path)


def _walk_value(value: Any, path: str) -> Iterator[QualityFinding]:
    if isinstance(value, BaseModel):
        yield from _walk(value, path + ".")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk_value(item, f"{path}.{index}")


def _guarded(rule: Callable[[], Iterator[QualityFinding]], name: str) -> list[QualityFinding]:
    try:
        return list(rule())
    except Exception as error:  # a broken rule is itself a finding, never a crash
        return [
            QualityFinding(
                rule="quality.rule_failed",
                field="",
                message=f"rule {name} failed: {type(error).__name__}: {error}",
                severity="error",
            )
        ]


def check(entity: CanonicalModel) -> list[QualityFinding]:
    """Run every quality rule that applies to a canonical record.

    Args:
        entity: An entity, an event, or any canonical model.

    Returns:
        The findings, identifier findings first then entity rules in declaration order; an empty
        list when the record is clean. Never raises.

    """
    findings = _guarded(lambda: _walk(entity, ""), "identifiers")
    for model_cls, rule in ENTITY_RULES:
        if isinstance(entity, model_cls):
            findings.extend(_guarded(lambda rule=rule: rule(entity), rule.__name__))
    return findings
