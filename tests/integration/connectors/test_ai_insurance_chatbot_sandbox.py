"""A certificate sent to the chatbot sandbox, over real HTTP: pushed, translated, fetched, read, checked.

The tenant sends a PDF (drawn by the evaluation-set generator) through ``/sandbox/documents/send``;
the signed webhook reaches a recording hub and is translated by the chatbot connector; the
received request is delivered to the certificate reader pointed at the sandbox, which fetches the
document from ``/api/v1/attachments/{id}`` and checks it against the golden lease; the outcome
goes back to the tenant through the chatbot connector.
"""

from __future__ import annotations

import base64
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from canonical_model.events import (
    InsuranceCertificateReceived,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    RequestReceived,
)
from connectors.ai_insurance import AiInsuranceConnector, AiInsuranceSettings
from connectors.ai_insurance.connector import MODEL_VERSION, landlord_day
from connectors.ai_insurance.make_eval_set import LAYOUTS, Certificate, render
from connectors.chatbot import ChatbotConnector, ChatbotSettings
from connectors.chatbot.sandbox import ChatbotTenant, TenantAddress, create_app
from connectors.sdk.testing import MemoryContext
from pivot.serving import ServerThread
from pivot.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

SECRET = "chatbot-test-secret"
TENANT = "tenant_2b3c4d5e6f708192a3b4c5d6e7f80912"
CO_TENANT = "tenant_4d5e6f708192a3b4c5d6e7f8091a2b3c"
LEASE = "lease_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
LOT = "lot_3e9a1c7d5b2f4e6a8c0d1e2f3a4b5c6d"
BUILDING = "building_7c2e4a9f1b3d5e7a9c1e3f5a7b9d1f3e"
#: The hub's golden records after the ERP load: the Rousseau household's lease on a Lyon lot.
GOLDEN: dict[str, dict[str, Any]] = {
    LEASE: {"id": LEASE, "lot_id": LOT, "holder_ids": [TENANT, CO_TENANT], "start_date": "2019-03-01",
            "end_date": None, "status": "active", "monthly_rent": "512.37", "monthly_charges": "148.00"},
    LOT: {"id": LOT, "building_id": BUILDING, "rpls_id": "69383000412", "typology": "T3",
          "habitable_surface_m2": "64.20", "rooms": 3, "occupancy_status": "occupied"},
    BUILDING: {"id": BUILDING, "name": "Bâtiment A", "floors": 5,
               "address": {"street": "12 rue Paul Bert", "postcode": "69003", "city": "Lyon",
                           "insee_code": "69383"}},
    TENANT: {"id": TENANT, "civility": "Mme", "first_name": "Camille", "last_name": "Rousseau"},
    CO_TENANT: {"id": CO_TENANT, "civility": "M.", "first_name": "Julien", "last_name": "Rousseau"},
}
CAMILLE = ChatbotTenant(
    user_id="CB-USR-004512", civility="Mme", first_name="Camille", last_name="Rousseau",
    phone="+33612457890", email="camille.rousseau@orange.fr",
    address=TenantAddress(line1="12 rue Paul Bert", line2="Bât. A, appt 23", postal_code="69003",
                          city="Lyon"),
    erp_tenant_ref="LOC-0004512",
)


@dataclass
class Recorder:
    """Webhooks the stand-in hub received (signature checked)."""

    url: str = ""
    bodies: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _recording_hub(recorder: Recorder) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/ingest/{connector}")
    async def ingest(connector: str, request: Request) -> JSONResponse:
        body = await request.body()
        try:
            verify(SECRET, body, request.headers.get(TIMESTAMP_HEADER),
                   request.headers.get(SIGNATURE_HEADER), tolerance_s=300)
        except SignatureError:
            return JSONResponse({"error": "bad_signature"}, status_code=401)
        with recorder.lock:
            recorder.bodies.append(body)
            number = len(recorder.bodies)
        return JSONResponse({"ingestion_id": f"ing_{number:04d}"}, status_code=202)

    return app


@pytest.fixture
def hub() -> Iterator[Recorder]:
    recorder = Recorder()
    server = ServerThread(_recording_hub(recorder), name="recording-hub").start()
    recorder.url = server.url
    try:
        yield recorder
    finally:
        server.stop()


@pytest.fixture
def chatbot_url(hub: Recorder) -> Iterator[str]:
    app = create_app(seed=11, hub_url=hub.url, webhook_secret=SECRET, tenants=[CAMILLE],
                     retry_backoff_s=0.01)
    server = ServerThread(app, name="chatbot-sandbox").start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def reader(chatbot_url: str) -> Iterator[AiInsuranceConnector]:
    impl = AiInsuranceConnector(AiInsuranceSettings(base_url=chatbot_url, max_attempts=3,
                                                    initial_wait_s=0, max_wait_s=0))
    try:
        yield impl
    finally:
        impl.close()


@pytest.fixture
def chatbot(chatbot_url: str) -> Iterator[ChatbotConnector]:
    impl = ChatbotConnector(ChatbotSettings(base_url=chatbot_url, max_attempts=3, initial_wait_s=0,
                                            max_wait_s=0))
    try:
        yield impl
    finally:
        impl.close()


def _certificate_pdf(tmp_path: Path, valid_from: date, valid_to: date) -> bytes:
    """A Pacifica certificate of the Rousseau household, drawn by the evaluation-set generator."""
    _, insurer, draw, policy = next(row for row in LAYOUTS if row[0] == "pacifica")
    rng = random.Random(f"{valid_from}:{valid_to}")
    certificate = Certificate(
        insurer=insurer, policy_number=policy(rng),
        people=[("Mme", "Camille", "Rousseau"), ("M.", "Julien", "Rousseau")],
        number="12", street_type="rue", street_name="Paul Bert", complement="Bâtiment A, 3e étage",
        postcode="69003", city="Lyon", valid_from=valid_from, valid_to=valid_to,
        issued=valid_from - timedelta(days=12),
    )
    path = tmp_path / "attestation.pdf"
    render(draw(certificate, rng), path)
    return path.read_bytes()


def _send_and_translate(
    chatbot_url: str, hub: Recorder, chatbot: ChatbotConnector, pdf: bytes
) -> tuple[RequestReceived, MemoryContext, dict[str, Any]]:
    """Send the PDF as Camille, translate the pushed webhook as the hub would."""
    sent = httpx.post(f"{chatbot_url}/sandbox/documents/send", json={
        "user_id": CAMILLE.user_id, "text": "Bonjour, voici notre attestation d'assurance habitation.",
        "filename": "attestation_pacifica.pdf", "content_type": "application/pdf",
        "content_b64": base64.b64encode(pdf).decode(),
    }, timeout=10).json()
    assert sent["accepted"] is True
    (body,) = hub.bodies
    ctx = MemoryContext("chatbot", xref=[["erp", "tenant", CAMILLE.erp_tenant_ref, TENANT]], golden=GOLDEN)
    [request] = chatbot.translate(body, ctx).events
    assert isinstance(request, RequestReceived)
    assert (request.tenant_id, request.lot_id, request.conversation_ref) == (
        TENANT, LOT, sent["conversation_id"])
    assert [(a.id, a.content_type) for a in request.attachments] == [
        (sent["attachment_id"], "application/pdf")]
    return request, ctx, sent


def _hub_view(ctx: MemoryContext, system: str, client: httpx.Client, request: RequestReceived,
              event_id: str) -> MemoryContext:
    """The same hub state (links, golden records) delivering an event to ``system``."""
    links = [[s, entity, source, cid] for (s, entity, source), cid in ctx.links.items()]
    return MemoryContext(system, xref=links, golden=ctx.golden_records, client=client,
                         event_id=event_id, event_time=request.received_at)


def _check(reader: AiInsuranceConnector, request: RequestReceived,
           ctx: MemoryContext) -> tuple[list[Any], MemoryContext]:
    delivering = _hub_view(ctx, "ai_insurance", reader.client, request,
                           "5b0f3c1e-7a2d-4e8f-9c6b-1d2e3f4a5b01")
    return reader.deliver(request, delivering), delivering


def test_a_current_certificate_is_validated_and_the_tenant_told(
    tmp_path: Path, chatbot_url: str, hub: Recorder, chatbot: ChatbotConnector,
    reader: AiInsuranceConnector,
) -> None:
    pdf = _certificate_pdf(tmp_path, date.today() - timedelta(days=60), date.today() + timedelta(days=300))
    request, ctx, sent = _send_and_translate(chatbot_url, hub, chatbot, pdf)

    produced, delivering = _check(reader, request, ctx)
    received, validated = produced
    assert isinstance(received, InsuranceCertificateReceived)
    assert isinstance(validated, InsuranceCertificateValidated)
    assert (validated.lease_id, validated.tenant_id) == (LEASE, TENANT)
    assert validated.insurer == "Crédit Agricole Assurances (Pacifica)"
    assert validated.id == delivering.lookup("insurance_certificate", sent["attachment_id"])
    (decision,) = delivering.decisions
    assert decision.model_version == MODEL_VERSION and decision.subject == validated.id
    assert decision.output["checked_on"] == landlord_day(request.received_at).isoformat()

    # The outcome reaches the tenant through the chatbot (the tenant uses it: linked at translation).
    chatbot.deliver(validated, _hub_view(ctx, "chatbot", chatbot.client, request,
                                         "5b0f3c1e-7a2d-4e8f-9c6b-1d2e3f4a5b02"))
    (note,) = httpx.get(f"{chatbot_url}/sandbox/state").json()["notifications"]
    assert (note["user_id"], note["kind"], note["reference"]) == (
        CAMILLE.user_id, "information", validated.id)
    assert f"valable jusqu'au {validated.valid_to:%d/%m/%Y}" in note["text"]


def test_an_expired_certificate_is_rejected_and_the_tenant_reminded(
    tmp_path: Path, chatbot_url: str, hub: Recorder, chatbot: ChatbotConnector,
    reader: AiInsuranceConnector,
) -> None:
    ended = date.today() - timedelta(days=35)
    pdf = _certificate_pdf(tmp_path, ended - timedelta(days=364), ended)
    request, ctx, _ = _send_and_translate(chatbot_url, hub, chatbot, pdf)

    produced, delivering = _check(reader, request, ctx)
    received, rejected = produced
    assert isinstance(received, InsuranceCertificateReceived)
    assert isinstance(rejected, InsuranceCertificateRejected)
    assert rejected.status == "expired"
    assert rejected.rejection_reason == f"attestation expirée le {ended:%d/%m/%Y}"
    assert delivering.decisions[0].output["status"] == "expired"

    chatbot.deliver(rejected, _hub_view(ctx, "chatbot", chatbot.client, request,
                                        "5b0f3c1e-7a2d-4e8f-9c6b-1d2e3f4a5b03"))
    (note,) = httpx.get(f"{chatbot_url}/sandbox/state").json()["notifications"]
    assert note["kind"] == "reminder" and "expirée" in note["text"]


def test_a_failing_document_store_is_retried_in_place(
    tmp_path: Path, chatbot_url: str, hub: Recorder, chatbot: ChatbotConnector,
    reader: AiInsuranceConnector,
) -> None:
    pdf = _certificate_pdf(tmp_path, date.today() - timedelta(days=10), date.today() + timedelta(days=355))
    request, ctx, _ = _send_and_translate(chatbot_url, hub, chatbot, pdf)
    # Seed 11 draws a 503 for the first download, then serves the second.
    httpx.put(f"{chatbot_url}/sandbox/faults", json={"error_rate": 0.5, "faults_on_reads": True})
    retries: list[int] = []
    reader.on_retry = lambda state: retries.append(state.attempt_number)
    produced, delivering = _check(reader, request, ctx)
    assert [type(e) for e in produced] == [InsuranceCertificateReceived, InsuranceCertificateValidated]
    assert retries == [1] and len(delivering.decisions) == 1
    assert httpx.get(f"{chatbot_url}/sandbox/state").json()["injected"]["errors"] == 1
