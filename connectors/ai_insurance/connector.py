"""The certificate reader on the bus: insurance certificates sent with tenant requests, read and checked.

For a received request carrying documents (PDF or plain text) sent through the document store's
channel (:data:`DOCUMENT_SYSTEM`, the chatbot), each document is fetched from that tool's API
(``GET /api/v1/attachments/{id}``), read offline (:func:`~connectors.ai_insurance.reader.read_certificate`)
and checked (:func:`~connectors.ai_insurance.control.check_certificate`) against the golden records
of the day the request was received: the lease holding the tenant's lot, the address of the lot's
building, the names of the lease holders. Each certificate is published ``received`` (with the
extraction confidence), then ``validated`` or ``rejected`` (``expired`` / ``mismatch``, with a
French reason), and one AI decision is recorded per certificate (model version, SHA-256 of the
document, fields read, outcome).

What cannot become a canonical certificate raises :class:`~pivot.errors.MappingError` (dead
letter with its reason, for a person): a document the reader cannot read (a scan without text
layer, not a certificate) or read only partly (insurer, policy number, address or dates
missing: the canonical certificate requires them, and a guessed one would be a false decision),
and a certificate from a tenant who holds no lease on the day (nothing to check it against).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from canonical_model import Attachment, CertificateStatus
from canonical_model.events import (
    CanonicalEvent,
    InsuranceCertificateReceived,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    RequestReceived,
)
from connectors.ai_insurance.control import addresses_match, check_certificate, names_match
from connectors.ai_insurance.reader import (
    READER_VERSION,
    CertificateReadError,
    ExtractedCertificate,
    read_certificate,
)
from connectors.ai_insurance.settings import AiInsuranceSettings
from connectors.sdk import Connector, Outbound
from connectors.sdk.context import OutboundContext
from pivot.errors import MappingError
from pivot.http import raise_for_status
from pivot.store.decisions import Decision

#: Name of the model in the recorded AI decisions.
MODEL = "insurance_reader"
#: The system whose requests carry documents kept by the document store (``base_url``).
DOCUMENT_SYSTEM = "chatbot"
#: Media types read as certificates (parameters such as ``charset`` ignored).
CERTIFICATE_TYPES = frozenset({"application/pdf", "application/x-pdf", "text/plain"})
#: Largest document read (bytes): a certificate is one or two pages.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

_HERE = Path(__file__).parent


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("reader.py", "control.py"):
        digest.update((_HERE / name).read_bytes())
    return digest.hexdigest()[:10]


#: Version of the decision procedure: the reader's version and a fingerprint of the reader and
#: the control rules (any change to them changes it).
MODEL_VERSION = f"{READER_VERSION}+{_fingerprint()}"

try:
    _LANDLORD_TZ: ZoneInfo | None = ZoneInfo("Europe/Paris")
except ZoneInfoNotFoundError:  # no tz database on the host: UTC days
    _LANDLORD_TZ = None

_ADDRESS = re.compile(r"^\s*(?P<street>.+?)\s*,?\s+(?P<postcode>\d{5})\s+(?P<city>\S.*?)\s*$")
#: The reader names the temporary file it wrote PDF bytes to: noise in a dead letter's reason.
_TEMP_NAME = re.compile(r"^tmp\w*\.pdf: ")
_REQUIRED = (("insurer", "insurer"), ("policy_number", "policy number"),
             ("address", "covered address"), ("valid_from", "start of cover"),
             ("valid_to", "end of cover"))


@dataclass(frozen=True)
class LeaseFacts:
    """What a certificate is checked against: the lease of the day, its holders, the lot's address."""

    lease_id: str
    lot_id: str
    holders: list[str]
    lot_address: str


def landlord_day(moment: datetime) -> date:
    """The landlord's calendar day (Europe/Paris) of a time."""
    return moment.astimezone(_LANDLORD_TZ or UTC).date()


def is_certificate_document(attachment: Attachment) -> bool:
    """Whether an attachment is read as a certificate (a PDF or a plain-text document)."""
    return attachment.content_type.split(";", 1)[0].strip().lower() in CERTIFICATE_TYPES


def lease_facts(event: RequestReceived, ctx: OutboundContext, day: date) -> LeaseFacts:
    """The lease holding the request's lot (else the tenant's) on ``day``, from the golden records.

    Raises:
        MappingError: No lease held the lot that day, or a golden record it needs is missing.

    """
    lot_id = event.lot_id or (ctx.lot_of_tenant(event.tenant_id, day) if event.tenant_id else None)
    lease_id = ctx.lease_of_lot(lot_id, day) if lot_id else None
    if lot_id is None or lease_id is None:
        raise MappingError(
            f"request {event.id}: an insurance certificate was sent but tenant "
            f"{event.tenant_id or '(unidentified)'} holds no lease on {day.isoformat()}: "
            "a person must match it"
        )
    lease, lot = ctx.golden(lease_id), ctx.golden(lot_id)
    if lease is None or lot is None:
        raise MappingError(f"request {event.id}: no golden record of lease {lease_id} or lot {lot_id}")
    building = ctx.golden(str(lot.get("building_id"))) if lot.get("building_id") else None
    address = building.get("address") if building else None
    if not isinstance(address, dict) or not all(address.get(k) for k in ("street", "postcode", "city")):
        raise MappingError(f"request {event.id}: lot {lot_id} has no building address to check against")
    holders = []
    for holder_id in lease.get("holder_ids") or []:
        tenant = ctx.golden(str(holder_id)) or {}
        name = " ".join(str(p) for p in (tenant.get("first_name"), tenant.get("last_name")) if p)
        if name:
            holders.append(name)
    if not holders:
        raise MappingError(f"request {event.id}: no holder name on lease {lease_id} to check against")
    return LeaseFacts(lease_id, lot_id, holders,
                      f"{address['street']}, {address['postcode']} {address['city']}")


def fetch_document(attachment: Attachment, ctx: OutboundContext) -> bytes:
    """The document's bytes from the document store (5xx and timeouts are retried by the base)."""
    response = raise_for_status(ctx.client.get(f"/api/v1/attachments/{quote(attachment.id, safe='')}"))
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise MappingError(f"attachment {attachment.id}: {len(response.content)} bytes, "
                           f"more than the {MAX_DOCUMENT_BYTES} a certificate may have")
    return response.content


def read_document(attachment: Attachment, content: bytes) -> tuple[ExtractedCertificate, dict[str, str]]:
    """Read a document as a certificate; return the fields and the covered address split up.

    Raises:
        MappingError: The document is unreadable, or a field the canonical certificate requires
            (insurer, policy number, covered address, start and end of cover) was not found.

    """
    try:
        extracted = read_certificate(content)
    except CertificateReadError as exc:
        why = _TEMP_NAME.sub("", str(exc))
        raise MappingError(f"attachment {attachment.id} is not a readable certificate: {why}") from exc
    found = extracted.public()
    if not any(found[k] for k in ("insurer", "policy_number", "insured_names", "address",
                                  "valid_from", "valid_to")):
        raise MappingError(f"attachment {attachment.id}: no certificate field found "
                           "(not an insurance certificate?): a person must read it")
    match = _ADDRESS.match(extracted.address or "")
    missing = [label for key, label in _REQUIRED
               if not found[key] or (key == "address" and match is None)]
    if missing or match is None:
        raise MappingError(f"attachment {attachment.id}: certificate read partly, "
                           f"{', '.join(missing)} not found: a person must check it")
    return extracted, match.groupdict()


def rejection_reason(extracted: ExtractedCertificate, facts: LeaseFacts, day: date) -> str:
    """Why a certificate is refused, in French, each failed check named."""
    problems = []
    if not addresses_match(extracted.address, facts.lot_address):
        problems.append(f"l'adresse assurée « {extracted.address} » n'est pas celle du logement "
                        f"« {facts.lot_address} »")
    names = extracted.insured_names
    if not any(names_match(n, h) for n in names for h in facts.holders):
        problems.append(f"aucun assuré ({', '.join(names) or 'nom illisible'}) n'est titulaire du bail "
                        f"({', '.join(facts.holders)})")
    if extracted.valid_to is not None and extracted.valid_to < day:
        problems.append(f"attestation expirée le {extracted.valid_to:%d/%m/%Y}")
    if extracted.valid_from is not None and extracted.valid_from > day:
        problems.append(f"la garantie ne commence que le {extracted.valid_from:%d/%m/%Y}")
    return "; ".join(problems) or "attestation refusée par le contrôle"


def check_document(
    event: RequestReceived, attachment: Attachment, content: bytes, facts: LeaseFacts,
    day: date, ctx: OutboundContext,
) -> tuple[list[CanonicalEvent], Decision]:
    """Read and check one document: its certificate events and the AI decision to record."""
    extracted, address = read_document(attachment, content)
    status, reasons = check_certificate(extracted, facts.holders, facts.lot_address, day)
    certificate_id = ctx.canonical_id("insurance_certificate", attachment.id)
    data: dict[str, Any] = {
        "id": certificate_id, "lease_id": facts.lease_id, "tenant_id": event.tenant_id,
        "insurer": extracted.insurer, "policy_number": extracted.policy_number,
        "insured_names": list(extracted.insured_names), "covered_address": address,
        "valid_from": extracted.valid_from, "valid_to": extracted.valid_to,
        "extraction_confidence": extracted.confidence,
    }
    received = InsuranceCertificateReceived.model_validate({**data, "status": CertificateStatus.RECEIVED})
    reason: str | None = None
    outcome: CanonicalEvent
    if status == CertificateStatus.VALID:
        outcome = InsuranceCertificateValidated.model_validate({**data, "status": status})
    else:
        reason = rejection_reason(extracted, facts, day)
        outcome = InsuranceCertificateRejected.model_validate(
            {**data, "status": status, "rejection_reason": reason})
    decision = Decision(
        model=MODEL, model_version=MODEL_VERSION,
        input_sha256=hashlib.sha256(content).hexdigest(), subject=certificate_id,
        output={"request_id": event.id, "attachment_id": attachment.id,
                "lease_id": facts.lease_id, "checked_on": day.isoformat(),
                "extracted": extracted.public(), "reader_version": extracted.reader_version,
                "status": str(status), "reasons": reasons, "rejection_reason": reason},
    )
    return [received, outcome], decision


def check_certificates(event: RequestReceived, ctx: OutboundContext) -> list[CanonicalEvent]:
    """Read and check the certificates sent with a request; publish what each one is.

    A request without a PDF or text document, or whose documents the document store does not
    keep (another channel), makes no call. Decisions are recorded once every document is read,
    so a retried download records nothing twice.

    Raises:
        MappingError: See the module docstring (unreadable or partial certificate, no lease).

    """
    documents = [a for a in event.attachments if is_certificate_document(a)]
    if not documents or ctx.source_id("request", event.id, system=DOCUMENT_SYSTEM) is None:
        return []
    day = landlord_day(ctx.event_time)
    facts = lease_facts(event, ctx, day)
    contents = [(attachment, fetch_document(attachment, ctx)) for attachment in documents]
    produced: list[CanonicalEvent] = []
    decisions: list[Decision] = []
    for attachment, content in contents:
        events, decision = check_document(event, attachment, content, facts, day, ctx)
        produced.extend(events)
        decisions.append(decision)
    for decision in decisions:
        ctx.record_decision(decision)
    return produced


class AiInsuranceConnector(Connector):
    """Received tenant requests in (from the bus); their insurance certificates, read and checked, out."""

    name = "ai_insurance"
    settings_class = AiInsuranceSettings
    outbound = {
        RequestReceived.event_type: Outbound(
            RequestReceived, check_certificates,
            emits=(InsuranceCertificateReceived, InsuranceCertificateValidated,
                   InsuranceCertificateRejected),
        ),
    }
