"""Store-backed mapping contexts handed to connectors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from canonical_model import kind_of, new_canonical_id
from pivot.store import decisions, golden, tenancy, xref
from pivot.store.decisions import Decision
from pivot.store.tables import GoldenRecord


@dataclass
class LinkBuffer:
    """Links looked up and made by the contexts of one batch, shared by them.

    A batch of deliveries gives each event a context of its own; sharing the buffer lets a
    later event see the links an earlier one made before they are written (in one statement
    with the batch's other writes).
    """

    cache: dict[tuple[str, str, str], str | None] = field(default_factory=dict)
    pending: list[tuple[str, str, str, str]] = field(default_factory=list)


class StoreContext:
    """A :class:`connectors.sdk.MappingContext` over a store session, cached per batch.

    With ``defer_writes`` the new links are kept in memory and written by :meth:`flush`
    later, in one statement, so no write transaction stays open while a satellite is being
    called, and a batch writes its links at once (look-ups see them meanwhile).
    ``before_read(kind)`` runs before every read of golden records of an entity kind (None:
    of any kind; ``"lease"`` for lease periods), so a deferring caller can write what it
    queued of that kind first and the mapping reads its own writes.
    """

    def __init__(
        self, session: Session, system: str, *, defer_writes: bool = False,
        before_read: Callable[[str | None], None] | None = None, links: LinkBuffer | None = None,
    ) -> None:
        self.session = session
        self._system = system
        self._defer = defer_writes
        self._before_read = before_read
        links = links if links is not None else LinkBuffer()
        #: Look-ups already answered in this batch, misses included (a link written
        #: meanwhile by another worker is caught when the deferred links are written).
        self._cache = links.cache
        self.pending_links = links.pending

    @property
    def system(self) -> str:
        """The connector's system name."""
        return self._system

    def lookup(self, entity: str, source_id: str, system: str | None = None) -> str | None:
        """Canonical id of a source id, or None."""
        key = (system or self._system, entity, source_id)
        if key in self._cache:
            return self._cache[key]
        found = self._cache[key] = xref.lookup(self.session, *key)
        return found

    def prefetch(self, keys: Iterable[tuple[str, str, str]]) -> None:
        """Answer the look-ups of ``keys`` (system, entity, source id) now, in a few queries."""
        wanted = {key for key in keys if key not in self._cache}
        if wanted:
            found = xref.lookup_many(self.session, wanted)
            for key in wanted:
                self._cache[key] = found.get(key)

    def link(self, entity: str, source_id: str, canonical_id: str) -> str:
        """Link one of this system's ids to a canonical id (the existing link wins)."""
        return self._link(self._system, entity, source_id, canonical_id)

    def _link(self, system: str, entity: str, source_id: str, canonical_id: str) -> str:
        existing = self.lookup(entity, source_id, system)
        if existing is not None:
            return existing
        if self._defer:
            self.pending_links.append((system, entity, source_id, canonical_id))
            linked = canonical_id
        else:
            linked = xref.link(self.session, system, entity, source_id, canonical_id)
        self._cache[(system, entity, source_id)] = linked
        return linked

    def canonical_id(
        self, entity: str, source_id: str, *, national_ids: Mapping[str, str | None] | None = None
    ) -> str:
        """Canonical id of this system's source id: national ids first, then the xref, else new."""
        nationals = [(kind, value) for kind, value in (national_ids or {}).items() if value]
        if not nationals:
            return self.lookup(entity, source_id) or self.link(
                entity, source_id, new_canonical_id(entity, f"{self._system}|{source_id}"))
        unknown = {kind for kind, _ in nationals} - xref.NATIONAL_IDS
        if unknown:
            raise ValueError(f"not a national id kind: {', '.join(sorted(unknown))}")
        found = next((cid for kind, value in nationals
                      if (cid := self.lookup(entity, value, kind)) is not None), None)
        result = (found or self.lookup(entity, source_id)
                  or new_canonical_id(entity, f"{self._system}|{source_id}"))
        self.link(entity, source_id, result)
        for kind, value in nationals:
            self._link(kind, entity, value, result)
        return result

    def source_id(self, entity: str, canonical_id: str, system: str | None = None) -> str | None:
        """The id ``system`` writes with for a canonical id (its newest current link), or None."""
        wanted = (system or self._system, entity)
        for link_system, link_entity, source, cid in reversed(self.pending_links):
            if cid == canonical_id and (link_system, link_entity) == wanted:
                return source  # linked earlier in this batch, not written yet
        ids = xref.source_ids(self.session, system or self._system, entity, canonical_id,
                              current=True)
        return ids[-1] if ids else None

    def golden(self, canonical_id: str) -> dict[str, Any] | None:
        """Current golden record data (of the survivor, when the record was merged), or None."""
        self._read(kind_of(canonical_id))
        return golden.data_of_survivor(self.session, canonical_id)

    def lease_of_lot(self, lot_id: str, on: date) -> str | None:
        """The lease that held a lot on a day."""
        self._read("lease")
        return tenancy.lease_on(self.session, lot_id, on)

    def lot_of_tenant(self, tenant_id: str, on: date) -> str | None:
        """The lot a tenant (or a record merged into it) holds a lease on, on a day."""
        self._read("lease")
        return tenancy.lot_of_tenant(self.session, tenant_id, on)

    def find(self, entity: str, limit: int = 50, **equals: str) -> list[dict[str, Any]]:
        """Golden records of ``entity`` whose top-level fields equal ``equals``, newest first."""
        self._read(entity)
        query = select(GoldenRecord.data).where(GoldenRecord.entity == entity)
        for name, value in equals.items():
            query = query.where(GoldenRecord.data[name].as_string() == value)
        query = query.order_by(GoldenRecord.updated_at.desc()).limit(limit)
        return [dict(data) for data in self.session.scalars(query)]

    def _read(self, kind: str | None) -> None:
        if self._before_read is not None:
            self._before_read(kind)

    def flush(self, session: Session) -> None:
        """Write the deferred links in ``session`` (see :func:`pivot.store.xref.link_many`)."""
        xref.link_many(session, self.pending_links)
        self.pending_links.clear()


class DeliveryContext(StoreContext):
    """A :class:`connectors.sdk.OutboundContext`: store look-ups plus the satellite client.

    Its reads of golden records and lease periods see what other workers committed up to
    that moment (the session's snapshot is renewed before each), so a delivery retried while
    a record it needs is on its way (:class:`~pivot.errors.NotYetKnown`) sees it once it is
    written. The session must not be in a ``begin()`` block (:meth:`pivot.store.Store.reader`).
    """

    def __init__(
        self, session: Session, system: str, client: httpx.Client, event_id: str,
        event_time: datetime, *, links: LinkBuffer | None = None,
        decisions: list[tuple[str, Decision]] | None = None,
    ) -> None:
        super().__init__(session, system, defer_writes=True, links=links,
                         before_read=lambda _kind: session.rollback())
        self._client = client
        self._event_id = event_id
        self._event_time = event_time
        #: (event id, decision) pairs kept until :meth:`flush` (shared by a batch's contexts).
        self.pending_decisions: list[tuple[str, Decision]] = [] if decisions is None else decisions

    @property
    def client(self) -> httpx.Client:
        """HTTP client of the target satellite."""
        return self._client

    @property
    def event_id(self) -> str:
        """Id of the event being delivered."""
        return self._event_id

    @property
    def event_time(self) -> datetime:
        """When the delivered event happened."""
        return self._event_time

    def idempotency_key(self, step: str = "") -> str:
        """The event id, suffixed with ``step`` when one event makes several writes."""
        return f"{self._event_id}:{step}" if step else self._event_id

    def record_decision(self, decision: Decision) -> None:
        """Keep an AI decision; written with the delivery's links, after the call."""
        self.pending_decisions.append((self._event_id, decision))

    def flush(self, session: Session) -> None:
        """Write the deferred links and decisions in ``session``."""
        self.write(session, LinkBuffer(self._cache, self.pending_links), self.pending_decisions)

    @staticmethod
    def write(session: Session, links: LinkBuffer,
              pending_decisions: list[tuple[str, Decision]]) -> None:
        """Write (and take out) a batch's deferred links and decisions in ``session``.

        Other threads may append meanwhile (a batch's keys are delivered side by side): what
        they add after the copy stays for the next write.
        """
        written = links.pending[:]
        xref.link_many(session, written)
        del links.pending[:len(written)]
        made = pending_decisions[:]
        for event_id, decision in made:
            decisions.record(session, event_id, decision)
        del pending_decisions[:len(made)]
