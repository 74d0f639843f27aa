"""A case's timeline from the store: lineage, deliveries, trace ids (SQLite, and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from pivot.cases import UnknownCase, Verdict, build_case, find_case
from pivot.cases.timeline import trace_id
from pivot.settings import CasesSettings

if TYPE_CHECKING:  # fixture types; a conftest is not importable from a test module
    from tests.unit.cases.conftest import Lineage

SYSTEMS = ["ai_assistant", "ai_insurance", "ai_triage", "chatbot", "erp", "ublo", "urbest"]
SETTINGS = CasesSettings()


def test_trace_id_is_read_from_a_w3c_traceparent() -> None:
    assert trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == (
        "4bf92f3577b34da6a3ce929d0e0e4736")
    assert trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01") is None
    assert trace_id("pas un traceparent") is None
    assert trace_id(None) is None


def test_the_timeline_follows_the_request_across_systems(lineage: Lineage) -> None:
    case = lineage.repair_case()
    with lineage.store.read_session() as session:
        found = build_case(session, case.request_id, SETTINGS, now=lineage.t0 + timedelta(days=10))
    assert found is not None
    steps = [(e.system, e.step) for e in found.entries]
    assert steps == [
        ("chatbot", "request received via whatsapp"),
        ("chatbot", "acknowledgement sent to the tenant"),
        ("ai_triage", "triaged high: plumbing"),
        ("ublo", "request filed in Ublo"),
        ("urbest", "work order opened in urbest: Plomberie : fuite ou engorgement (priority high)"),
        ("chatbot", "tenant told a work order is opened"),
        ("urbest", "appointment set for 2026-11-25 09:00 UTC"),
        ("chatbot", "tenant told the appointment"),
        ("urbest", "work started"),
        ("urbest", "work completed, 185.40 EUR, rechargeable to the tenant"),
        ("erp", "billing line written in the ERP: 185.40 EUR"),
        ("chatbot", "tenant told the work is done and 185.40 EUR recharged"),
    ]
    times = [e.at for e in found.entries]
    assert times == sorted(times)
    by_step = {e.step: e for e in found.entries}
    # the message's trace runs through the triage and the work order; the webhook has its own
    for step in ("request received via whatsapp", "acknowledgement sent to the tenant",
                 "triaged high: plumbing", "tenant told a work order is opened"):
        assert by_step[step].trace_id == case.trace, step
    assert by_step["billing line written in the ERP: 185.40 EUR"].trace_id == case.completion_trace
    assert by_step["work started"].trace_id is None  # no traceparent kept with that event
    assert by_step["triaged high: plumbing"].caused_by == case.received_event
    assert by_step["billing line written in the ERP: 185.40 EUR"].event_id == case.completed_event
    assert {e.kind for e in found.entries} == {"record", "delivery"}

    assert found.summary.urgency == "high"
    assert found.summary.deadline_at == lineage.t0 + timedelta(hours=72)
    assert found.summary.closed_at == case.completed_at
    assert found.summary.verdict(found.now) is Verdict.MET
    records = {r.entity: r for r in found.records}
    assert records["request"].source_ids == {"chatbot": [case.message_id], "ublo": [case.ublo_request]}
    assert records["intervention"].source_ids == {"urbest": [case.work_order]}
    assert records["intervention"].status == "completed"
    document = json.loads(json.dumps(found.as_dict()))
    assert document["case"] == case.request_id
    assert document["deadline"]["status"] == "met" and document["deadline"]["hours"] == 72
    assert "text" not in document["request"]  # the tenant's words stay out
    assert all({"at", "system", "step", "event_type", "event_id", "trace_id"} <= set(e)
               for e in document["timeline"])


def test_everything_shows_deliveries_that_did_nothing_or_published_events(lineage: Lineage) -> None:
    case = lineage.repair_case()
    with lineage.store.read_session() as session:
        short = build_case(session, case.request_id, SETTINGS)
        full = build_case(session, case.request_id, SETTINGS, everything=True)
    assert short is not None and full is not None
    extra = {(e.system, e.step) for e in full.entries} - {(e.system, e.step) for e in short.entries}
    assert extra == {
        ("ai_insurance", "processed: nothing to do"),
        ("ai_assistant", "processed: nothing to do"),
        ("ai_triage", "published fr.pivot.request.triaged.v1"),
        ("urbest", "published fr.pivot.intervention.created.v1"),
    }


def test_an_open_case_and_an_overdue_one(lineage: Lineage) -> None:
    case = lineage.repair_case(urgency="urgent", complete=False)
    with lineage.store.read_session() as session:
        early = build_case(session, case.request_id, SETTINGS, now=lineage.t0 + timedelta(hours=5))
        late = build_case(session, case.request_id, SETTINGS, now=lineage.t0 + timedelta(hours=25))
    assert early is not None and late is not None
    assert early.summary.verdict(early.now) is Verdict.OPEN
    assert late.as_dict()["deadline"] | {"received_at": None} == {
        "urgency": "urgent", "hours": 24, "received_at": None,
        "at": (lineage.t0 + timedelta(hours=24)).isoformat(), "closed_at": None, "closed_by": None,
        "status": "breached", "overdue": True,
    }


def test_a_case_is_found_from_any_id_a_system_has_for_it(lineage: Lineage) -> None:
    case = lineage.repair_case()
    with lineage.store.read_session() as session:
        for ident in (case.request_id, case.message_id, case.work_order, case.ublo_request,
                      case.intervention_id):
            assert find_case(session, ident, SYSTEMS) == case.request_id, ident
        with pytest.raises(UnknownCase, match="no case for 'msg_inconnu'"):
            find_case(session, "msg_inconnu", SYSTEMS)
        with pytest.raises(UnknownCase):
            find_case(session, case.message_id, ["erp"])  # not an ERP id
        assert build_case(session, "request_inexistante", SETTINGS) is None


def test_a_certificate_sent_through_the_chatbot_is_part_of_its_case(lineage: Lineage) -> None:
    t0 = lineage.t0
    request_id, received = lineage.new_request(
        t0, "normal", category="administrative",
        attachments=[{"id": "att_51c2", "content_type": "application/pdf",
                      "filename": "attestation-assurance.pdf"}])
    lineage.xref("chatbot", "request", f"msg_{request_id[-12:]}", request_id)
    certificate = f"insurance_certificate_{request_id[-32:]}"
    data = {"id": certificate, "lease_id": None, "tenant_id": None, "insurer": "MAIF",
            "valid_from": "2026-07-01", "valid_to": "2027-06-30", "status": "received"}
    lineage.version(certificate, "insurance_certificate", "fr.pivot.insurance_certificate.received.v1",
                    "ai_insurance", data, t0 + timedelta(seconds=3))
    validated = lineage.version(certificate, "insurance_certificate",
                                "fr.pivot.insurance_certificate.validated.v1", "ai_insurance",
                                {**data, "status": "valid"}, t0 + timedelta(seconds=3))
    lineage.decision(received, "insurance_reader", certificate, t0 + timedelta(seconds=3))
    lineage.decision(received, "triage", request_id, t0 + timedelta(seconds=2))  # about itself
    lineage.delivered("erp", validated, t0 + timedelta(seconds=4))
    lineage.delivered("chatbot", validated, t0 + timedelta(seconds=5))
    with lineage.store.read_session() as session:
        assert find_case(session, certificate, SYSTEMS) == request_id
        found = build_case(session, request_id, SETTINGS)
    assert found is not None
    assert [e.step for e in found.entries][-4:] == [
        "insurance certificate read (MAIF)", "certificate accepted, valid until 2027-06-30",
        "insurance status written on the ERP lease", "tenant told the certificate is accepted"]
    assert found.summary.closed_by == "fr.pivot.insurance_certificate.validated.v1"
    assert [r.entity for r in found.records] == ["request", "insurance_certificate"]
