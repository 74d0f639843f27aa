"""Settings of the AI services: the triage review threshold, the optional LLM endpoint, the connector.

Variables: ``PIVOT_AI_TRIAGE_REVIEW_THRESHOLD``, ``PIVOT_AI_CERTIFICATE_REVIEW_THRESHOLD``, and for
the optional LLM backend ``PIVOT_LLM_BASE_URL``, ``PIVOT_LLM_MODEL``, ``PIVOT_LLM_API_KEY``,
``PIVOT_LLM_TIMEOUT_S``. Without ``PIVOT_LLM_BASE_URL`` and ``PIVOT_LLM_MODEL`` everything runs
offline. The bus connector (:class:`AiTriageSettings`) reads ``PIVOT_CONNECTOR_AI_TRIAGE_*``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.sdk.settings import ConnectorSettings


class AiSettings(BaseSettings):
    """Thresholds of the offline models (``PIVOT_AI_*``)."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_AI_", extra="ignore")

    triage_review_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A triage whose confidence is below this is flagged needs_human_review.",
    )
    certificate_review_threshold: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="A certificate read with a lower confidence should be checked by a person.",
    )

    @property
    def review_threshold(self) -> float:
        """Alias of :attr:`triage_review_threshold`."""
        return self.triage_review_threshold


class LLMSettings(BaseSettings):
    """Optional OpenAI-compatible chat-completions endpoint (``PIVOT_LLM_*``)."""

    model_config = SettingsConfigDict(env_prefix="PIVOT_LLM_", extra="ignore")

    base_url: str | None = Field(
        default=None, description="e.g. http://127.0.0.1:8080/v1 (the /chat/completions path is appended)."
    )
    model: str | None = Field(default=None, description="Model name sent in the request.")
    api_key: SecretStr | None = Field(default=None, description="Bearer token, when the endpoint needs one.")
    timeout_s: float = Field(default=15.0, gt=0, description="Timeout of one LLM call.")

    @property
    def enabled(self) -> bool:
        """Whether an endpoint and a model are both configured."""
        return bool(self.base_url and self.model)


@lru_cache(maxsize=1)
def get_triage_settings() -> AiSettings:
    """The AI settings, read once from the environment."""
    return AiSettings()


def get_llm_settings() -> LLMSettings:
    """The LLM settings, read from the environment at each call (cheap; lets tests set them)."""
    return LLMSettings()


class AiTriageSettings(ConnectorSettings):
    """``PIVOT_CONNECTOR_AI_TRIAGE_*``: the triage connector on the bus.

    It calls no satellite: the inherited ``base_url`` and timeouts are unused. What the triage
    decides is set by :class:`AiSettings` (review threshold) and :class:`LLMSettings` (the
    optional LLM backend), shared with ``pivot ai triage``.
    """

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_AI_TRIAGE_", extra="ignore")
