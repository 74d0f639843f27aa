"""``PIVOT_CONNECTOR_AI_ASSISTANT_*``: the tenant assistant on the bus."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from connectors.sdk.settings import ConnectorSettings

#: Below this retrieval score a question goes to a person (chosen on ``data/eval.jsonl``).
DEFAULT_ANSWER_THRESHOLD = 0.20
#: Below this share of its words known to the matched entry, a question goes to a person.
DEFAULT_MIN_COVERAGE = 0.35


class AiAssistantSettings(ConnectorSettings):
    """The assistant's FAQ and the two bars a FAQ match must pass to be sent (score, coverage).

    It calls no satellite: the inherited ``base_url`` and timeouts are unused.
    """

    model_config = SettingsConfigDict(env_prefix="PIVOT_CONNECTOR_AI_ASSISTANT_", extra="ignore")

    answer_threshold: float = Field(
        default=DEFAULT_ANSWER_THRESHOLD, ge=0, le=1,
        description="A FAQ match scoring below this is handed to an agent instead of answered.",
    )
    min_coverage: float = Field(
        default=DEFAULT_MIN_COVERAGE, ge=0, le=1,
        description="A FAQ match covering a smaller share of the question's words is handed to an agent.",
    )
    faq_path: Path | None = Field(
        default=None, description="A landlord's own FAQ (same JSON format); the shipped one when unset.",
    )
