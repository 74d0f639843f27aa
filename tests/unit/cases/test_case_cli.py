"""``pivot case show|list`` through typer's CliRunner, on a store prepared as the hub writes it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from pivot.cases.cli import case_app
from pivot.cli import app
from pivot.store.tables import utcnow

if TYPE_CHECKING:  # fixture types; a conftest is not importable from a test module
    from tests.unit.cases.conftest import Lineage

runner = CliRunner()
WIDE = {"COLUMNS": "220"}


def test_show_prints_the_timeline_with_trace_ids(lineage: Lineage) -> None:
    case = lineage.repair_case()
    url = lineage.store.url
    result = runner.invoke(case_app, ["show", case.message_id, "--database-url", url], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Case {case.request_id}" in out
    assert "deadline 2026-11-27 08:29:58 UTC (high: 72 h)" in out and "met" in out
    for words in ("request received via whatsapp", "triaged high: plumbing",
                  "work order opened in urbest", "billing line written in the ERP: 185.40 EUR",
                  "tenant told the work is done and 185.40 EUR recharged", case.trace,
                  case.completion_trace, case.work_order, "intervention.completed.v1"):
        assert words in out, words


def test_show_json_is_one_object(lineage: Lineage) -> None:
    case = lineage.repair_case(urgency="urgent", complete=False, t0=utcnow() - timedelta(hours=30))
    result = runner.invoke(case_app, ["show", case.work_order, "--json", "--all",
                                      "--database-url", lineage.store.url])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["case"] == case.request_id
    assert document["deadline"]["urgency"] == "urgent"
    assert document["deadline"]["status"] == "breached" and document["deadline"]["overdue"] is True
    systems = [entry["system"] for entry in document["timeline"]]
    assert {"chatbot", "ai_triage", "ai_insurance", "ublo", "urbest"} <= set(systems)
    assert all("trace_id" in entry for entry in document["timeline"])


def test_an_unknown_id_is_one_error_line(lineage: Lineage) -> None:
    result = runner.invoke(case_app, ["show", "URB-1999-000001", "--database-url", lineage.store.url])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no case for 'URB-1999-000001'")
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_list_filters_open_and_overdue_cases(own_lineage: Lineage) -> None:
    done = own_lineage.repair_case(t0=utcnow() - timedelta(days=5))
    waiting = own_lineage.repair_case(urgency="urgent", complete=False,
                                      t0=utcnow() - timedelta(hours=30))
    url = own_lineage.store.url
    every = json.loads(runner.invoke(case_app, ["list", "--json", "--database-url", url]).stdout)
    assert {c["case"] for c in every["cases"]} == {done.request_id, waiting.request_id}
    overdue = runner.invoke(case_app, ["list", "--overdue", "--json", "--database-url", url])
    assert overdue.exit_code == 0, overdue.output
    [late] = json.loads(overdue.stdout)["cases"]
    assert (late["case"], late["urgency"], late["status"]) == (waiting.request_id, "urgent", "breached")
    table = runner.invoke(case_app, ["list", "--open", "--limit", "5", "--database-url", url], env=WIDE)
    assert table.exit_code == 0 and waiting.request_id in table.stdout
    assert done.request_id not in table.stdout
    assert runner.invoke(case_app, ["list", "--limit", "0", "--database-url", url]).exit_code != 0


@pytest.mark.parametrize("command", [["case"], ["case", "show"], ["case", "list"]])
def test_every_case_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout
