"""Offline triage of tenant requests (category and urgency), with an optional LLM backend.

See ``docs/ai.md``. The bus connector that calls it is wired by the hub, not here.
"""

from connectors.ai_triage.model import MODEL_VERSION, TriageResult, classify

__all__ = ["MODEL_VERSION", "TriageResult", "classify"]
