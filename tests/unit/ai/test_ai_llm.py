"""The optional LLM backend: its JSON answer is used when valid, anything else falls back offline."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from canonical_model import RequestCategory, Urgency
from connectors.ai_triage.llm import LLMClient, LLMError, triage
from connectors.ai_triage.model import MODEL_VERSION
from connectors.ai_triage.settings import LLMSettings

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_LLM_BASE_URL", BASE)
    monkeypatch.setenv("PIVOT_LLM_MODEL", "mistral-small-fr")
    monkeypatch.setenv("PIVOT_LLM_API_KEY", "sk-test-123")
    monkeypatch.setenv("PIVOT_LLM_TIMEOUT_S", "0.5")


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=True) as mock:  # fails when a mocked route is never called
        yield mock


def _answer(content: str) -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": content}}]})


def test_valid_json_answer_is_used(llm_env: None, router: respx.MockRouter) -> None:
    route = router.post(URL).mock(
        return_value=_answer(
            json.dumps(
                {"category": "pests", "urgency": "normal", "confidence": 0.93, "reasons": ["punaises de lit"]}
            )
        )
    )
    result = triage("On a des punaises de lit dans la chambre des enfants", id="DEM-1")
    assert result.category is RequestCategory.PESTS
    assert result.urgency is Urgency.NORMAL
    assert result.confidence == 0.93
    assert result.reasons == ["llm: punaises de lit"]
    assert result.model_version == f"llm:mistral-small-fr|{MODEL_VERSION}"
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "mistral-small-fr"
    assert sent["response_format"] == {"type": "json_object"}
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk-test-123"


def test_invalid_json_falls_back_offline(llm_env: None, router: respx.MockRouter) -> None:
    router.post(URL).mock(return_value=_answer("Catégorie : plomberie, urgence : haute"))
    result = triage("Le robinet de la cuisine fuit goutte à goutte")
    assert result.model_version == MODEL_VERSION
    assert result.category is RequestCategory.PLUMBING
    assert result.reasons[-1] == "fallback: LLM answer is not valid JSON"


def test_timeout_falls_back_offline(llm_env: None, router: respx.MockRouter) -> None:
    router.post(URL).mock(side_effect=httpx.ReadTimeout("too slow"))
    result = triage("L'ascenseur est en panne depuis deux jours")
    assert result.model_version == MODEL_VERSION
    assert (result.category, result.urgency) == (RequestCategory.LIFT, Urgency.HIGH)
    assert "fallback: LLM call failed: ReadTimeout" in result.reasons


def test_answer_outside_the_taxonomy_falls_back(llm_env: None, router: respx.MockRouter) -> None:
    router.post(URL).mock(
        return_value=_answer(json.dumps({"category": "plomberie", "urgency": "très urgent", "confidence": 2}))
    )
    result = triage("Il y a des cafards dans la cuisine")
    assert result.model_version == MODEL_VERSION
    assert result.category is RequestCategory.PESTS
    assert result.reasons[-1].startswith("fallback: LLM answer does not validate")


def test_server_error_falls_back(llm_env: None, router: respx.MockRouter) -> None:
    router.post(URL).mock(return_value=httpx.Response(503, text="overloaded"))
    assert triage("Des rats dans la cave").model_version == MODEL_VERSION


def test_offline_danger_rules_are_a_floor(llm_env: None, router: respx.MockRouter) -> None:
    router.post(URL).mock(
        return_value=_answer(
            '```json\n{"category": "heating_hot_water", "urgency": "normal", '
            '"confidence": 0.8, "reasons": []}\n```'
        )
    )
    result = triage("Ça sent le gaz très fort dans l'entrée")
    assert result.model_version.startswith("llm:")
    assert result.urgency is Urgency.URGENT
    assert any("gas smell" in reason for reason in result.reasons)


def test_no_llm_configured_means_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIVOT_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("PIVOT_LLM_MODEL", raising=False)
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(URL)
        result = triage("Ma VMC ne fonctionne plus")
    assert not route.called
    assert result.model_version == MODEL_VERSION
    with pytest.raises(LLMError):
        LLMClient(LLMSettings(base_url=None, model=None))
