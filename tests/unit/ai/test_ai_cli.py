"""``pivot ai`` commands through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from connectors.ai_insurance.make_eval_set import DATA_DIR
from pivot.ai_cli import ai_app

runner = CliRunner()


def test_triage_prints_one_line_per_request_and_reports_bad_lines(tmp_path: Path) -> None:
    source = tmp_path / "requests.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"id": 17, "text": "Odeur de gaz dans la cage d'escalier"}),
                "{pas du json",
                json.dumps({"id": "DEM-2", "text": "Mon loyer a été prélevé deux fois"}),
                json.dumps({"id": "DEM-3"}),
            ]
        ),
        encoding="utf-8",
    )
    result = runner.invoke(ai_app, ["triage", "--input", str(source)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [17, "DEM-2"]
    assert set(lines[0]) == {"id", "category", "urgency", "confidence", "reasons"}
    assert (lines[0]["urgency"], lines[1]["category"]) == ("urgent", "rent_charges")
    errors = [json.loads(line) for line in result.stderr.splitlines()]
    assert [error["line"] for error in errors] == [2, 4]


def test_triage_all_good_exits_zero_and_traces(tmp_path: Path) -> None:
    source = tmp_path / "ok.jsonl"
    source.write_text(json.dumps({"id": "a", "text": "La VMC ne marche plus"}) + "\n\n", encoding="utf-8")
    result = runner.invoke(ai_app, ["triage", "--input", str(source), "--trace"])
    assert result.exit_code == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["category"] == "damp_ventilation"
    assert {"needs_human_review", "model_version", "input_sha256"} <= set(line)


def test_triage_missing_file_is_one_error(tmp_path: Path) -> None:
    result = runner.invoke(ai_app, ["triage", "--input", str(tmp_path / "absent.jsonl")])
    assert result.exit_code != 0
    assert len(result.stderr.strip().splitlines()) == 1


def test_read_certificate_prints_the_fields() -> None:
    label = json.loads((DATA_DIR / "labels.jsonl").read_text(encoding="utf-8").splitlines()[0])
    result = runner.invoke(ai_app, ["read-certificate", str(DATA_DIR / label["file"])])
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)
    assert list(got) == [
        "insurer",
        "policy_number",
        "insured_names",
        "address",
        "valid_from",
        "valid_to",
        "confidence",
    ]
    assert got["valid_to"] == label["valid_to"]


def test_read_certificate_unreadable_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "attestation.pdf"
    bad.write_bytes(b"\x00\x01 garbage")
    result = runner.invoke(ai_app, ["read-certificate", str(bad)])
    assert result.exit_code != 0
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_eval_json_has_the_documented_keys() -> None:
    result = runner.invoke(ai_app, ["eval", "--json"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key in [
        "triage.accuracy",
        "triage.macro_f1",
        "triage.urgent_recall",
        "triage.urgent_precision",
        "certificates.overall",
    ] + [
        f"certificates.field_accuracy.{f}"
        for f in ("insurer", "policy_number", "insured_names", "address", "valid_from", "valid_to")
    ]:
        assert isinstance(metrics[key], float), key
    table = runner.invoke(ai_app, ["eval"])
    assert table.exit_code == 0 and "triage.macro_f1" in table.stdout
