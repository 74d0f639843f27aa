"""Evaluation of the assistant's routing on a labelled JSONL set (default: ``data/eval.jsonl``).

Each line is ``{"id", "text", "expected"}`` where ``expected`` is a FAQ id, ``handoff`` (no
entry answers it: an agent must) or ``intent:<topic>`` (a question about the tenant's own file:
``intent:repair_status``, ``intent:insurance_status``, ``intent:inspection``). No record is
read: this measures which way each question goes, not the records' answers (unit tests do).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from connectors.ai_assistant.assistant import HANDOFF_LABEL, Assistant, get_assistant
from connectors.ai_assistant.faq import DATA

EVAL_PATH = DATA / "eval.jsonl"


def _ratio(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 1.0


def evaluate(path: Path = EVAL_PATH, assistant: Assistant | None = None) -> dict[str, Any]:
    """Route every question of a labelled set and score the routes.

    Returns:
        Flat metrics: ``assistant.items``; ``assistant.retrieval_accuracy`` (questions expecting a
        FAQ entry that got it; a hand-off counts as a miss); ``assistant.answer_precision`` (of the
        FAQ answers sent, the share that answered the question); ``assistant.handoff_precision`` (of
        the questions handed over, the share that had to be) and ``assistant.handoff_recall``;
        ``assistant.intent_accuracy`` (personal questions recognised as such);
        ``assistant.threshold``, ``assistant.model_version``, ``assistant.ms_per_item`` and
        ``assistant.errors`` (ids of the misrouted questions).

    """
    lines = path.read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    if not items:
        raise ValueError(f"{path}: no labelled item")
    assistant = assistant or get_assistant()
    started = time.perf_counter()
    routes = [assistant.route(item["text"]) for item in items]
    elapsed = time.perf_counter() - started
    pairs = [(item["expected"], route) for item, route in zip(items, routes, strict=True)]
    faq = [(e, r) for e, r in pairs if e != HANDOFF_LABEL and not e.startswith("intent:")]
    personal = [(e, r) for e, r in pairs if e.startswith("intent:")]
    answered = [(e, r) for e, r in pairs if r != HANDOFF_LABEL and not r.startswith("intent:")]
    handed = [e for e, r in pairs if r == HANDOFF_LABEL]
    should = [r for e, r in pairs if e == HANDOFF_LABEL]
    return {
        "assistant.items": len(items),
        "assistant.retrieval_accuracy": _ratio(sum(e == r for e, r in faq), len(faq)),
        "assistant.answer_precision": _ratio(sum(e == r for e, r in answered), len(answered)),
        "assistant.handoff_precision": _ratio(sum(e == HANDOFF_LABEL for e in handed), len(handed)),
        "assistant.handoff_recall": _ratio(sum(r == HANDOFF_LABEL for r in should), len(should)),
        "assistant.intent_accuracy": _ratio(sum(e == r for e, r in personal), len(personal)),
        "assistant.threshold": assistant.threshold,
        "assistant.min_coverage": assistant.min_coverage,
        "assistant.model_version": assistant.model_version,
        "assistant.ms_per_item": round(1000 * elapsed / len(items), 3),
        "assistant.errors": [item.get("id") for item, (e, r) in zip(items, pairs, strict=True) if e != r],
    }
