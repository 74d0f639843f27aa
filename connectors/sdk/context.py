"""What a mapping may ask of the hub: identifiers through the xref, golden records.

Inbound mappings get a :class:`MappingContext`; outbound deliveries get an
:class:`OutboundContext`, which adds the satellite's HTTP client and the idempotency key.
The hub backs them with the store; tests use :class:`connectors.sdk.testing.MemoryContext`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

import httpx

from pivot.store.decisions import Decision


class MappingContext(Protocol):
    """Identity services for a mapping, scoped to one connector's system."""

    @property
    def system(self) -> str:
        """The connector's system name (the xref's ``system``)."""
        ...

    def canonical_id(
        self, entity: str, source_id: str, *, national_ids: Mapping[str, str | None] | None = None
    ) -> str:
        """Canonical id of this system's ``source_id``; minted and linked when new.

        ``national_ids`` (e.g. ``{"rpls": "692660001234"}``, kinds ``rpls``, ``rnb``, ``siren``)
        are matched first: a record another system already brought with the same national id
        is the same golden record. They are linked to the result for the next system.
        """
        ...

    def lookup(self, entity: str, source_id: str, system: str | None = None) -> str | None:
        """Canonical id of a source id of ``system`` (this one by default), or None."""
        ...

    def source_id(self, entity: str, canonical_id: str, system: str | None = None) -> str | None:
        """The id ``system`` (this one by default) uses for a canonical id, or None."""
        ...

    def link(self, entity: str, source_id: str, canonical_id: str) -> str:
        """Link one of this system's ids to an existing canonical id; return the linked id."""
        ...

    def golden(self, canonical_id: str) -> dict[str, Any] | None:
        """The current golden record's data, or None."""
        ...

    def lease_of_lot(self, lot_id: str, on: date) -> str | None:
        """Canonical id of the lease that held ``lot_id`` on a day (a lot outlives its leases)."""
        ...

    def lot_of_tenant(self, tenant_id: str, on: date) -> str | None:
        """Canonical id of the lot a tenant holds a lease on, on a day, or None."""
        ...

    def find(self, entity: str, limit: int = 50, **equals: str) -> list[dict[str, Any]]:
        """Golden records of ``entity`` whose top-level fields equal ``equals``, newest first."""
        ...


class OutboundContext(MappingContext, Protocol):
    """A mapping context plus what an outbound call needs."""

    @property
    def client(self) -> httpx.Client:
        """HTTP client of the target satellite (base URL and timeouts set)."""
        ...

    @property
    def event_id(self) -> str:
        """Id of the canonical event being delivered."""
        ...

    @property
    def event_time(self) -> datetime:
        """When the delivered event happened (its CloudEvents ``time``): the same on every retry."""
        ...

    def idempotency_key(self, step: str = "") -> str:
        """Idempotency key of a write: the event id, plus ``step`` when one event makes several."""
        ...

    def record_decision(self, decision: Decision) -> None:
        """Keep an AI service's decision (model, version, inputs' hash, output) with the event."""
        ...
