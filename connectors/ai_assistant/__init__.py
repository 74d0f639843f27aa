"""The tenant assistant: answers tenants' questions from their own records and a FAQ, offline.

See ``docs/ai.md``. :class:`AiAssistantConnector`, its settings and the assistant are imported
on first use, so ``import connectors.ai_assistant`` stays light (no scikit-learn). The
evaluation is :func:`connectors.ai_assistant.evaluate.evaluate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.ai_assistant.assistant import Assistant, Reply
    from connectors.ai_assistant.connector import AiAssistantConnector
    from connectors.ai_assistant.settings import AiAssistantSettings

__all__ = ["AiAssistantConnector", "AiAssistantSettings", "Assistant", "Reply"]

_WHERE = {
    "AiAssistantConnector": "connectors.ai_assistant.connector",
    "AiAssistantSettings": "connectors.ai_assistant.settings",
    "Assistant": "connectors.ai_assistant.assistant",
    "Reply": "connectors.ai_assistant.assistant",
}


def __getattr__(name: str) -> Any:
    """Import the connector, its settings or the assistant when first asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_WHERE[name]), name)
