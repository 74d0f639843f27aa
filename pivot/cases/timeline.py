"""A case's timeline, across systems, from what the store already records.

* the request's golden-record versions (received from the chatbot or Ublo, triaged by the AI,
  answered, closed) and those of the records of its case: the interventions whose
  ``request_id`` is the request (opened, scheduled, started, completed with their cost,
  cancelled), the certificates an AI service read from it (its decisions name them);
* the deliveries of those events to satellites: the ``deliver:<connector>`` rows of the
  processed events, at the time they were applied (the acknowledgement sent to the tenant,
  the request filed in Ublo, the billing line written in the ERP, the notices sent...);
* the trace id of each event, from the W3C ``traceparent`` kept with it in the outbox.

A delivery that published events (the triage, the work order opened in Urbest) is shown by
those events; one that had nothing to do (no bill for a free repair, no notice to a tenant who
did not write through the chatbot) is left out, unless everything is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from canonical_model.events import (
    InsuranceCertificateReceived,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    InterventionCancelled,
    InterventionCompleted,
    InterventionCreated,
    InterventionScheduled,
    InterventionStarted,
    RequestAnswered,
    RequestClosed,
    RequestReceived,
    RequestTriaged,
    RequestUpdated,
)
from pivot.bus.envelope import event_id as derived_event_id
from pivot.cases.deadlines import (
    FINISHED_REQUEST,
    CaseSummary,
    Version,
    aware,
    parse_time,
    summarize,
)
from pivot.errors import PivotError
from pivot.settings import CasesSettings
from pivot.store import xref
from pivot.store.tables import (
    AiDecision,
    CaseLink,
    GoldenRecord,
    GoldenRecordVersion,
    Outbox,
    ProcessedEvent,
    Xref,
    utcnow,
)

#: Entities a source id given to ``pivot case show`` may name.
CASE_ENTITIES = ("request", "intervention", "insurance_certificate")

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_CHUNK = 500


class UnknownCase(PivotError):
    """No case matches the id given (or several do)."""

    kind = "unknown_case"


def trace_id(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header; None when absent, malformed or all zeros."""
    match = _TRACEPARENT.fullmatch((traceparent or "").strip().lower())
    if match is None or set(match[1]) == {"0"}:
        return None
    return match[1]


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(set(values))
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def load_versions(session: Session, record_ids: Iterable[str]) -> list[Version]:
    """Every version of these golden records, oldest first."""
    found: list[Version] = []
    for chunk in _chunks(record_ids):
        for row in session.execute(
            select(GoldenRecordVersion.id, GoldenRecordVersion.canonical_id,
                   GoldenRecordVersion.event_id, GoldenRecordVersion.event_type,
                   GoldenRecordVersion.source_system, GoldenRecordVersion.data,
                   GoldenRecordVersion.recorded_at)
            .where(GoldenRecordVersion.canonical_id.in_(chunk))
        ):
            found.append(Version(row.id, row.canonical_id, row.event_id, row.event_type,
                                 row.source_system, dict(row.data or {}), aware(row.recorded_at)))
    return sorted(found, key=lambda v: v.id)


def trace_ids(session: Session, event_ids: Iterable[str]) -> dict[str, str | None]:
    """The trace id of each event, read from the ``traceparent`` its outbox row keeps."""
    traces: dict[str, str | None] = {}
    for chunk in _chunks(event_ids):
        for eid, headers in session.execute(
            select(Outbox.event_id, Outbox.headers).where(Outbox.event_id.in_(chunk))
        ):
            parent = next((value for name, value in headers or [] if name == "traceparent"), None)
            traces[eid] = trace_id(parent)
    return traces


def related_records(session: Session, request_id: str, request_events: Iterable[str]) -> dict[str, str]:
    """Records of a request's case (id → entity), found from the records themselves.

    The interventions whose ``request_id`` is the request, and the records an AI service
    decided about while handling one of the request's events (the certificates it sent).
    """
    related = {cid: "intervention" for cid in session.scalars(
        select(GoldenRecord.canonical_id).where(
            GoldenRecord.entity == "intervention",
            GoldenRecord.data["request_id"].as_string() == request_id,
        ))}
    subjects: set[str] = set()
    for chunk in _chunks(request_events):
        subjects.update(session.scalars(select(AiDecision.subject).where(
            AiDecision.event_id.in_(chunk), AiDecision.subject != request_id)))
    for chunk in _chunks(subjects):
        related.update({cid: entity for cid, entity in session.execute(
            select(GoldenRecord.canonical_id, GoldenRecord.entity)
            .where(GoldenRecord.canonical_id.in_(chunk), GoldenRecord.entity != "request"))})
    return related


def case_of(session: Session, canonical_id: str) -> str | None:
    """The request whose case a canonical id (request, intervention, certificate) belongs to."""
    record = session.get(GoldenRecord, canonical_id)
    if record is None:
        return None
    if record.entity == "request":
        return canonical_id
    if record.entity == "intervention" and record.data.get("request_id"):
        return str(record.data["request_id"])
    linked = session.scalar(select(CaseLink.request_id).where(CaseLink.record_id == canonical_id))
    if linked is not None:
        return linked
    return session.scalar(
        select(GoldenRecordVersion.canonical_id)
        .join(AiDecision, AiDecision.event_id == GoldenRecordVersion.event_id)
        .where(AiDecision.subject == canonical_id,
               GoldenRecordVersion.event_type.like("fr.pivot.request.%"))
        .limit(1)
    )


def find_case(session: Session, ident: str, systems: Iterable[str]) -> str:
    """The request id of the case ``ident`` names: a canonical id, or a source id of a system.

    A source id is looked up in the xref of each of ``systems`` as a request, an intervention
    or a certificate (a chatbot message id, an Urbest work order number...).

    Raises:
        UnknownCase: Nothing matches, or source ids of several cases do.

    """
    direct = case_of(session, ident)
    if direct is not None:
        return direct
    found: dict[str, str] = {}
    for system in systems:
        for entity in CASE_ENTITIES:
            canonical = xref.lookup(session, system, entity, ident)
            request = case_of(session, canonical) if canonical else None
            if request is not None:
                found.setdefault(request, f"{system} {entity}")
    if not found:
        raise UnknownCase(f"no case for {ident!r}: not a request, intervention or certificate id, "
                          "nor a source id of one in the xref")
    if len(found) > 1:
        which = ", ".join(f"{where} → {request}" for request, where in found.items())
        raise UnknownCase(f"{ident!r} names several cases ({which}): give the canonical id")
    return next(iter(found))


# ------------------------------------------------------------------------- plain words


@dataclass(frozen=True, slots=True)
class Facts:
    """What the wording of a step needs to know about the case."""

    #: Source ids of the request in each system (``chatbot``: the message id...).
    request_ids: Mapping[str, list[str]]

    def via(self, system: str) -> bool:
        """Whether the request is known to ``system`` (came through it, or was filed there)."""
        return bool(self.request_ids.get(system))


def _money(data: Mapping[str, Any]) -> str | None:
    cost = data.get("cost")
    return f"{cost} EUR" if cost not in (None, "", "0", "0.00") else None


def _when(value: Any) -> str:
    moment = parse_time(value)
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "a date to agree"


def _completed(data: Mapping[str, Any]) -> str:
    words = "work completed"
    cost = _money(data)
    if cost:
        words += f", {cost}"
    if data.get("rechargeable_to_tenant"):
        words += ", rechargeable to the tenant"
    return words


def _answered(data: Mapping[str, Any]) -> str:
    return "question answered" if data.get("status") in FINISHED_REQUEST else "question handed to an agent"


def _triaged(data: Mapping[str, Any]) -> str:
    words = f"triaged {data.get('urgency') or '?'}: {data.get('category') or 'uncategorised'}"
    return words + (", a question" if data.get("intent") == "question" else "")


#: How each recorded event reads in a timeline: (version's data, system) → words.
RECORD_STEPS: dict[str, Callable[[Mapping[str, Any], str], str]] = {
    RequestReceived.event_type: lambda d, s: f"request received via {d.get('channel') or s}",
    RequestTriaged.event_type: lambda d, _s: _triaged(d),
    RequestAnswered.event_type: lambda d, _s: _answered(d),
    RequestUpdated.event_type: lambda d, _s: f"request updated: {d.get('status')}",
    RequestClosed.event_type: lambda d, _s: f"request {d.get('status')}",
    InterventionCreated.event_type: lambda d, s: (
        f"work order opened in {s}: {d.get('title')} (priority {d.get('priority')})"),
    InterventionScheduled.event_type: lambda d, _s: f"appointment set for {_when(d.get('scheduled_for'))}",
    InterventionStarted.event_type: lambda _d, _s: "work started",
    InterventionCompleted.event_type: lambda d, _s: _completed(d),
    InterventionCancelled.event_type: lambda _d, _s: "work order cancelled",
    InsuranceCertificateReceived.event_type: lambda d, _s: f"insurance certificate read ({d.get('insurer')})",
    InsuranceCertificateValidated.event_type: lambda d, _s: (
        f"certificate accepted, valid until {d.get('valid_to')}"),
    InsuranceCertificateRejected.event_type: lambda d, _s: f"certificate refused: {d.get('status')}",
}

DeliveryWords = Callable[[Mapping[str, Any], Facts], str | None]


def _billed(data: Mapping[str, Any], _facts: Facts) -> str | None:
    cost = _money(data)
    if not (data.get("rechargeable_to_tenant") and cost):
        return None  # nothing to bill: no call
    return f"billing line written in the ERP: {cost}"


def _told_completed(data: Mapping[str, Any], facts: Facts) -> str | None:
    if not facts.via("chatbot"):
        return None
    if data.get("rechargeable_to_tenant") and _money(data):
        return f"tenant told the work is done and {_money(data)} recharged"
    return "tenant told the work is done"


def _always(words: str | None) -> DeliveryWords:
    return lambda _d, _facts: words


def _to_chatbot_tenant(words: str) -> DeliveryWords:
    return lambda _d, facts: words if facts.via("chatbot") else None


#: What a delivery did, by (connector, event type); None: nothing (no call was made).
#: Deliveries not listed read "delivered to <connector>".
DELIVERY_STEPS: dict[tuple[str, str], DeliveryWords] = {
    ("chatbot", RequestReceived.event_type): _to_chatbot_tenant("acknowledgement sent to the tenant"),
    ("chatbot", InterventionCreated.event_type): _to_chatbot_tenant("tenant told a work order is opened"),
    ("chatbot", InterventionScheduled.event_type): _to_chatbot_tenant("tenant told the appointment"),
    ("chatbot", InterventionCompleted.event_type): _told_completed,
    ("chatbot", RequestAnswered.event_type): lambda d, f: (
        None if not f.via("chatbot") else "answer sent to the tenant"
        if d.get("status") in FINISHED_REQUEST else "tenant told an agent takes the question over"),
    ("chatbot", InsuranceCertificateValidated.event_type): _to_chatbot_tenant(
        "tenant told the certificate is accepted"),
    ("chatbot", InsuranceCertificateRejected.event_type): _to_chatbot_tenant(
        "tenant told what is wrong with the certificate"),
    ("ublo", RequestReceived.event_type): lambda d, f: (
        "request filed in Ublo" if d.get("lot_id") and f.via("ublo") else None),
    ("erp", InterventionCompleted.event_type): _billed,
    ("erp", InsuranceCertificateValidated.event_type): _always("insurance status written on the ERP lease"),
    ("erp", InsuranceCertificateRejected.event_type): _always("insurance status written on the ERP lease"),
    # The AI services and the work-order tool act by publishing events (shown as such).
    ("ai_triage", RequestReceived.event_type): _always(None),
    ("ai_insurance", RequestReceived.event_type): _always(None),
    ("ai_assistant", RequestTriaged.event_type): _always(None),
    ("urbest", RequestTriaged.event_type): _always(None),
}


def record_step(version: Version) -> str:
    """A recorded event in plain words."""
    words = RECORD_STEPS.get(version.event_type)
    if words is not None:
        return words(version.data, version.source_system)
    entity, _, verb = version.event_type.removeprefix("fr.pivot.").rpartition(".v")[0].partition(".")
    return f"{entity.replace('_', ' ')} {verb.replace('_', ' ')}"


def delivery_step(connector: str, delivered: Version, facts: Facts) -> str | None:
    """What delivering an event to a connector did, in plain words; None when nothing."""
    words = DELIVERY_STEPS.get((connector, delivered.event_type))
    if words is None:
        return f"delivered to {connector}"
    return words(delivered.data, facts)


# ------------------------------------------------------------------------- the case


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a timeline."""

    at: datetime
    system: str
    step: str
    event_type: str
    event_id: str
    trace_id: str | None
    record_id: str
    kind: Literal["record", "delivery"]
    #: The event whose delivery published this one (the triage of a received request...).
    caused_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"at": self.at.isoformat(), "system": self.system, "step": self.step,
                "event_type": self.event_type, "event_id": self.event_id,
                "trace_id": self.trace_id, "record_id": self.record_id, "kind": self.kind,
                "caused_by": self.caused_by}


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A record of the case: the request, an intervention, a certificate."""

    id: str
    entity: str
    status: str | None
    #: Its ids in each system.
    source_ids: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"id": self.id, "entity": self.entity, "status": self.status, "ids": self.source_ids}


@dataclass(frozen=True, slots=True)
class Case:
    """A tenant request followed across systems, with its deadline."""

    summary: CaseSummary
    #: The request's channel, category and intent (never its text).
    request: dict[str, Any]
    records: list[CaseRecord]
    entries: list[Entry]
    now: datetime

    @property
    def id(self) -> str:
        """The case id: the request's canonical id."""
        return self.summary.request_id

    def as_dict(self) -> dict[str, Any]:
        """The JSON object ``pivot case show --json`` prints."""
        s = self.summary
        return {
            "case": self.id,
            "request": self.request,
            "records": [r.as_dict() for r in self.records],
            "deadline": {
                "urgency": s.urgency_label,
                "hours": round((s.deadline_at - s.received_at).total_seconds() / 3600, 2),
                "received_at": s.received_at.isoformat(),
                "at": s.deadline_at.isoformat(),
                "closed_at": s.closed_at.isoformat() if s.closed_at else None,
                "closed_by": s.closed_by,
                "status": s.verdict(self.now).value,
                "overdue": s.overdue(self.now),
            },
            "timeline": [e.as_dict() for e in self.entries],
        }


def _source_ids(session: Session, record_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    ids: dict[str, dict[str, list[str]]] = {}
    for chunk in _chunks(record_ids):
        for system, source_id, canonical in session.execute(
            select(Xref.system, Xref.source_id, Xref.canonical_id)
            .where(Xref.canonical_id.in_(chunk)).order_by(Xref.id)
        ):
            ids.setdefault(canonical, {}).setdefault(system, []).append(source_id)
    return ids


def _deliveries(session: Session, event_ids: Iterable[str]) -> list[tuple[str, str, str, datetime]]:
    rows: list[tuple[str, str, str, datetime]] = []
    for chunk in _chunks(event_ids):
        for consumer, eid, outcome, at in session.execute(
            select(ProcessedEvent.consumer, ProcessedEvent.event_id, ProcessedEvent.outcome,
                   ProcessedEvent.processed_at)
            .where(ProcessedEvent.event_id.in_(chunk), ProcessedEvent.consumer.like("deliver:%"))
        ):
            rows.append((consumer.removeprefix("deliver:"), eid, outcome, aware(at)))
    return rows


def build_case(
    session: Session, request_id: str, settings: CasesSettings, *, now: datetime | None = None,
    everything: bool = False,
) -> Case | None:
    """The case of a request (None when the store has no such request).

    With ``everything``, deliveries that did nothing or published events are listed too.
    """
    now = aware(now or utcnow())
    request_versions = [v for v in load_versions(session, [request_id]) if v.entity == "request"]
    if not request_versions:
        return None
    related = related_records(session, request_id, [v.event_id for v in request_versions])
    linked = load_versions(session, related)
    summary = summarize(request_id, request_versions, linked, settings)
    assert summary is not None  # there are versions
    versions = request_versions + linked
    by_event = {v.event_id: v for v in versions}
    traces = trace_ids(session, by_event)
    sources = _source_ids(session, [request_id, *related])
    facts = Facts(sources.get(request_id, {}))

    caused_by: dict[str, str] = {}
    entries: list[Entry] = []
    for connector, eid, outcome, at in _deliveries(session, by_event):
        delivered = by_event[eid]
        produced = [v for v in versions if v.source_system == connector
                    and v.event_id == derived_event_id(connector, eid, v.event_type, v.record_id)]
        for version in produced:
            caused_by[version.event_id] = eid
        step = None if outcome == "skipped" or produced else delivery_step(connector, delivered, facts)
        if step is None:
            if not everything:
                continue
            if outcome == "skipped":
                step = "skipped: its own change"
            elif produced:
                step = "published " + ", ".join(v.event_type for v in produced)
            else:
                step = "processed: nothing to do"
        entries.append(Entry(at, connector, step, delivered.event_type, eid, traces.get(eid),
                             delivered.record_id, "delivery"))
    for version in versions:
        entries.append(Entry(version.recorded_at, version.source_system, record_step(version),
                             version.event_type, version.event_id, traces.get(version.event_id),
                             version.record_id, "record", caused_by.get(version.event_id)))
    entries.sort(key=lambda e: (e.at, e.kind == "delivery"))

    latest: dict[str, Version] = {v.record_id: v for v in versions}
    request = latest[request_id].data
    records = [CaseRecord(request_id, "request", latest[request_id].status, sources.get(request_id, {}))]
    records += [CaseRecord(rid, entity, latest[rid].status if rid in latest else None,
                           sources.get(rid, {}))
                for rid, entity in sorted(related.items(), key=lambda item: (item[1], item[0]))]
    return Case(
        summary=summary,
        request={"channel": request.get("channel"), "category": request.get("category"),
                 "intent": request.get("intent"), "status": request.get("status"),
                 "lot_id": request.get("lot_id"), "tenant_id": request.get("tenant_id")},
        records=records, entries=entries, now=now,
    )
