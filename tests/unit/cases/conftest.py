"""A tenant's repair request written into the store as the hub records it, step by step.

Rows are written as the stages write them (golden-record versions, outbox rows with their
headers, processed events, xref, AI decisions) at chosen times, so the timeline and the
deadlines can be checked to the second. Ids are fresh per test: on PostgreSQL the tests of a
session share one database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pivot.bus.envelope import event_id as derived_event_id
from pivot.store import Store
from pivot.store.tables import (
    AiDecision,
    GoldenRecord,
    GoldenRecordVersion,
    Outbox,
    ProcessedEvent,
    Xref,
)

#: Tuesday 24 November 2026, 08:29:58 UTC: a tenant writes to the chatbot.
T0 = datetime(2026, 11, 24, 8, 29, 58, tzinfo=UTC)

RECEIVED = "fr.pivot.request.received.v1"
TRIAGED = "fr.pivot.request.triaged.v1"
ANSWERED = "fr.pivot.request.answered.v1"
CREATED = "fr.pivot.intervention.created.v1"
SCHEDULED = "fr.pivot.intervention.scheduled.v1"
STARTED = "fr.pivot.intervention.started.v1"
COMPLETED = "fr.pivot.intervention.completed.v1"
CERT_RECEIVED = "fr.pivot.insurance_certificate.received.v1"
CERT_VALIDATED = "fr.pivot.insurance_certificate.validated.v1"


def traceparent(trace: str) -> str:
    """A sampled W3C traceparent of ``trace``."""
    return f"00-{trace}-{uuid.uuid4().hex[:16]}-01"


@dataclass
class Lineage:
    """Writes what the stages write, at the times given."""

    store: Store
    #: When the tenant's message of :meth:`repair_case` was sent.
    t0 = T0

    def version(
        self, record_id: str, entity: str, event_type: str, system: str, data: dict[str, Any],
        at: datetime, *, event_id: str | None = None, trace: str | None = None,
        row_id: int | None = None,
    ) -> str:
        """A golden-record version and its outbox row (with a traceparent when ``trace``).

        ``row_id`` numbers the version row as given (a transaction that committed late).
        """
        eid = event_id or str(uuid.uuid4())
        with self.store.session() as session:
            record = session.get(GoldenRecord, record_id)
            if record is None:
                record = GoldenRecord(canonical_id=record_id, entity=entity, version=0, data=data,
                                      last_event_id=eid, updated_at=at)
                session.add(record)
            record.version += 1
            record.data, record.last_event_id, record.updated_at = data, eid, at
            session.add(GoldenRecordVersion(
                id=row_id, canonical_id=record_id, version=record.version, event_id=eid,
                event_type=event_type, source_system=system, source_id=None,
                mapping_version="2026.11", data=data, recorded_at=at))
            headers = [["ce_id", eid], ["ce_type", event_type], ["ce_source", f"/connectors/{system}"],
                       ["ce_subject", record_id], ["pivot_ingested_at", str(T0.timestamp())]]
            if trace:
                headers.append(["traceparent", traceparent(trace)])
            session.add(Outbox(event_id=eid, event_type=event_type, topic=f"pivot.canonical.{entity}",
                               key=record_id, value=json.dumps(data).encode(), headers=headers,
                               created_at=at, published_at=at))
        return eid

    def delivered(self, connector: str, event_id: str, at: datetime, outcome: str = "ok") -> None:
        """The deliver stage of ``connector`` applied ``event_id`` at ``at``."""
        with self.store.session() as session:
            session.add(ProcessedEvent(consumer=f"deliver:{connector}", event_id=event_id,
                                       outcome=outcome, processed_at=at))

    def xref(self, system: str, entity: str, source_id: str, canonical_id: str) -> None:
        """A source id of ``system`` linked to a canonical id."""
        with self.store.session() as session:
            session.add(Xref(system=system, entity=entity, source_id=source_id,
                             canonical_id=canonical_id))

    def current(self, record_id: str) -> dict[str, Any]:
        """The golden record's data now."""
        with self.store.read_session() as session:
            record = session.get(GoldenRecord, record_id)
            assert record is not None
            return dict(record.data)

    def new_request(
        self, received_at: datetime, urgency: str | None = "normal", *, system: str = "chatbot",
        **changes: Any,
    ) -> tuple[str, str]:
        """A request received at ``received_at`` (triaged two seconds later when ``urgency``).

        Returns its id and the id of its received event.
        """
        request_id = f"request_{uuid.uuid4().hex}"
        data = request_data(request_id, received_at=received_at.isoformat(), **changes)
        received = self.version(request_id, "request", RECEIVED, system, data,
                                received_at + timedelta(seconds=1))
        if urgency is not None:
            self.version(request_id, "request", TRIAGED, "ai_triage",
                         {**data, "urgency": urgency, "category": "plumbing", "status": "triaged"},
                         received_at + timedelta(seconds=2),
                         event_id=derived_event_id("ai_triage", received, TRIAGED, request_id))
        return request_id, received

    def request_event(self, request_id: str, event_type: str, system: str, at: datetime,
                      **changes: Any) -> str:
        """A new version of a request: its current data with ``changes``."""
        return self.version(request_id, "request", event_type, system,
                            {**self.current(request_id), **changes}, at)

    def intervention_event(self, intervention_id: str, request_id: str, event_type: str,
                           at: datetime, **changes: Any) -> str:
        """A version of an intervention answering ``request_id``."""
        with self.store.read_session() as session:
            record = session.get(GoldenRecord, intervention_id)
            before = dict(record.data) if record else intervention_data(intervention_id, request_id)
        return self.version(intervention_id, "intervention", event_type, "urbest",
                            {**before, **changes}, at)

    def repair_case(self, *, urgency: str = "high", complete: bool = True,
                    t0: datetime = T0) -> RepairCase:
        """A chatbot request that led to a rechargeable repair (see :func:`write_repair_case`)."""
        return write_repair_case(self, urgency=urgency, complete=complete, t0=t0)

    def decision(self, event_id: str, model: str, subject: str, at: datetime) -> None:
        """An AI service's decision, taken while handling ``event_id``."""
        with self.store.session() as session:
            session.add(AiDecision(event_id=event_id, model=model, model_version="2026.11",
                                   input_sha256="0" * 64, subject=subject, output={}, decided_at=at))


@dataclass(frozen=True)
class RepairCase:
    """Ids of a chatbot request that led to a rechargeable repair, billed and notified."""

    request_id: str
    intervention_id: str
    message_id: str
    work_order: str
    ublo_request: str
    received_event: str
    triaged_event: str
    created_event: str
    completed_event: str
    #: Trace of the tenant's message (received, triaged, work order opened).
    trace: str
    #: Trace of the contractor's completion webhook.
    completion_trace: str
    completed_at: datetime


def request_data(request_id: str, **changes: Any) -> dict[str, Any]:
    """A tenant request as its golden record holds it."""
    return {
        "id": request_id, "tenant_id": "tenant_5d41402abc4b2a76b9719d911017c592",
        "lot_id": "lot_7d793037a0760186574b0282f2f435e7", "channel": "whatsapp",
        "text": "Bonjour, fuite sous l'évier de la cuisine, l'eau coule dans le placard.",
        "received_at": T0.isoformat(), "category": None, "urgency": None, "status": "received",
        "intervention_id": None, "conversation_ref": "conv_8a1f0c2e", "intent": "report",
        "attachments": [], **changes,
    }


def intervention_data(intervention_id: str, request_id: str, **changes: Any) -> dict[str, Any]:
    """An intervention as its golden record holds it."""
    return {
        "id": intervention_id, "lot_id": "lot_7d793037a0760186574b0282f2f435e7",
        "building_id": None, "equipment": None, "category": "plumbing", "priority": "high",
        "status": "created", "contractor_siret": "73282932000074", "scheduled_for": None,
        "completed_at": None, "cost": None, "rechargeable_to_tenant": False,
        "request_id": request_id, "title": "Plomberie : fuite ou engorgement",
        "description": "Fuite sous l'évier de la cuisine.", **changes,
    }


def write_repair_case(
    lineage: Lineage, *, urgency: str = "high", complete: bool = True, t0: datetime = T0
) -> RepairCase:
    """Received on WhatsApp at ``t0``, triaged, a work order in Urbest, done and re-billed.

    The appointment is the next day at 9:00, the work done at 10:10; ids are fresh.
    """
    n = uuid.uuid4().hex
    request_id, intervention_id = f"request_{n}", f"intervention_{n}"
    message, work_order, ublo = f"msg_{n[:16]}", f"URB-2026-{int(n[:5], 16):06d}", f"UBL-REQ-{n[:6]}"
    trace, completion_trace = uuid.uuid4().hex, uuid.uuid4().hex
    s = timedelta(seconds=1)

    received = lineage.version(request_id, "request", RECEIVED, "chatbot",
                               request_data(request_id, received_at=t0.isoformat()),
                               t0 + 0.2 * s, trace=trace)
    lineage.xref("chatbot", "request", message, request_id)
    lineage.delivered("chatbot", received, t0 + 0.4 * s)  # acknowledgement
    lineage.delivered("ai_insurance", received, t0 + 0.5 * s)  # no document: nothing
    triaged_data = request_data(request_id, category="plumbing", urgency=urgency, status="triaged",
                                received_at=t0.isoformat())
    triaged = lineage.version(request_id, "request", TRIAGED, "ai_triage", triaged_data, t0 + 0.8 * s,
                              event_id=derived_event_id("ai_triage", received, TRIAGED, request_id),
                              trace=trace)
    lineage.delivered("ai_triage", received, t0 + 0.9 * s)
    lineage.xref("ublo", "request", ublo, request_id)
    lineage.delivered("ublo", received, t0 + 1.0 * s)
    created = lineage.version(
        intervention_id, "intervention", CREATED, "urbest",
        intervention_data(intervention_id, request_id, priority=urgency), t0 + 1.2 * s,
        event_id=derived_event_id("urbest", triaged, CREATED, intervention_id), trace=trace)
    lineage.xref("urbest", "intervention", work_order, intervention_id)
    lineage.delivered("urbest", triaged, t0 + 1.3 * s)
    lineage.delivered("ai_assistant", triaged, t0 + 1.3 * s)  # a report, not a question
    lineage.delivered("chatbot", created, t0 + 1.5 * s)
    appointment = (t0 + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    scheduled = lineage.version(
        intervention_id, "intervention", SCHEDULED, "urbest",
        intervention_data(intervention_id, request_id, status="scheduled",
                          scheduled_for=appointment.isoformat()),
        t0 + timedelta(hours=3), trace=uuid.uuid4().hex)
    lineage.delivered("chatbot", scheduled, t0 + timedelta(hours=3, seconds=1))
    completed_at = appointment + timedelta(minutes=70)
    completed = ""
    if complete:
        lineage.version(intervention_id, "intervention", STARTED, "urbest",
                        intervention_data(intervention_id, request_id, status="started",
                                          scheduled_for=appointment.isoformat()),
                        appointment + timedelta(minutes=5))  # no trace context: no trace id
        completed = lineage.version(
            intervention_id, "intervention", COMPLETED, "urbest",
            intervention_data(intervention_id, request_id, status="completed",
                              scheduled_for=appointment.isoformat(),
                              completed_at=completed_at.isoformat(), cost="185.40",
                              rechargeable_to_tenant=True),
            completed_at + timedelta(minutes=2), trace=completion_trace)
        lineage.delivered("erp", completed, completed_at + timedelta(minutes=2, seconds=1))
        lineage.delivered("chatbot", completed, completed_at + timedelta(minutes=2, seconds=2))
    return RepairCase(request_id, intervention_id, message, work_order, ublo, received, triaged,
                      created, completed, trace, completion_trace, completed_at)


@pytest.fixture
def lineage(store: Store) -> Lineage:
    """Writes the stages' rows into the migrated test store."""
    return Lineage(store)


@pytest.fixture
def own_lineage(own_store_url: str) -> Iterator[Lineage]:
    """The same on a store of its own (the case index reads the whole store)."""
    store = Store(own_store_url)
    store.migrate()
    yield Lineage(store)
    store.dispose()
