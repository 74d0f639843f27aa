"""Turning canonical events into golden-record versions and envelopes for their topics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from kafka.producer.future import FutureRecordMetadata
from sqlalchemy.orm import Session

from canonical_model.events import CanonicalEvent
from canonical_model.schemas import schema_id
from observability.tracing import inject
from pivot.bus import topics
from pivot.bus.client import BusProducer
from pivot.bus.envelope import INGESTED_AT, Envelope, event_id
from pivot.pipeline.survivorship import Survivorship
from pivot.store import golden, outbox, tenancy


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
    """Record each event in its golden record and the outbox; return what to produce.

    Event ids derive from ``origin_id`` (the satellite's event id or the ingestion id), the
    event type and the subject, so translating the same message again yields the same ids and
    the golden record is not versioned twice. With ``survivorship``, fields another system
    masters keep their golden value.
    """
    staged = []
    for event in events:
        if survivorship is not None:
            current = golden.get(session, event.subject)
            event = survivorship.apply(event, current.data if current else None, connector)
        eid = event_id(connector, origin_id, event.event_type, event.subject)
        snapshot = event.snapshot().model_dump(mode="json")
        applied = golden.apply(
            session, event.subject, event.entity_model.kind, snapshot,
            golden.Lineage(eid, event.event_type, connector, mapping_version, source_id),
        )
        if applied is not None and event.entity_model.kind == "lease":
            end = snapshot.get("end_date")
            tenancy.record(session, event.subject, snapshot["lot_id"],
                           date.fromisoformat(snapshot["start_date"]),
                           date.fromisoformat(end) if end else None,
                           snapshot.get("holder_ids") or ())
        envelope = Envelope(
            id=eid,
            type=event.event_type,
            source=connector_source(connector),
            subject=event.subject,
            dataschema=schema_id(event.event_type),
            data=event.model_dump_json().encode(),
            key=event.subject,
            headers=dict(headers or {}),
        )
        key, value, kafka_headers = envelope.to_kafka()
        topic = topics.canonical(event.entity_model.kind)
        outbox.add(session, eid, event.event_type, topic, envelope.key, value, kafka_headers)
        staged.append(Staged(eid, event.entity_model.kind, topic, key, value, kafka_headers))
    return staged
