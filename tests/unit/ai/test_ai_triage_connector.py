"""The AI triage connector: received requests published again, triaged, with no HTTP call."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import httpx
import pytest
import respx

from canonical_model.events import RequestReceived, RequestTriaged, parse_event
from connectors.ai_triage import AiTriageConnector, AiTriageSettings
from connectors.ai_triage.model import MODEL_VERSION
from connectors.sdk.testing import MemoryContext, load_fixtures

EXPECTED = {  # fixture → (category, urgency)
    "gas_smell_is_urgent": ("heating_hot_water", "urgent"),
    "rent_question_is_normal": ("rent_charges", "normal"),
    "no_hot_water_is_high": ("heating_hot_water", "high"),
}


@pytest.fixture(scope="module")
def connector() -> AiTriageConnector:
    return AiTriageConnector(AiTriageSettings(base_url="http://nowhere.test"))


def _triage(connector: AiTriageConnector, event: RequestReceived) -> RequestTriaged:
    with respx.mock(assert_all_called=False) as router:  # any HTTP call would show up here
        (triaged,) = connector.deliver(event, MemoryContext("ai_triage", client=connector.client))
    assert router.calls.call_count == 0
    assert isinstance(triaged, RequestTriaged)
    return triaged


@pytest.mark.parametrize(("name", "case"), load_fixtures("ai_triage", "outbound"))
def test_fixture_requests_are_triaged_as_expected(
    connector: AiTriageConnector, name: str, case: dict[str, object]
) -> None:
    event = parse_event(case["event_type"], json.dumps(case["event"]).encode())  # type: ignore[arg-type]
    assert isinstance(event, RequestReceived)
    triaged = _triage(connector, event)
    assert (triaged.category, triaged.urgency) == EXPECTED[name]
    assert triaged.status == "triaged" and triaged.model_version == MODEL_VERSION
    assert 0 <= triaged.triage_confidence <= 1 and triaged.triage_reasons
    # the request itself is carried over unchanged
    for field in ("id", "tenant_id", "lot_id", "channel", "text", "received_at", "conversation_ref"):
        assert getattr(triaged, field) == getattr(event, field)


def test_an_urgency_given_with_the_request_is_never_lowered(connector: AiTriageConnector) -> None:
    event = RequestReceived(
        id="request_0123456789abcdef0123456789abcdef", channel="agency", status="received",
        text="Bonjour, pourquoi mon loyer a augmenté en janvier ?",
        received_at="2026-11-24T09:12:02Z", urgency="urgent",  # type: ignore[arg-type]
    )
    triaged = _triage(connector, event)
    assert (triaged.category, triaged.urgency) == ("rent_charges", "urgent")
    assert triaged.triage_reasons[0] == "urgent: given with the request, kept"


def test_triage_is_deterministic(connector: AiTriageConnector) -> None:
    (_, case), *_ = load_fixtures("ai_triage", "outbound")
    event = parse_event(case["event_type"], json.dumps(case["event"]).encode())
    assert _triage(connector, event) == _triage(connector, event)


def test_settings_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_CONNECTOR_AI_TRIAGE_MAX_ATTEMPTS", "2")
    assert AiTriageSettings().max_attempts == 2
    assert AiTriageConnector.outbound_entities() == ["request"]


def test_importing_the_package_stays_light() -> None:
    code = ("import sys, connectors.ai_triage as m; "
            "print(any(n.split('.')[0] in {'sklearn', 'scipy', 'httpx'} for n in sys.modules), "
            "'connectors.ai_triage.connector' in sys.modules, m.AiTriageConnector.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "ai_triage"]


def test_an_llm_when_configured_is_used_through_the_package_settings(
    connector: AiTriageConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIVOT_LLM_BASE_URL", "http://llm.test/v1")
    monkeypatch.setenv("PIVOT_LLM_MODEL", "mistral-small-fr")
    (_, case), *_ = load_fixtures("ai_triage", "outbound")
    event = parse_event(case["event_type"], json.dumps(case["event"]).encode())
    with respx.mock() as router:
        router.post("http://llm.test/v1/chat/completions").mock(
            return_value=httpx.Response(503))
        (triaged,) = connector.deliver(event, MemoryContext("ai_triage"))
    assert triaged.urgency == "urgent"  # the offline model answered
    assert triaged.triage_reasons[-1].startswith("fallback:")


@pytest.mark.parametrize(("text", "intent"), [
    ("Bonjour, où en est ma demande de réparation ? Je n'ai pas de nouvelles.", "question"),
    ("Comment puis-je payer mon loyer par prélèvement ?", "question"),
    ("Bonjour, j'ai une fuite sous l'évier, pouvez-vous envoyer quelqu'un ?", "report"),
    ("Ça sent le gaz dans la cuisine, qu'est-ce que je dois faire ?", "report"),  # urgent
])
def test_the_intent_is_set_and_every_decision_is_recorded(
    connector: AiTriageConnector, text: str, intent: str
) -> None:
    case = load_fixtures("ai_triage", "outbound")[0][1]
    event = parse_event(case["event_type"], json.dumps({**case["event"], "text": text}).encode())
    ctx = MemoryContext("ai_triage", client=connector.client)
    (triaged,) = connector.deliver(event, ctx)
    assert triaged.intent.value == intent
    [decision] = ctx.decisions
    assert decision.model == "request_triage" and decision.subject == event.id
    assert decision.model_version == triaged.model_version
    assert decision.input_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert text not in json.dumps(decision.output)  # the decision never keeps the tenant's words
