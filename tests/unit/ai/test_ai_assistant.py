"""The tenant assistant: topics, FAQ retrieval, hand-offs, record answers and the privacy rule."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import respx

from canonical_model import RequestStatus
from canonical_model.entities.lifecycle import can_transition
from canonical_model.events import RequestAnswered, RequestTriaged, parse_event
from connectors.ai_assistant import AiAssistantConnector, AiAssistantSettings, Assistant, Reply
from connectors.ai_assistant.assistant import HANDOFF, UNIDENTIFIED, get_assistant, model_version
from connectors.ai_assistant.connector import is_question
from connectors.ai_assistant.evaluate import EVAL_PATH, evaluate
from connectors.ai_assistant.faq import FAQ_PATH, load_faq
from connectors.ai_assistant.intents import Topic, topic_of
from connectors.ai_assistant.normalize import normalize, plain
from connectors.ai_assistant.records import french_day, french_time, landlord_day
from connectors.sdk.testing import MemoryContext, load_fixtures

TODAY = date(2026, 11, 24)
T1 = "tenant_11111111111111111111111111111111"
T2 = "tenant_22222222222222222222222222222222"
LOT1 = "lot_11111111111111111111111111111111"
LOT2 = "lot_22222222222222222222222222222222"


@pytest.fixture(scope="module")
def assistant() -> Assistant:
    return get_assistant(AiAssistantSettings())


@pytest.fixture(scope="module")
def connector() -> AiAssistantConnector:
    return AiAssistantConnector(AiAssistantSettings(base_url="http://nowhere.test"))


def _case(name: str) -> dict[str, Any]:
    return dict(load_fixtures("ai_assistant", "outbound"))[name]


def _deliver(connector: AiAssistantConnector, case: dict[str, Any],
             golden: dict[str, dict[str, Any]] | None = None) -> tuple[list[Any], MemoryContext]:
    event = parse_event(case["event_type"], json.dumps(case["event"]).encode())
    ctx = MemoryContext("ai_assistant", golden=case["context"]["golden"] if golden is None else golden)
    with respx.mock(assert_all_called=False) as router:  # any HTTP call would show up here
        produced = connector.deliver(event, ctx)
    assert router.calls.call_count == 0
    return produced, ctx


def _triaged(text: str, tenant_id: str | None = T1, **extra: Any) -> RequestTriaged:
    return RequestTriaged.model_validate({
        "id": "request_00000000000000000000000000000001", "channel": "chatbot", "text": text,
        "received_at": "2026-11-24T08:00:00Z", "status": "triaged", "category": "other",
        "urgency": "normal", "intent": "question", "tenant_id": tenant_id,
        "triage_confidence": 0.8, "needs_human_review": False, "model_version": "test", **extra,
    })


# --------------------------------------------------------------------------- fixtures


EXPECTED = {  # fixture → (status, handed_to_human, sources, words the answer must contain)
    "repair_status_answered": ("resolved", False,
                               ["request_1a2b3c4d5e6f708192a3b4c5d6e7f801",
                                "intervention_6e7f8091a2b3c4d5e6f708192a3b4c5d"],
                               ["jeudi 26 novembre 2026 à 14 h 30", "Plomberie"]),
    "insurance_status_answered": ("resolved", False,
                                  ["insurance_certificate_7f8091a2b3c4d5e6f708192a3b4c5d6e"],
                                  ["n'a pas pu être acceptée", "12 rue des Lilas"]),
    "inspection_date_answered": ("resolved", False,
                                 ["lease_5d6e7f8091a2b3c4d5e6f708192a3b4c",
                                  "intervention_8091a2b3c4d5e6f708192a3b4c5d6e7f"],
                                 ["mardi 8 décembre 2026 à 10 h 00", "31 janvier 2027"]),
    "faq_notice_period_answered": ("resolved", False, ["faq:preavis-duree"],
                                   ["trois mois", "zone tendue", "art. 15"]),
    "out_of_scope_handed_to_human": ("in_progress", True, [], ["conseiller"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_questions_are_answered_as_expected(connector: AiAssistantConnector, name: str) -> None:
    case = _case(name)
    (answered,), _ = _deliver(connector, case)
    status, handed, sources, words = EXPECTED[name]
    assert isinstance(answered, RequestAnswered)
    assert (answered.status, answered.handed_to_human, answered.answer_sources) == (status, handed, sources)
    assert all(w in answered.answer for w in words), answered.answer
    assert answered.answer.startswith("Bonjour")
    assert answered.model_version == connector.assistant.model_version
    assert can_transition(RequestStatus.TRIAGED, answered.status)
    # the request itself is carried over unchanged
    asked = parse_event(case["event_type"], json.dumps(case["event"]).encode())
    for field in ("id", "tenant_id", "lot_id", "channel", "text", "received_at", "conversation_ref",
                  "category", "urgency", "intent", "attachments"):
        assert getattr(answered, field) == getattr(asked, field), field


def test_one_decision_is_recorded_per_answer(connector: AiAssistantConnector) -> None:
    case = _case("faq_notice_period_answered")
    _, ctx = _deliver(connector, case)
    (decision,) = ctx.decisions
    assert decision.model == "tenant_assistant"
    assert decision.model_version == connector.assistant.model_version
    assert decision.subject == case["event"]["id"]
    assert decision.input_sha256 == hashlib.sha256(case["event"]["text"].encode()).hexdigest()
    assert decision.output["intent"] == "faq" and decision.output["sources"] == ["faq:preavis-duree"]
    assert decision.output["handed_to_human"] is False and decision.output["score"] > 0.2
    json.dumps(decision.output)  # storable as JSON


def test_a_report_is_not_answered(connector: AiAssistantConnector) -> None:
    produced, ctx = _deliver(connector, _case("report_is_not_answered"))
    assert produced == [] and ctx.decisions == []


def test_answering_is_deterministic(connector: AiAssistantConnector) -> None:
    case = _case("repair_status_answered")
    assert _deliver(connector, case)[0] == _deliver(connector, case)[0]


# -------------------------------------------------------------------------- questions


@pytest.mark.parametrize(("extra", "question"), [
    ({"intent": "question", "category": "plumbing"}, True),
    ({"intent": "report", "category": "rent_charges"}, True),
    ({"intent": "report", "category": "administrative"}, True),
    ({"intent": "report", "category": "administrative",
      "attachments": [{"id": "att_1", "content_type": "application/pdf"}]}, False),
    ({"intent": "report", "category": "plumbing"}, False),
])
def test_which_requests_are_questions(extra: dict[str, Any], question: bool) -> None:
    assert is_question(_triaged("Bonjour", **extra)) is question


@pytest.mark.parametrize(("text", "topic"), [
    ("Où en est ma réparation ?", Topic.REPAIR_STATUS),
    ("le plombier passe quand ??", Topic.REPAIR_STATUS),
    ("toujours rien pour mon intervention, des nouvelles ?", Topic.REPAIR_STATUS),
    ("kan vient le technicien pour mon radiateur", Topic.REPAIR_STATUS),
    ("Mon attestation d'assurance est-elle acceptée ?", Topic.INSURANCE_STATUS),
    ("vous avez bien reçu mon attestation ?", Topic.INSURANCE_STATUS),
    ("pourquoi mon assurance a été refusée", Topic.INSURANCE_STATUS),
    ("Quand a lieu ma visite conseil ?", Topic.INSPECTION),
    ("c quand mon edl de sortie", Topic.INSPECTION),
    ("À quelle date est prévu le pré-état des lieux ?", Topic.INSPECTION),
    # how things work, who pays, annual servicing: the FAQ
    ("Comment se passe l'état des lieux quand on part ?", Topic.FAQ),
    ("Qui paie la réparation du robinet ?", Topic.FAQ),
    ("le technicien de l'entretien annuel de la chaudière passe quand ?", Topic.FAQ),
    ("Comment envoyer mon attestation d'assurance ?", Topic.FAQ),
    ("Avez-vous bien reçu ma demande d'attestation de loyer ?", Topic.FAQ),
    ("Combien de temps de préavis ?", Topic.FAQ),
])
def test_topics(text: str, topic: Topic) -> None:
    assert topic_of(text) is topic


def test_normalisation_folds_accents_sms_and_politeness() -> None:
    assert normalize("Bonjour, kan est-ce que je récupère ma cauzion svp ?") == "recupere caution"
    assert normalize("L'ATTESTASION d'assurance") == "attestation assurance"


# -------------------------------------------------------------------------- retrieval


@pytest.mark.parametrize(("text", "entry"), [
    # paraphrases
    ("De combien de temps est le préavis quand on quitte un logement social ?", "preavis-duree"),
    ("Dans quel délai me rendez-vous le dépôt de garantie après mon départ ?", "depot-garantie"),
    ("Pourquoi ai-je un surloyer ?", "sls"),
    ("J'aimerais un logement plus grand, nous sommes trop à l'étroit", "demande-mutation"),
    ("Le remplacement du joint du lavabo est-il à ma charge ?", "reparations-locatives"),
    ("Où est-ce que je peux jeter un vieux matelas ?", "encombrants"),
    ("Qui dois-je appeler la nuit en cas d'urgence ?", "urgence-astreinte"),
    # SMS writing and misspellings
    ("jai perdu mon bage", "badge-cle-perdue"),
    ("c koi la regul des charges", "regularisation-charges"),
    ("ya des kafards partout ds la cuisine", "nuisibles"),
    ("jveu payer mon loyé par prelevment", "payer-loyer"),
    ("comment avoir lapl caf", "apl-caf"),
    ("il fe froid le chauffage collectif est allumé qd ?", "chauffage-collectif"),
])
def test_retrieval_finds_the_entry(assistant: Assistant, text: str, entry: str) -> None:
    reply = assistant.faq(text)
    assert reply.sources == (f"faq:{entry}",), (reply.sources, reply.score, reply.coverage)
    assert not reply.handed_to_human
    entries = {e.id: e for e in load_faq()}
    assert entries[entry].source in reply.answer


@pytest.mark.parametrize("text", [
    "Pouvez-vous me recommander un bon restaurant ?",
    "Quel temps fera-t-il demain ?",
    "Bonjour",
    "?!",
])
def test_below_the_bars_a_person_answers(assistant: Assistant, text: str) -> None:
    reply = assistant.faq(text)
    assert reply.handed_to_human and reply.answer == HANDOFF and reply.sources == ()


def test_the_threshold_decides(assistant: Assistant) -> None:
    text = "Comment payer mon loyer ?"
    assert not assistant.faq(text).handed_to_human
    strict = Assistant(threshold=0.99)
    assert strict.faq(text).handed_to_human
    assert strict.model_version != assistant.model_version


def test_topics_for_a_person_are_handed_over_with_their_entry(assistant: Assistant) -> None:
    reply = assistant.faq("J'ai reçu un commandement de payer d'un commissaire de justice")
    assert reply.handed_to_human and reply.sources == ("faq:litige-contentieux",)
    assert "contentieux" in reply.answer


def test_connector_settings_choose_the_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_CONNECTOR_AI_ASSISTANT_ANSWER_THRESHOLD", "0.99")
    strict = AiAssistantConnector()
    assert strict.settings.answer_threshold == 0.99  # type: ignore[attr-defined]
    (answered,), _ = _deliver(strict, _case("faq_notice_period_answered"))
    assert answered.handed_to_human and answered.status == "in_progress"
    assert answered.model_version == strict.assistant.model_version


# ------------------------------------------------------------------- records, privacy


def _request(rid: str, tenant: str, lot: str, intervention: str | None, received: str) -> dict[str, Any]:
    return {"id": rid, "tenant_id": tenant, "lot_id": lot, "channel": "chatbot", "text": "Fuite",
            "received_at": received, "status": "in_progress", "intervention_id": intervention}


def _intervention(iid: str, lot: str, request: str | None, title: str, **extra: Any) -> dict[str, Any]:
    return {"id": iid, "lot_id": lot, "request_id": request, "title": title, "category": "plumbing",
            "priority": "normal", "status": "scheduled", **extra}


def _lease(lid: str, lot: str, tenant: str, **extra: Any) -> dict[str, Any]:
    return {"id": lid, "lot_id": lot, "holder_ids": [tenant], "start_date": "2020-01-01",
            "status": "active", **extra}


def _two_tenants() -> dict[str, dict[str, Any]]:
    """Tenant 1 (no repair of their own) and tenant 2 (a scheduled repair), with their records."""
    r2 = "request_22222222222222222222222222222222"
    i2 = "intervention_22222222222222222222222222222222"
    return {
        "lease_11111111111111111111111111111111": _lease("lease_11111111111111111111111111111111", LOT1, T1),
        "lease_22222222222222222222222222222222": _lease("lease_22222222222222222222222222222222", LOT2, T2),
        # tenant 1's own request, no work opened for it
        "request_11111111111111111111111111111111": _request(
            "request_11111111111111111111111111111111", T1, LOT1, None, "2026-11-20T08:00:00Z"),
        r2: _request(r2, T2, LOT2, i2, "2026-11-21T08:00:00Z"),
        i2: _intervention(i2, LOT2, r2, "Réparation chez le voisin", scheduled_for="2026-12-03T08:00:00Z"),
        "insurance_certificate_22222222222222222222222222222222": {
            "id": "insurance_certificate_22222222222222222222222222222222", "tenant_id": T2,
            "insurer": "AXA", "valid_from": "2026-01-01", "valid_to": "2026-12-31", "status": "valid"},
    }


def _reply(assistant: Assistant, text: str, golden: dict[str, dict[str, Any]],
           tenant: str | None = T1) -> Reply:
    return assistant.reply(text, MemoryContext("ai_assistant", golden=golden), tenant, TODAY)


def test_another_tenants_repair_is_never_revealed(assistant: Assistant) -> None:
    golden = _two_tenants()
    reply = _reply(assistant, "Où en est ma réparation ? Le plombier passe quand ?", golden)
    assert reply.topic is Topic.REPAIR_STATUS and reply.handed_to_human and reply.sources == ()
    assert "voisin" not in reply.answer and "décembre" not in reply.answer
    # ...even when tenant 1's own request points at it by mistake
    golden["request_11111111111111111111111111111111"]["intervention_id"] = (
        "intervention_22222222222222222222222222222222")
    reply = _reply(assistant, "Où en est ma réparation ?", golden)
    assert reply.handed_to_human and "voisin" not in reply.answer and reply.sources == ()
    # tenant 2 asking gets their own
    reply = _reply(assistant, "Où en est ma réparation ?", _two_tenants(), tenant=T2)
    assert not reply.handed_to_human and "Réparation chez le voisin" in reply.answer
    assert "jeudi 3 décembre 2026 à 9 h 00" in reply.answer
    assert reply.sources == ("request_22222222222222222222222222222222",
                             "intervention_22222222222222222222222222222222")


def test_another_tenants_certificate_is_never_revealed(assistant: Assistant) -> None:
    golden = _two_tenants()
    reply = _reply(assistant, "Mon attestation d'assurance est-elle validée ?", golden)
    assert "AXA" not in reply.answer
    assert not any(s.startswith("insurance_certificate_") for s in reply.sources)
    # what tenant 1's own lease says is given instead, once it says something
    golden["lease_11111111111111111111111111111111"]["insurance_status"] = "expired"
    reply = _reply(assistant, "Mon attestation d'assurance est-elle validée ?", golden)
    assert "expirée" in reply.answer and reply.sources == ("lease_11111111111111111111111111111111",)


def test_a_previous_tenants_visit_on_the_same_lot_is_never_revealed(assistant: Assistant) -> None:
    lease = "lease_33333333333333333333333333333333"
    old = "intervention_33333333333333333333333333333333"
    golden = {
        lease: _lease(lease, LOT1, T1, status="notice", notice_date="2026-11-02"),
        # the visit of the lot's previous tenant, years ago
        old: _intervention(old, LOT1, None, "Visite conseil avant état des lieux de sortie",
                           status="completed", completed_at="2019-12-10T09:00:00Z",
                           scheduled_for="2019-12-10T08:00:00Z"),
    }
    reply = _reply(assistant, "Quand a lieu ma visite conseil ?", golden)
    assert reply.topic is Topic.INSPECTION and reply.handed_to_human
    assert "2019" not in reply.answer and old not in reply.sources
    new = "intervention_44444444444444444444444444444444"
    golden[new] = _intervention(new, LOT1, None, "Visite conseil avant état des lieux de sortie",
                                status="created")
    reply = _reply(assistant, "Quand a lieu ma visite conseil ?", golden)
    assert not reply.handed_to_human and reply.sources == (lease, new)
    assert "pas encore fixé" in reply.answer


def test_an_inspection_without_notice_says_so(assistant: Assistant) -> None:
    lease = "lease_55555555555555555555555555555555"
    reply = _reply(assistant, "c'est quand mon état des lieux de sortie ?", {lease: _lease(lease, LOT1, T1)})
    assert not reply.handed_to_human and "aucun préavis" in reply.answer
    assert reply.sources == (lease, "faq:etat-des-lieux")


class _NoRecords(MemoryContext):
    """A context that fails the test if any record is read."""

    def find(self, entity: str, limit: int = 50, **equals: str) -> list[dict[str, Any]]:
        raise AssertionError("a record was read")

    def golden(self, canonical_id: str) -> dict[str, Any] | None:
        raise AssertionError("a record was read")

    def lot_of_tenant(self, tenant_id: str, on: date) -> str | None:
        raise AssertionError("a record was read")


@pytest.mark.parametrize("text", ["Où en est ma réparation ?", "Mon attestation est-elle acceptée ?",
                                  "Quand a lieu ma visite conseil ?"])
def test_without_a_tenant_no_record_is_read(assistant: Assistant, text: str) -> None:
    reply = assistant.reply(text, _NoRecords("ai_assistant"), None, TODAY)
    assert reply.handed_to_human and reply.answer == UNIDENTIFIED and reply.sources == ()


def test_without_a_tenant_the_faq_still_answers(assistant: Assistant) -> None:
    reply = assistant.reply("Comment payer mon loyer ?", _NoRecords("ai_assistant"), None, TODAY)
    assert reply.sources == ("faq:payer-loyer",) and not reply.handed_to_human


@pytest.mark.parametrize(("status", "words"), [
    ("valid", "acceptée ; elle couvre votre logement jusqu'au 31/08/2027"),
    ("received", "en cours de vérification"),
    ("expired", "a expiré le 31/08/2027"),
    ("missing", "pas d'attestation d'assurance valide"),
])
def test_certificate_statuses(assistant: Assistant, status: str, words: str) -> None:
    cert = "insurance_certificate_66666666666666666666666666666666"
    golden = {cert: {"id": cert, "tenant_id": T1, "insurer": "MACIF", "valid_from": "2026-09-01",
                     "valid_to": "2027-08-31", "status": status}}
    today = date(2027, 9, 15) if status == "expired" else TODAY
    reply = assistant.reply("mon attestation d'assurance est validée ?",
                            MemoryContext("ai_assistant", golden=golden), T1, today)
    assert words in reply.answer and reply.sources == (cert,)


def test_the_latest_repair_is_the_one_answered(assistant: Assistant) -> None:
    golden = {}
    for n, (received, title) in enumerate([("2026-10-01T08:00:00Z", "Ancienne fuite"),
                                           ("2026-11-20T08:00:00Z", "Volet bloqué")]):
        rid = f"request_7777777777777777777777777777777{n}"
        iid = f"intervention_777777777777777777777777777777{n}"
        golden[rid] = _request(rid, T1, LOT1, iid, received)
        golden[iid] = _intervention(iid, LOT1, rid, title, status="completed",
                                    completed_at="2026-11-22T15:00:00Z")
    reply = _reply(assistant, "des nouvelles de ma réparation ?", golden)
    assert "Volet bloqué" in reply.answer and "terminée le dimanche 22 novembre 2026" in reply.answer


# ------------------------------------------------------------------ versions, evaluation


def test_the_model_version_changes_with_the_faq(tmp_path: Path) -> None:
    copy = tmp_path / "faq.json"
    document = json.loads(FAQ_PATH.read_text(encoding="utf-8"))
    copy.write_text(json.dumps(document), encoding="utf-8")
    before = model_version(copy, 0.2, 0.35)
    document["entries"][0]["answer"] += " Merci."
    copy.write_text(json.dumps(document), encoding="utf-8")
    assert model_version(copy, 0.2, 0.35) != before
    assert before.startswith("pivot-assistant-1.0.0+")


def test_a_faq_with_duplicate_ids_is_refused(tmp_path: Path) -> None:
    entry = {"id": "a", "question": "q", "answer": "r", "source": "s"}
    path = tmp_path / "faq.json"
    path.write_text(json.dumps({"entries": [entry, entry]}), encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        load_faq(path)


def test_the_shipped_faq_is_complete() -> None:
    entries = load_faq()
    answered = [e for e in entries if not e.handoff]
    assert 20 <= len(answered) <= 30
    assert all(e.source and e.variants and e.keywords and len(e.answer) < 1000 for e in entries)


def test_the_evaluation_set_is_labelled_and_apart_from_the_faq() -> None:
    items = [json.loads(line) for line in EVAL_PATH.read_text(encoding="utf-8").splitlines()]
    ids = {e.id for e in load_faq()}
    assert len(items) >= 40
    topics = {f"intent:{t.value}" for t in Topic if t is not Topic.FAQ}
    assert all(i["expected"] in ids | topics | {"handoff"} for i in items)
    phrasings = {plain(p) for e in load_faq() for p in (e.question, *e.variants)}
    assert not [i["id"] for i in items if plain(i["text"]) in phrasings]


def test_evaluate_reports_the_routing_figures() -> None:
    metrics = evaluate()
    assert metrics["assistant.items"] >= 40
    assert metrics["assistant.retrieval_accuracy"] >= 0.80
    assert metrics["assistant.answer_precision"] >= 0.75
    assert metrics["assistant.handoff_precision"] >= 0.60
    assert metrics["assistant.intent_accuracy"] == 1.0
    assert metrics["assistant.model_version"] == get_assistant().model_version


# ------------------------------------------------------------------------------- misc


def test_french_dates() -> None:
    assert french_day(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert french_time(datetime(2026, 7, 14, 8, 5, tzinfo=UTC)) == "mardi 14 juillet 2026 à 10 h 05"
    assert landlord_day(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)


def test_settings_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_CONNECTOR_AI_ASSISTANT_MIN_COVERAGE", "0.5")
    assert AiAssistantSettings().min_coverage == 0.5
    assert AiAssistantConnector.outbound_entities() == ["request"]


def test_importing_the_package_stays_light() -> None:
    code = ("import sys, connectors.ai_assistant as m; "
            "print(any(n.split('.')[0] in {'sklearn', 'scipy'} for n in sys.modules), "
            "'connectors.ai_assistant.connector' in sys.modules, m.AiAssistantConnector.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "ai_assistant"]
