"""Evaluation of the triage on a labelled JSONL set (default: the shipped held-out ``data/eval.jsonl``).

Metrics: category accuracy and macro-F1 (over the categories present in the gold labels or the
predictions), urgency accuracy, recall and precision of ``urgent`` (the error that matters most is
a missed urgent request), the share flagged for human review and the time per message.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectors.ai_triage.model import EVAL_PATH, Classifier, get_classifier, load_jsonl


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean of per-label F1 over the labels seen in ``gold`` or ``predicted``."""
    labels = sorted(set(gold) | set(predicted))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if p == label != g)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label != p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def evaluate_triage(path: Path = EVAL_PATH, classifier: Classifier | None = None) -> dict[str, Any]:
    """Run the classifier on a labelled set (``id``, ``text``, ``category``, ``urgency`` per line).

    Returns:
        Flat metrics: ``triage.accuracy``, ``triage.macro_f1``, ``triage.urgent_recall``,
        ``triage.urgent_precision``, ``triage.urgency_accuracy``, ``triage.items``,
        ``triage.needs_review_rate``, ``triage.ms_per_item``, and ``triage.errors`` (the misclassified ids).

    """
    items = load_jsonl(path)
    if not items:
        raise ValueError(f"{path}: no labelled item")
    classifier = classifier or get_classifier()
    started = time.perf_counter()
    results = [classifier.classify(item["text"], id=str(item.get("id"))) for item in items]
    elapsed = time.perf_counter() - started
    gold_c = [item["category"] for item in items]
    pred_c = [r.category.value for r in results]
    gold_u = [item["urgency"] for item in items]
    pred_u = [r.urgency.value for r in results]
    tp = sum(1 for g, p in zip(gold_u, pred_u, strict=True) if g == p == "urgent")
    fn = sum(1 for g, p in zip(gold_u, pred_u, strict=True) if g == "urgent" != p)
    fp = sum(1 for g, p in zip(gold_u, pred_u, strict=True) if p == "urgent" != g)
    n = len(items)
    return {
        "triage.items": n,
        "triage.accuracy": round(sum(g == p for g, p in zip(gold_c, pred_c, strict=True)) / n, 4),
        "triage.macro_f1": round(macro_f1(gold_c, pred_c), 4),
        "triage.urgency_accuracy": round(sum(g == p for g, p in zip(gold_u, pred_u, strict=True)) / n, 4),
        "triage.urgent_recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "triage.urgent_precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "triage.needs_review_rate": round(sum(r.needs_human_review for r in results) / n, 4),
        "triage.ms_per_item": round(1000 * elapsed / n, 3),
        "triage.errors": [
            item.get("id")
            for item, r in zip(items, results, strict=True)
            if r.category.value != item["category"] or r.urgency.value != item["urgency"]
        ],
    }
