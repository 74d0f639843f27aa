"""Survivorship: which system's value a golden record keeps, field by field.

Each connector declares the canonical fields its satellite masters (``Connector.masters``,
e.g. the Ublo-like tool masters a lot's surface and DPE). When another system's event
carries such a field, the golden record's value stands: the ERP's next occupancy change
does not put back the DPE the property team replaced in Ublo. The event is corrected before
it is recorded and published, so the bus and the golden record say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from canonical_model.events import CanonicalEvent
from connectors.sdk.base import Connector


class Survivorship:
    """The master system of each (entity, field) that has one."""

    def __init__(self, connectors: Iterable[Connector | type[Connector]] = ()) -> None:
        self.master: dict[tuple[str, str], str] = {}
        for connector in connectors:
            for entity, fields in connector.masters.items():
                for name in fields:
                    owner = self.master.setdefault((entity, name), connector.name)
                    if owner != connector.name:
                        raise ValueError(f"{entity}.{name} is mastered by both {owner} and "
                                         f"{connector.name}")

    def apply(
        self, event: CanonicalEvent, golden: Mapping[str, Any] | None, system: str
    ) -> CanonicalEvent:
        """``event`` with the fields another system masters taken from the golden record."""
        if not golden or not self.master:
            return event
        entity = event.entity_model.kind
        kept = {name: golden[name] for (kind, name), owner in self.master.items()
                if kind == entity and owner != system and golden.get(name) is not None
                and name in type(event).model_fields}
        if not kept:
            return event
        current = event.model_dump(mode="json")
        if all(current.get(k) == v for k, v in kept.items()):
            return event
        return type(event).model_validate({**current, **kept})
