"""SQLAlchemy tables of the store. Change them only together with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the store uses."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Xref(Base):
    """One source id of one system, linked to a canonical id for a period."""

    __tablename__ = "xref"
    __table_args__ = (UniqueConstraint("system", "entity", "source_id", name="uq_xref_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(255))
    canonical_id: Mapped[str] = mapped_column(String(64), index=True)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GoldenRecord(Base):
    """The current version of one canonical entity."""

    __tablename__ = "golden_record"

    canonical_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_event_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GoldenRecordVersion(Base):
    """Lineage: every version of a golden record, the event and mapping that produced it."""

    __tablename__ = "golden_record_version"
    __table_args__ = (UniqueConstraint("canonical_id", "version", name="uq_golden_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(128))
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mapping_version: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProcessedEvent(Base):
    """Idempotency: an event id a consumer (``stage:connector``) has applied."""

    __tablename__ = "processed_event"

    consumer: Mapped[str] = mapped_column(String(128), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Ingestion(Base):
    """The journal of accepted payloads: durable before the API answers 202.

    ``published_at`` is set once the broker acknowledged the raw record; rows without it form
    the spool, drained in ``seq`` order when the broker is reachable again.
    """

    __tablename__ = "ingestion"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ingestion_id: Mapped[str] = mapped_column(String(36), unique=True)
    connector: Mapped[str] = mapped_column(String(64), index=True)
    source_key: Mapped[str] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    ingested_at: Mapped[float] = mapped_column(Float)
    #: Trace context of the request that accepted it, so a spooled payload keeps its trace.
    trace_headers: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The webhook's signature: it is its nonce, so the same signed request is accepted once.
    signature: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    #: Set when the translate stage turned it into canonical events (now in the outbox).
    translated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeadLetterReplay(Base):
    """A dead letter that was replayed (so it is not replayed twice by ``--all``)."""

    __tablename__ = "dead_letter_replay"

    connector: Mapped[str] = mapped_column(String(64), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    offset: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: When the letter was written: offsets restart if a memory-only broker restarts.
    failed_at: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    replayed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Outbox(Base):
    """Canonical events as produced, kept until every interested consumer applied them.

    Written in the same transaction as the golden record they version; if the broker loses
    them (a memory-only broker restarting), the hub publishes them again from here.
    """

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(255))
    key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[list[str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class XrefMerge(Base):
    """Two golden records found to be one: the absorbed id now redirects to the survivor."""

    __tablename__ = "xref_merge"

    absorbed_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    survivor_id: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(255))
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Tenancy(Base):
    """A lease's hold on a lot for a period: the lot outlives its leases."""

    __tablename__ = "tenancy"

    lease_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lot_id: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    #: Day the lease ended (departure), None while it runs.
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class LeaseHolder(Base):
    """A tenant holding a lease (the lease's holders, for "which lot is this tenant's")."""

    __tablename__ = "lease_holder"

    lease_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class PollCursor(Base):
    """Where the poll of a satellite resumes: saved once the page it ends is on the bus."""

    __tablename__ = "poll_cursor"

    connector: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AiDecision(Base):
    """One decision of an AI service: model, version, inputs' hash, output (AI Act traceability)."""

    __tablename__ = "ai_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: The event that asked for it: the same event decided again about the same subject
    #: records nothing new.
    event_id: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(128))
    input_sha256: Mapped[str] = mapped_column(String(64))
    #: Canonical id of what was decided about (a request, a certificate).
    subject: Mapped[str] = mapped_column(String(64), index=True)
    output: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("event_id", "model", "subject", name="uq_ai_decision_event"),)


class QualityFinding(Base):
    """A quality rule a golden-record version breaks (kept, not refused: see canonical_model.quality)."""

    __tablename__ = "quality_finding"
    __table_args__ = (UniqueConstraint("event_id", "rule", "field", name="uq_quality_finding_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(String(64), index=True)
    entity: Mapped[str] = mapped_column(String(64))
    #: The event whose version broke the rule.
    event_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(128), index=True)
    field: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(512))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseState(Base):
    """The case index: one row per tenant request, what its lineage says of its deadline.

    Derived from golden-record versions by :mod:`pivot.cases.index`; only ``verdict`` and
    ``breached_at`` are its own: the deadline's verdict, given once (a breach is counted once).
    """

    __tablename__ = "case_state"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    urgency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    deadline_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                       index=True)
    #: The event type that closed it (intervention completed, request answered...).
    closed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: None while the deadline may still be met or missed; then ``met`` or ``breached``.
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    #: When the breach was found (and counted).
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseLink(Base):
    """A record that belongs to a case: an intervention answering it, a certificate it sent."""

    __tablename__ = "case_link"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    entity: Mapped[str] = mapped_column(String(64))


class CaseCursor(Base):
    """How far the case index has read the lineage (one row)."""

    __tablename__ = "case_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Every golden-record version up to this id is in the index.
    version_id: Mapped[int] = mapped_column(Integer)
    #: When the index started: breaches whose deadline passed before are not counted.
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
