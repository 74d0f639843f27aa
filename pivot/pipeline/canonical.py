"""Turning canonical events into golden-record versions and envelopes for their topics."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from canonical_model.events import CanonicalEvent
from canonical_model.schemas import schema_id
from pivot.bus import topics
from pivot.bus.envelope import Envelope, event_id
from pivot.store import golden


def connector_source(connector: str) -> str:
    """CloudEvents ``source`` of a connector."""
    return f"/connectors/{connector}"


def stage(
    session: Session,
    events: list[CanonicalEvent],
    *,
    connector: str,
    mapping_version: str,
    origin_id: str,
    source_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> list[tuple[str, Envelope]]:
    """Record each event in its golden record and return (topic, envelope) pairs to produce.

    Event ids derive from ``origin_id`` (the satellite's event id or the ingestion id), the
    event type and the subject, so translating the same message again yields the same ids and
    the golden record is not versioned twice.
    """
    staged = []
    for event in events:
        eid = event_id(connector, origin_id, event.event_type, event.subject)
        golden.apply(
            session,
            event.subject,
            event.entity_model.kind,
            event.snapshot().model_dump(mode="json"),
            golden.Lineage(eid, event.event_type, connector, mapping_version, source_id),
        )
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
        staged.append((topics.canonical(event.entity_model.kind), envelope))
    return staged
