"""Triage of tenant requests (category and urgency): offline model, optional LLM, bus connector.

See ``docs/ai.md``. :class:`AiTriageConnector` (and its settings) are imported on first use,
so ``import connectors.ai_triage`` stays light; the model itself is trained on first use too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.ai_triage.model import MODEL_VERSION, TriageResult, classify

if TYPE_CHECKING:
    from connectors.ai_triage.connector import AiTriageConnector
    from connectors.ai_triage.settings import AiTriageSettings

__all__ = ["MODEL_VERSION", "AiTriageConnector", "AiTriageSettings", "TriageResult", "classify"]


def __getattr__(name: str) -> Any:
    """Import the connector and its settings when first asked for."""
    if name == "AiTriageConnector":
        from connectors.ai_triage.connector import AiTriageConnector

        return AiTriageConnector
    if name == "AiTriageSettings":
        from connectors.ai_triage.settings import AiTriageSettings

        return AiTriageSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
