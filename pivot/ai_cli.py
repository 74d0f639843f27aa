"""``pivot ai``: the offline AI services from the command line (registered by ``pivot.cli``).

* ``pivot ai triage --input FILE.jsonl`` — one ``{"id", "text"}`` per line in, one
  ``{"id", "category", "urgency", "confidence", "reasons"}`` per line out on stdout; a bad line
  gives one JSON error line on stderr (``{"line": N, "error": ...}``), the others go on, and the
  exit code is 1 at the end when any line failed.
* ``pivot ai read-certificate PATH`` — one JSON object with the fields read.
* ``pivot ai eval`` — the shipped evaluation sets (or yours), as a table or ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

ai_app = typer.Typer(
    help="Offline AI services: triage of tenant requests and reading of insurance certificates.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_TRACE_FIELDS = ("needs_human_review", "model_version", "input_sha256")


def _error_line(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False), err=True)


@ai_app.command()
def triage(
    input: Annotated[
        Path, typer.Option("--input", "-i", help='JSON Lines file: one {"id", "text"} per line.')
    ],
    trace: Annotated[
        bool, typer.Option(help="Also print needs_human_review, model_version and input_sha256.")
    ] = False,
) -> None:
    """Classify each tenant message of FILE into category and urgency (JSON Lines on stdout).

    Uses the LLM when PIVOT_LLM_BASE_URL and PIVOT_LLM_MODEL are set, the offline model otherwise
    or whenever the LLM fails.
    """
    from connectors.ai_triage.llm import triage as run_triage

    try:
        handle = input.open(encoding="utf-8")
    except OSError as exc:
        _error_line({"line": None, "error": f"cannot read {input}: {exc.strerror or exc}"})
        raise typer.Exit(code=2) from None
    failed = 0
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as exc:
                failed += 1
                _error_line({"line": number, "error": f"invalid JSON: {exc.msg} (column {exc.colno})"})
                continue
            problem = None
            if not isinstance(item, dict):
                problem = 'a line must be a JSON object with "id" and "text"'
            elif "id" not in item or isinstance(item["id"], dict | list):
                problem = 'missing or non-scalar "id"'
            elif not isinstance(item.get("text"), str) or not item["text"].strip():
                problem = 'missing or empty "text" (a non-empty string is required)'
            if problem is not None:
                failed += 1
                _error_line(
                    {
                        "line": number,
                        "id": item.get("id") if isinstance(item, dict) else None,
                        "error": problem,
                    }
                )
                continue
            result = run_triage(item["text"], id=None if item["id"] is None else str(item["id"]))
            output = result.public()
            output["id"] = item["id"]  # echoed as given (number or string)
            if trace:
                output.update({name: getattr(result, name) for name in _TRACE_FIELDS})
            typer.echo(json.dumps(output, ensure_ascii=False))
    if failed:
        raise typer.Exit(code=1)


@ai_app.command("read-certificate")
def read_certificate(
    path: Annotated[Path, typer.Argument(help="PDF with a text layer, or a UTF-8 text file.")],
) -> None:
    """Read a home-insurance certificate and print its fields as one JSON object."""
    from connectors.ai_insurance.reader import CertificateReadError
    from connectors.ai_insurance.reader import read_certificate as read

    if not path.exists():
        typer.echo(f"error: {path}: no such file", err=True)
        raise typer.Exit(code=1)
    try:
        extracted = read(path)
    except CertificateReadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(extracted.public(), ensure_ascii=False))


def _table(metrics: dict[str, Any]) -> Table:
    table = Table(title="pivot ai eval", show_lines=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    targets = {
        "triage.macro_f1": "≥ 0.85",
        "triage.urgent_recall": "≥ 0.95",
        "triage.urgent_precision": "≥ 0.70",
    }
    for key, value in metrics.items():
        if isinstance(value, dict | list):
            continue
        target = targets.get(key, "≥ 0.90" if key.startswith("certificates.field_accuracy.") else "")
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown, target)
    return table


@ai_app.command("eval")
def evaluate(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    triage_set: Annotated[
        Path | None,
        typer.Option(help="Labelled triage JSONL (id, text, category, urgency); default: shipped set."),
    ] = None,
    certificates_dir: Annotated[
        Path | None, typer.Option(help="Folder of certificates with labels.jsonl; default: shipped set.")
    ] = None,
    details: Annotated[bool, typer.Option(help="Also list the misread items (ids and files).")] = False,
) -> None:
    """Measure the triage, the certificate reader and the assistant on the shipped labelled sets."""
    from connectors.ai_assistant.evaluate import evaluate as evaluate_assistant
    from connectors.ai_insurance.evaluate import evaluate_certificates
    from connectors.ai_triage.evaluate import evaluate_triage
    from connectors.ai_triage.model import EVAL_PATH, MODEL_VERSION

    try:
        metrics: dict[str, Any] = {
            **evaluate_triage(triage_set or EVAL_PATH),
            **evaluate_certificates(certificates_dir),
            **evaluate_assistant(),
        }
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(f"error: cannot evaluate: {exc}", err=True)
        raise typer.Exit(code=1) from None
    metrics["triage.model_version"] = MODEL_VERSION
    errors = {
        "triage.errors": metrics.pop("triage.errors"),
        "certificates.errors": metrics.pop("certificates.errors"),
        "assistant.errors": metrics.pop("assistant.errors"),
    }
    if details:
        metrics.update(errors)
    if as_json:
        typer.echo(json.dumps(metrics, ensure_ascii=False))
        return
    console = Console()
    if console.width < 110:
        console = Console(width=110)
    console.print(_table(metrics))
    if details:
        console.print(errors)
