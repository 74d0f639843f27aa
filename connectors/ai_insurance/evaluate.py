"""Evaluation of the certificate reader on a labelled folder (default: the shipped set).

A folder holds documents (PDF or text) and ``labels.jsonl`` (one line per document: ``file`` and
the expected ``insurer``, ``policy_number``, ``insured_names``, ``address``, ``valid_from``,
``valid_to``). When the shipped PDFs are missing (an install without package data), the set is
regenerated in a temporary folder by :mod:`connectors.ai_insurance.make_eval_set` (same seed,
same files).

Comparison per field: insurer by canonical name (``Pacifica`` = ``Crédit Agricole Assurances``),
policy number ignoring spaces and punctuation, names one to one with
:func:`~connectors.ai_insurance.control.names_match`, address with
:func:`~connectors.ai_insurance.control.addresses_match`, dates exactly.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from connectors.ai_insurance.control import addresses_match, fold, names_match
from connectors.ai_insurance.make_eval_set import DATA_DIR, LABELS_NAME, build
from connectors.ai_insurance.reader import _INSURER_RE, CertificateReadError, read_certificate

FIELDS = ("insurer", "policy_number", "insured_names", "address", "valid_from", "valid_to")


def _alnum(value: str | None) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(value or ""))


def canonical_insurer(name: str | None) -> str:
    """The canonical name of a known insurer (or the folded name itself)."""
    folded = fold(name or "")
    for regex, canonical in _INSURER_RE:
        if regex.search(folded):
            return _alnum(canonical)
    return _alnum(name)


def field_correct(field: str, got: Any, expected: Any) -> bool:
    """Whether one extracted field equals its label (see module docstring)."""
    if field == "insurer":
        return bool(got) and canonical_insurer(got) == canonical_insurer(expected)
    if field == "policy_number":
        return bool(got) and _alnum(got) == _alnum(expected)
    if field == "insured_names":
        got, expected = list(got or []), list(expected or [])
        if len(got) != len(expected):
            return False
        remaining = list(got)
        for name in expected:
            match = next((g for g in remaining if names_match(g, name)), None)
            if match is None:
                return False
            remaining.remove(match)
        return True
    if field == "address":
        return addresses_match(got, expected) if expected else got is None
    return (got or None) == (expected or None)


def _labelled_folder(
    directory: Path | None,
) -> tuple[Path, list[dict[str, Any]], tempfile.TemporaryDirectory[str] | None]:
    directory = directory or DATA_DIR
    labels_path = directory / LABELS_NAME
    tmp = None
    if not labels_path.exists() or any(
        not (directory / json.loads(line)["file"]).exists()
        for line in labels_path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ):
        if directory != DATA_DIR:
            raise FileNotFoundError(f"{directory}: no {LABELS_NAME} or a labelled file is missing")
        tmp = tempfile.TemporaryDirectory(prefix="pivot-certificates-")
        directory = Path(tmp.name)
        build(directory)
        labels_path = directory / LABELS_NAME
    labels = [
        json.loads(line) for line in labels_path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return directory, labels, tmp


def evaluate_certificates(directory: Path | None = None) -> dict[str, Any]:
    """Read every labelled document and score each field.

    Returns:
        Flat metrics: ``certificates.field_accuracy.<field>`` for each field,
        ``certificates.overall`` (mean over all field checks), ``certificates.documents``,
        ``certificates.documents_all_correct``, ``certificates.layouts``, ``certificates.ms_per_document``
        and ``certificates.errors`` (file → wrong fields).

    """
    folder, labels, tmp = _labelled_folder(directory)
    try:
        correct = dict.fromkeys(FIELDS, 0)
        all_correct = 0
        errors: dict[str, list[str]] = {}
        started = time.perf_counter()
        for label in labels:
            try:
                got = read_certificate(folder / label["file"]).public()
            except CertificateReadError:
                got = {}
            wrong = [f for f in FIELDS if not field_correct(f, got.get(f), label.get(f))]
            for field in FIELDS:
                correct[field] += field not in wrong
            all_correct += not wrong
            if wrong:
                errors[label["file"]] = wrong
        elapsed = time.perf_counter() - started
    finally:
        if tmp is not None:
            tmp.cleanup()
    n = len(labels)
    metrics: dict[str, Any] = {f"certificates.field_accuracy.{f}": round(correct[f] / n, 4) for f in FIELDS}
    metrics["certificates.overall"] = round(sum(correct.values()) / (n * len(FIELDS)), 4)
    metrics["certificates.documents"] = n
    metrics["certificates.documents_all_correct"] = round(all_correct / n, 4)
    metrics["certificates.layouts"] = len({label.get("layout", label["file"]) for label in labels})
    metrics["certificates.ms_per_document"] = round(1000 * elapsed / n, 2)
    metrics["certificates.errors"] = errors
    return metrics
