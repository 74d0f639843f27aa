"""The certificate reader on the bus: documents fetched, read, checked against the lease, decided once."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from canonical_model.events import (
    InsuranceCertificateReceived,
    InsuranceCertificateRejected,
    InsuranceCertificateValidated,
    RequestReceived,
)
from connectors.ai_insurance import AiInsuranceConnector, AiInsuranceSettings
from connectors.ai_insurance.connector import MODEL, MODEL_VERSION, landlord_day
from connectors.ai_insurance.make_eval_set import LAYOUTS, Certificate, render
from connectors.sdk import DeliveryFailure
from connectors.sdk.testing import MemoryContext
from pivot.errors import DeliveryRejected, MappingError

BASE = "http://chatbot.test"
TENANT = "tenant_2b3c4d5e6f708192a3b4c5d6e7f80912"
CO_TENANT = "tenant_4d5e6f708192a3b4c5d6e7f8091a2b3c"
LEASE = "lease_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
LOT = "lot_3e9a1c7d5b2f4e6a8c0d1e2f3a4b5c6d"
BUILDING = "building_7c2e4a9f1b3d5e7a9c1e3f5a7b9d1f3e"
REQUEST = "request_5c6d7e8f90a1b2c3d4e5f60718293a4b"
MESSAGE = "msg_1f2e3d4c5b6a7980"
ATTACHMENT = "att_8e7d6c5b4a392817"
GOLDEN: dict[str, dict[str, Any]] = {
    LEASE: {"id": LEASE, "lot_id": LOT, "holder_ids": [TENANT, CO_TENANT], "start_date": "2019-03-01",
            "end_date": None, "status": "active"},
    LOT: {"id": LOT, "building_id": BUILDING, "typology": "T3", "occupancy_status": "occupied"},
    BUILDING: {"id": BUILDING, "name": "Bâtiment A",
               "address": {"street": "12 rue Paul Bert", "postcode": "69003", "city": "Lyon"}},
    TENANT: {"id": TENANT, "first_name": "Camille", "last_name": "Rousseau"},
    CO_TENANT: {"id": CO_TENANT, "first_name": "Julien", "last_name": "Rousseau"},
}
#: 24 November 2026, 10:00 in Paris: the day certificates are checked for.
WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def certificate_pdf(tmp_path: Path, layout: str = "maif", **facts: Any) -> bytes:
    """A certificate PDF drawn by the evaluation-set generator, for the Rousseau household by default."""
    _, insurer, draw, policy = next(row for row in LAYOUTS if row[0] == layout)
    rng = random.Random(layout)
    certificate = Certificate(
        insurer=insurer, policy_number=policy(rng),
        people=[("Mme", "Camille", "Rousseau"), ("M.", "Julien", "Rousseau")],
        number="12", street_type="rue", street_name="Paul Bert", complement="Bât. A, appt 23",
        postcode="69003", city="Lyon", valid_from=date(2026, 10, 1), valid_to=date(2027, 9, 30),
        issued=date(2026, 9, 24), member_number="2847193K",
    )
    path = tmp_path / f"{layout}.pdf"
    render(draw(replace(certificate, **facts), rng), path)
    return path.read_bytes()


def request(**over: Any) -> RequestReceived:
    """A received chatbot request with one PDF attached."""
    data: dict[str, Any] = {
        "id": REQUEST, "tenant_id": TENANT, "lot_id": LOT, "channel": "whatsapp",
        "text": "Bonjour, voici notre attestation d'assurance habitation pour cette année.",
        "received_at": "2026-11-24T08:47:12Z", "status": "received",
        "conversation_ref": "conv_6a7b8c9d0e1f2a3b",
        "attachments": [{"id": ATTACHMENT, "content_type": "application/pdf",
                         "filename": "attestation_2026.pdf"}],
        **over,
    }
    return RequestReceived.model_validate(data)


@pytest.fixture
def connector() -> Any:
    impl = AiInsuranceConnector(AiInsuranceSettings(base_url=BASE, max_attempts=3, initial_wait_s=0,
                                                    max_wait_s=0))
    yield impl
    impl.close()


def context(connector: AiInsuranceConnector, golden: dict[str, dict[str, Any]] | None = None,
            xref: list[list[str]] | None = None) -> MemoryContext:
    """The hub's view: the request came through the chatbot; the lease, lot, building, holders."""
    links = [["chatbot", "request", MESSAGE, REQUEST]] if xref is None else xref
    return MemoryContext("ai_insurance", xref=links, golden=GOLDEN if golden is None else golden,
                         client=connector.client, event_time=WHEN)


def deliver(connector: AiInsuranceConnector, event: RequestReceived, ctx: MemoryContext,
            *answers: httpx.Response) -> tuple[list[Any], respx.Route]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        route = router.get(f"/api/v1/attachments/{ATTACHMENT}").mock(side_effect=list(answers) or None)
        produced = connector.deliver(event, ctx)
    return produced, route


def pdf_answer(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content, headers={"Content-Type": "application/pdf"})


@pytest.mark.parametrize("layout", ["maif", "macif", "axa", "pacifica"])
def test_a_valid_certificate_is_received_then_validated(
    connector: AiInsuranceConnector, tmp_path: Path, layout: str
) -> None:
    pdf = certificate_pdf(tmp_path, layout)
    ctx = context(connector)
    produced, route = deliver(connector, request(), ctx, pdf_answer(pdf))
    assert route.call_count == 1
    received, validated = produced
    assert isinstance(received, InsuranceCertificateReceived) and received.status == "received"
    assert isinstance(validated, InsuranceCertificateValidated) and validated.status == "valid"
    assert received.id == validated.id == ctx.canonical_id("insurance_certificate", ATTACHMENT)
    assert (validated.lease_id, validated.tenant_id) == (LEASE, TENANT)
    assert validated.insurer == next(row[1] for row in LAYOUTS if row[0] == layout)
    assert (validated.valid_from, validated.valid_to) == (date(2026, 10, 1), date(2027, 9, 30))
    assert validated.covered_address.postcode == "69003"
    assert validated.covered_address.street.lower() == "12 rue paul bert"
    assert validated.extraction_confidence is not None and validated.extraction_confidence >= 0.8
    assert validated.rejection_reason is None

    (decision,) = ctx.decisions
    assert (decision.model, decision.model_version) == (MODEL, MODEL_VERSION)
    assert decision.input_sha256 == hashlib.sha256(pdf).hexdigest()
    assert decision.subject == validated.id
    assert decision.output["status"] == "valid" and decision.output["rejection_reason"] is None
    assert decision.output["extracted"]["valid_to"] == "2027-09-30"
    assert decision.output["extracted"]["policy_number"] == validated.policy_number
    assert (decision.output["lease_id"], decision.output["checked_on"]) == (LEASE, "2026-11-24")
    assert json.loads(json.dumps(decision.output)) == decision.output  # JSON as it is


def test_an_expired_certificate_is_rejected_as_expired(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    pdf = certificate_pdf(tmp_path, "matmut", valid_from=date(2025, 9, 1), valid_to=date(2026, 8, 31))
    ctx = context(connector)
    (received, rejected), _ = deliver(connector, request(), ctx, pdf_answer(pdf))
    assert isinstance(received, InsuranceCertificateReceived)
    assert isinstance(rejected, InsuranceCertificateRejected)
    assert rejected.status == "expired"
    assert rejected.rejection_reason == "attestation expirée le 31/08/2026"
    assert ctx.decisions[0].output["status"] == "expired"


def test_a_certificate_for_another_address_is_a_mismatch(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    pdf = certificate_pdf(tmp_path, "gmf", number="48", street_type="avenue", street_name="Jean Jaurès",
                          postcode="69007", complement="")
    ctx = context(connector)
    (_, rejected), _ = deliver(connector, request(), ctx, pdf_answer(pdf))
    assert isinstance(rejected, InsuranceCertificateRejected) and rejected.status == "mismatch"
    assert rejected.rejection_reason is not None
    assert "n'est pas celle du logement « 12 rue Paul Bert, 69003 Lyon »" in rejected.rejection_reason
    assert rejected.covered_address.postcode == "69007"
    assert ctx.decisions[0].output["reasons"]


def test_a_certificate_in_another_name_is_a_mismatch(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    pdf = certificate_pdf(tmp_path, "allianz", people=[("M.", "Karim", "Benali")])
    ctx = context(connector)
    (_, rejected), _ = deliver(connector, request(), ctx, pdf_answer(pdf))
    assert isinstance(rejected, InsuranceCertificateRejected) and rejected.status == "mismatch"
    assert rejected.rejection_reason == (
        "aucun assuré (Karim BENALI) n'est titulaire du bail (Camille Rousseau, Julien Rousseau)")


def test_the_tenants_lot_of_the_day_is_used_when_the_request_has_none(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    ctx = context(connector)
    (_, validated), _ = deliver(connector, request(lot_id=None), ctx, pdf_answer(certificate_pdf(tmp_path)))
    assert isinstance(validated, InsuranceCertificateValidated) and validated.lease_id == LEASE


@pytest.mark.parametrize("over", [
    {"attachments": []},
    {"attachments": [{"id": ATTACHMENT, "content_type": "image/jpeg", "filename": "fuite.jpg"}]},
], ids=["no_attachment", "photo_only"])
def test_requests_without_a_document_make_no_call(
    connector: AiInsuranceConnector, over: dict[str, Any]
) -> None:
    ctx = context(connector, golden={})  # not even a lease: nothing is looked up
    produced, route = deliver(connector, request(**over), ctx)
    assert produced == [] and route.call_count == 0 and ctx.decisions == []


def test_documents_of_another_channel_are_not_fetched_here(connector: AiInsuranceConnector) -> None:
    produced, route = deliver(connector, request(), context(connector, xref=[]))
    assert produced == [] and route.call_count == 0


def test_a_certificate_from_a_tenant_without_a_lease_waits_for_a_person(
    connector: AiInsuranceConnector,
) -> None:
    golden = {k: v for k, v in GOLDEN.items() if k != LEASE}
    with pytest.raises(DeliveryFailure) as failure:
        deliver(connector, request(lot_id=None), context(connector, golden=golden))
    assert isinstance(failure.value.cause, MappingError)
    assert "holds no lease on 2026-11-24" in str(failure.value.cause)


@pytest.mark.parametrize(("content", "why"), [
    (b"%PDF-1.4 truncated", "not a readable certificate"),
    (b"Bonjour, ci-joint la facture du plombier. Cordialement.", "no certificate field found"),
    ("MAIF\nAttestation d'assurance habitation\nAssurée : Mme Camille ROUSSEAU\n"
     "Adresse du risque : 12 rue Paul Bert, 69003 Lyon\n"
     "Valable du 01/10/2026 au 30/09/2027\n".encode(), "policy number not found"),
], ids=["broken_pdf", "not_a_certificate", "no_policy_number"])
def test_a_document_that_is_no_complete_certificate_waits_for_a_person(
    connector: AiInsuranceConnector, content: bytes, why: str
) -> None:
    ctx = context(connector)
    with pytest.raises(DeliveryFailure) as failure:
        deliver(connector, request(), ctx, httpx.Response(200, content=content))
    assert isinstance(failure.value.cause, MappingError) and why in str(failure.value.cause)
    assert failure.value.attempts == 1 and ctx.decisions == []


def test_a_scan_without_text_layer_waits_for_a_person(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.pdf"
    render([], scan)  # a page with no text at all, like a scanned image
    with pytest.raises(DeliveryFailure) as failure:
        deliver(connector, request(), context(connector), pdf_answer(scan.read_bytes()))
    assert isinstance(failure.value.cause, MappingError)
    assert "no text layer" in str(failure.value.cause)


def test_a_5xx_download_is_retried_and_decided_once(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    ctx = context(connector)
    pdf = certificate_pdf(tmp_path)
    produced, route = deliver(connector, request(), ctx, httpx.Response(503), pdf_answer(pdf))
    assert route.call_count == 2
    assert [type(e) for e in produced] == [InsuranceCertificateReceived, InsuranceCertificateValidated]
    assert len(ctx.decisions) == 1


def test_an_unknown_attachment_is_not_retried(connector: AiInsuranceConnector) -> None:
    with pytest.raises(DeliveryFailure) as failure:
        deliver(connector, request(), context(connector),
                httpx.Response(404, json={"error": "unknown_attachment"}))
    assert isinstance(failure.value.cause, DeliveryRejected) and failure.value.attempts == 1


def test_each_certificate_of_a_request_is_read_and_decided(
    connector: AiInsuranceConnector, tmp_path: Path
) -> None:
    second = "att_9f8e7d6c5b4a3928"
    expired = certificate_pdf(tmp_path, "maaf", valid_from=date(2025, 9, 1), valid_to=date(2026, 8, 31))
    event = request(attachments=[
        {"id": ATTACHMENT, "content_type": "application/pdf", "filename": "attestation_2026.pdf"},
        {"id": second, "content_type": "application/pdf; name=ancienne.pdf", "filename": "ancienne.pdf"},
    ])
    ctx = context(connector)
    with respx.mock(base_url=BASE) as router:
        router.get(f"/api/v1/attachments/{ATTACHMENT}").mock(
            return_value=pdf_answer(certificate_pdf(tmp_path)))
        router.get(f"/api/v1/attachments/{second}").mock(return_value=pdf_answer(expired))
        produced = connector.deliver(event, ctx)
    assert [e.status for e in produced] == ["received", "valid", "received", "expired"]
    assert produced[0].id != produced[2].id
    assert [d.subject for d in ctx.decisions] == [produced[0].id, produced[2].id]


def test_delivery_is_deterministic(connector: AiInsuranceConnector, tmp_path: Path) -> None:
    pdf = certificate_pdf(tmp_path)
    first, _ = deliver(connector, request(), context(connector), pdf_answer(pdf))
    second, _ = deliver(connector, request(), context(connector), pdf_answer(pdf))
    assert first == second


def test_the_day_checked_is_the_landlords() -> None:
    assert landlord_day(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)


def test_settings_prefix_and_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_CONNECTOR_AI_INSURANCE_BASE_URL", "http://chatbot.internal:9004")
    assert AiInsuranceSettings().base_url == "http://chatbot.internal:9004"
    assert AiInsuranceConnector.outbound_entities() == ["request"]
    assert MODEL_VERSION.startswith("pivot-certificate-reader-")


def test_importing_the_package_stays_light() -> None:
    code = ("import sys, connectors.ai_insurance as m; "
            "print(any(n.split('.')[0] in {'httpx', 'pdfplumber', 'sqlalchemy'} for n in sys.modules), "
            "'connectors.ai_insurance.connector' in sys.modules, "
            "m.AiInsuranceConnector.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "ai_insurance"]
