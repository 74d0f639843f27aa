"""The targets of the issue hold on the shipped held-out sets, and the sets are what they claim."""

from __future__ import annotations

import json

from canonical_model import RequestCategory
from connectors.ai_insurance.evaluate import FIELDS, evaluate_certificates
from connectors.ai_insurance.make_eval_set import DATA_DIR
from connectors.ai_triage.evaluate import evaluate_triage, macro_f1
from connectors.ai_triage.model import EVAL_PATH, TRAIN_PATH, load_jsonl


def test_triage_targets_hold_on_the_held_out_set() -> None:
    metrics = evaluate_triage()
    assert metrics["triage.items"] >= 300
    assert metrics["triage.macro_f1"] >= 0.85
    assert metrics["triage.urgent_recall"] >= 0.95
    assert metrics["triage.urgent_precision"] >= 0.70


def test_eval_set_is_disjoint_from_training_and_covers_the_taxonomy() -> None:
    train = {item["text"].casefold() for item in load_jsonl(TRAIN_PATH)}
    evaluation = load_jsonl(EVAL_PATH)
    assert not train & {item["text"].casefold() for item in evaluation}
    assert {item["category"] for item in evaluation} == {c.value for c in RequestCategory}
    assert sum(item["urgency"] == "urgent" for item in evaluation) >= 40


def test_certificate_targets_hold_on_the_shipped_set() -> None:
    metrics = evaluate_certificates()
    for field in FIELDS:
        assert metrics[f"certificates.field_accuracy.{field}"] >= 0.9, field
    assert metrics["certificates.overall"] >= 0.9


def test_certificate_set_has_enough_pdfs_and_layouts() -> None:
    labels = [
        json.loads(line) for line in (DATA_DIR / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    pdfs = [label for label in labels if label["file"].endswith(".pdf")]
    assert len(pdfs) >= 40
    assert len({label["layout"] for label in pdfs}) >= 8
    assert sum((DATA_DIR / label["file"]).stat().st_size for label in labels) < 3 * 1024 * 1024


def test_macro_f1_counts_every_label() -> None:
    assert macro_f1(["a", "a", "b"], ["a", "a", "b"]) == 1.0
    assert macro_f1(["a", "b"], ["a", "a"]) == (2 / 3 + 0.0) / 2


def test_training_set_is_regenerated_identically() -> None:
    from connectors.ai_triage.make_train_set import build

    assert build() == load_jsonl(TRAIN_PATH)
