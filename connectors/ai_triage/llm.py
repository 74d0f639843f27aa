"""Optional LLM backend for the triage: any OpenAI-compatible chat-completions endpoint.

Never required. Configure ``PIVOT_LLM_BASE_URL`` (e.g. ``http://127.0.0.1:8080/v1``) and
``PIVOT_LLM_MODEL``, plus ``PIVOT_LLM_API_KEY`` when the endpoint wants a bearer token. The
model is asked for one JSON object (``response_format: json_object``, temperature 0); its answer
is validated (taxonomy values, confidence in [0, 1]). On *any* failure — timeout, HTTP error,
invalid JSON, a value outside the taxonomy — :func:`triage` falls back to the offline
:func:`~connectors.ai_triage.model.classify`, and says so in the reasons.

Safety floor: when the offline rules see danger (``urgent`` from a danger cue), the result stays
``urgent`` whatever the LLM says — a missed urgent request is the worst error.
"""

from __future__ import annotations

import json
import logging

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from canonical_model import RequestCategory, Urgency
from connectors.ai_triage.model import CATEGORIES, MODEL_VERSION, TriageResult, classify, input_sha256
from connectors.ai_triage.settings import LLMSettings, get_llm_settings, get_triage_settings

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "Tu tries les demandes de locataires d'un bailleur social. Réponds UNIQUEMENT par un objet JSON "
    '{"category": ..., "urgency": ..., "confidence": ..., "reasons": [...]}.\n'
    f"category parmi : {', '.join(CATEGORIES)}.\n"
    "urgency : urgent (danger pour les personnes ou le bâtiment, agir sous 24 h : odeur de gaz, fumée, "
    "inondation, danger électrique, personne bloquée dans l'ascenseur, logement qui ne ferme plus, "
    "pas de chauffage en hiver pour une personne vulnérable, refoulement d'égout), high (service "
    "essentiel perdu sans danger : plus d'eau chaude, plus de chauffage, ascenseur en panne, seuls "
    "WC bouchés), sinon normal. Dans le doute entre urgent et autre chose, choisis urgent.\n"
    "confidence : nombre entre 0 et 1. reasons : les indices du texte qui ont décidé (courts)."
)


class LLMError(Exception):
    """The LLM call failed or its answer is unusable (the caller falls back)."""


class LLMTriageAnswer(BaseModel):
    """The JSON object the LLM must return."""

    model_config = ConfigDict(extra="ignore")

    category: RequestCategory
    urgency: Urgency
    confidence: float = Field(ge=0, le=1)
    reasons: list[str] = Field(default_factory=list, max_length=20)


class LLMClient:
    """A minimal OpenAI-compatible chat-completions client asking for JSON.

    Args:
        settings: Endpoint, model, key and timeout.
        client: An ``httpx.Client`` to use (tests, connection reuse); one is made per call otherwise.

    """

    def __init__(self, settings: LLMSettings, client: httpx.Client | None = None) -> None:
        if not settings.enabled:
            raise LLMError("no LLM configured (PIVOT_LLM_BASE_URL and PIVOT_LLM_MODEL)")
        self.settings = settings
        self._client = client

    def complete_json(self, system: str, user: str) -> dict[str, object]:
        """Send one chat completion and return the answer parsed as a JSON object.

        Raises:
            LLMError: Transport error, timeout, non-2xx status, or an answer that is not a JSON object.

        """
        url = str(self.settings.base_url).rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.settings.api_key is not None:
            headers["Authorization"] = f"Bearer {self.settings.api_key.get_secret_value()}"
        body = {
            "model": self.settings.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        }
        try:
            if self._client is not None:
                response = self._client.post(url, json=body, headers=headers, timeout=self.settings.timeout_s)
            else:
                with httpx.Client(timeout=self.settings.timeout_s) as client:
                    response = client.post(url, json=body, headers=headers)
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise LLMError(f"LLM call failed: {exc.__class__.__name__}") from exc
        if not isinstance(content, str):
            raise LLMError("LLM answer has no text content")
        text = content.strip()
        if text.startswith("```"):  # some models wrap JSON in a code fence despite the instruction
            text = text.strip("`").removeprefix("json").strip()
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LLMError("LLM answer is not valid JSON") from exc
        if not isinstance(parsed, dict):
            raise LLMError("LLM answer is not a JSON object")
        return parsed


def triage_with_llm(text: str, client: LLMClient, *, id: str | None = None) -> TriageResult:
    """Triage with the LLM, validated, with the offline danger rules as a floor.

    Raises:
        LLMError: The call failed or the answer does not validate.

    """
    raw = client.complete_json(SYSTEM_PROMPT, text)
    try:
        answer = LLMTriageAnswer.model_validate(raw)
    except ValidationError as exc:
        raise LLMError(f"LLM answer does not validate: {exc.error_count()} error(s)") from exc
    offline = classify(text, id=id)
    urgency = answer.urgency.value
    reasons = [f"llm: {reason}"[:200] for reason in answer.reasons]
    if (
        offline.urgency is Urgency.URGENT
        and urgency != "urgent"
        and any(r.startswith("urgent:") and "text model" not in r for r in offline.reasons)
    ):
        urgency = "urgent"
        reasons += [r for r in offline.reasons if r.startswith("urgent:")]
    threshold = get_triage_settings().triage_review_threshold
    return TriageResult(
        id=id,
        category=answer.category,
        urgency=Urgency(urgency),
        confidence=round(answer.confidence, 3),
        reasons=reasons[:8],
        needs_human_review=answer.confidence < threshold,
        model_version=f"llm:{client.settings.model}|{MODEL_VERSION}",
        input_sha256=input_sha256(text),
    )


def triage(text: str, *, id: str | None = None, llm: LLMClient | None = None) -> TriageResult:
    """Triage a message: with the LLM when one is configured, else (or on any failure) offline.

    Args:
        text: The tenant's message.
        id: Identifier echoed in the result.
        llm: An LLM client; default: one built from ``PIVOT_LLM_*`` when configured.

    Returns:
        The LLM's validated decision, or the offline decision (with a reason saying why the
        LLM was not used when it was configured but failed).

    """
    if llm is None:
        settings = get_llm_settings()
        if not settings.enabled:
            return classify(text, id=id)
        llm = LLMClient(settings)
    try:
        return triage_with_llm(text, llm, id=id)
    except LLMError as exc:
        log.warning("LLM triage unavailable, offline fallback: %s", exc)
        offline = classify(text, id=id)
        return offline.model_copy(update={"reasons": [*offline.reasons, f"fallback: {exc}"][:9]})
