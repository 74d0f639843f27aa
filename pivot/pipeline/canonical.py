"""Turning canonical events into golden-record versions and envelopes for their topics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kafka.producer.future import FutureRecordMetadata
from sqlalchemy.orm import Session

from canonical_model import quality
from canonical_model.events import CanonicalEvent
from canonical_model.schemas import schema_id
from observability.tracing import inject
from pivot import jsoncodec
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import INGESTED_AT, Envelope, event_id
from pivot.pipeline.survivorship import Survivorship
from pivot.store import findings, golden, outbox, tenancy
from pivot.store.tables import utcnow


def carried_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers an event passes on to the events it causes: ingestion time and current trace."""
    carried = {INGESTED_AT: headers[INGESTED_AT]} if INGESTED_AT in headers else {}
    return dict(inject(carried))


def connector_source(connector: str) -> str:
    """CloudEvents ``source`` of a connector."""
    return f"/connectors/{connector}"


@dataclass(frozen=True, slots=True)
class Staged:
    """A canonical event ready to produce, already kept in the outbox."""

    event_id: str
    entity: str
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    def send(self, producer: BusProducer) -> FutureRecordMetadata:
        """Queue it on the producer."""
        return producer.send_raw(self.topic, self.key, self.value, self.headers)


@dataclass(slots=True)
class _Current:
    """A golden record as this transaction sees it."""

    version: int
    data: dict[str, Any]
    stored: bool


@dataclass(frozen=True, slots=True)
class _Pending:
    event: CanonicalEvent
    origin_id: str
    source_id: str | None
    headers: Mapping[str, str]


class Stager:
    """Records canonical events in one transaction, set-based, and keeps what to produce.

    :meth:`add` only queues; :meth:`flush` writes everything queued since the last flush in a
    few statements: golden records and their versions (lineage), lease periods, outbox rows.
    Event ids derive from the origin id (the satellite's event id or the ingestion id), the
    event type and the subject, so translating the same message again yields the same ids and
    the golden record is not versioned twice. With ``survivorship``, fields another system
    masters keep their golden value. Each new version is checked by the quality rules; the
    findings are kept with it and listed in :attr:`findings` (entity, rule, severity).
    """

    def __init__(
        self, session: Session | None, *, connector: str, mapping_version: str,
        survivorship: Survivorship | None = None,
    ) -> None:
        self.session = session
        self.connector = connector
        self.mapping_version = mapping_version
        self.survivorship = survivorship
        self.staged: list[Staged] = []
        self.findings: list[tuple[str, str, str]] = []
        self._pending: list[_Pending] = []
        self._golden: dict[str, _Current] = {}
        self._applied: set[str] = set()

    def add(
        self, events: list[CanonicalEvent], *, origin_id: str, source_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Queue ``events`` caused by one message."""
        carried = dict(headers or {})
        self._pending.extend(_Pending(e, origin_id, source_id, carried) for e in events)

    @property
    def dirty(self) -> bool:
        """True while events wait for :meth:`flush`."""
        return bool(self._pending)

    def holds(self, kind: str | None) -> bool:
        """True while events of entity ``kind`` (None: of any kind) wait for :meth:`flush`."""
        return any(kind is None or p.event.entity_model.kind == kind for p in self._pending)

    def flush(self, session: Session | None = None) -> list[Staged]:
        """Write the queued events; return what they add to :attr:`staged`.

        In ``session`` when given (it becomes the stager's session), else in the one it has.
        """
        if session is not None:
            self.session = session
        pending, self._pending = self._pending, []
        if not pending:
            return []
        session = self.session
        if session is None:
            raise ValueError("Stager.flush needs a session: none was given")
        eids = [event_id(self.connector, p.origin_id, p.event.event_type, p.event.subject)
                for p in pending]
        done = golden.applied(session, set(eids) - self._applied) | self._applied
        unseen = {p.event.subject for p in pending} - self._golden.keys()
        for cid, (version, data) in golden.load(session, unseen).items():
            self._golden[cid] = _Current(version, data, stored=True)
        now = utcnow()
        versions: list[dict[str, Any]] = []
        touched: dict[str, tuple[str, str]] = {}
        periods: dict[str, tenancy.Period] = {}
        found: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        staged: list[Staged] = []
        for item, eid in zip(pending, eids, strict=True):
            event, kind = item.event, item.event.entity_model.kind
            current = self._golden.get(event.subject)
            if self.survivorship is not None and current is not None:
                event = self.survivorship.apply(event, current.data, self.connector)
            data = event.model_dump(mode="json")
            if eid not in done:
                done.add(eid)
                # The entity's state: the event less its event-only fields (what snapshot()
                # validates again, taken from the already validated event).
                snapshot = {name: data[name] for name in event.entity_model.model_fields}
                if current is None:
                    current = self._golden[event.subject] = _Current(0, {}, stored=False)
                current.version += 1
                current.data = snapshot
                touched[event.subject] = (kind, eid)
                versions.append({
                    "canonical_id": event.subject, "version": current.version, "event_id": eid,
                    "event_type": event.event_type, "source_system": self.connector,
                    "source_id": item.source_id, "mapping_version": self.mapping_version,
                    "data": snapshot, "recorded_at": now,
                })
                found.extend({"canonical_id": event.subject, "entity": kind, "event_id": eid,
                              "rule": f.rule, "field": f.field, "severity": f.severity,
                              "message": f.message, "found_at": now}
                             for f in quality.check(event))
                if kind == "lease":
                    end = snapshot.get("end_date")
                    periods[event.subject] = tenancy.Period(
                        snapshot["lot_id"], date.fromisoformat(snapshot["start_date"]),
                        date.fromisoformat(end) if end else None,
                        frozenset(snapshot.get("holder_ids") or ()))
            envelope = Envelope(
                id=eid, type=event.event_type, source=connector_source(self.connector),
                subject=event.subject, dataschema=schema_id(event.event_type),
                data=jsoncodec.dumps(data),
                key=event.subject, headers=dict(item.headers),
            )
            key, value, kafka_headers = envelope.to_kafka()
            topic = topics.canonical(kind)
            rows.append({"event_id": eid, "event_type": event.event_type, "topic": topic,
                         "key": envelope.key, "value": value,
                         "headers": outbox.row_headers(kafka_headers), "created_at": now})
            staged.append(Staged(eid, kind, topic, key, value, kafka_headers))
        self._applied = done
        created, changed = [], []
        for cid, (kind, last) in touched.items():
            current = self._golden[cid]
            row = {"canonical_id": cid, "version": current.version, "data": current.data,
                   "last_event_id": last, "updated_at": now}
            (changed if current.stored else created).append(row if current.stored
                                                            else {**row, "entity": kind})
            current.stored = True
        golden.write_many(session, created, changed, versions)
        tenancy.record_many(session, periods)
        findings.record_many(session, found)
        outbox.add_many(session, rows)
        self.findings.extend((row["entity"], row["rule"], row["severity"]) for row in found)
        self.staged.extend(staged)
        return staged


def stage(
    session: Session,
    events: list[CanonicalEvent],
    *,
    connector: str,
    mapping_version: str,
    origin_id: str,
    source_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    survivorship: Survivorship | None = None,
) -> list[Staged]:
    """Record the events caused by one message now; return what to produce (see :class:`Stager`)."""
    stager = Stager(session, connector=connector, mapping_version=mapping_version,
                    survivorship=survivorship)
    stager.add(events, origin_id=origin_id, source_id=source_id, headers=headers)
    return stager.flush()
