"""The Grafana dashboards and the alert rules: structure, datasources, and their runbook.

Their PromQL is run against a real Prometheus in tests/integration/observability/test_promql.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = sorted((ROOT / "observability/grafana/dashboards").glob("*.json"))
OPERATIONS = (ROOT / "docs/operations.md").read_text()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _datasource_uids() -> set[str]:
    folder = ROOT / "observability/grafana/provisioning/datasources"
    return {d["uid"] for f in folder.glob("*.yaml") for d in yaml.safe_load(f.read_text())["datasources"]}


def test_the_four_dashboards_have_distinct_uids_and_titles() -> None:
    dashboards = [_load(p) for p in DASHBOARDS]
    assert {d["uid"] for d in dashboards} == {"pivot-flow-health", "pivot-connector",
                                              "pivot-dlq-errors", "pivot-latency"}
    assert len({d["title"] for d in dashboards}) == 4


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_panels_are_well_formed(path: Path) -> None:
    dashboard = _load(path)
    uids = _datasource_uids()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids
        assert "When it turns red:" in panel["description"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids
            assert re.search(r"\bpivot_\w+", target["expr"]), target["expr"]
            assert not re.search(r"\{[^}]*\b(id|tenant|event_id)=", target["expr"])


def test_the_connector_dashboard_filters_every_panel_by_its_variable() -> None:
    dashboard = _load(ROOT / "observability/grafana/dashboards/connector.json")
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "connector")
    assert variable["includeAll"] and variable["allValue"] == ".*"
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert "$connector" in target["expr"], panel["title"]


def test_every_panel_is_described_in_the_operations_guide() -> None:
    for path in DASHBOARDS:
        for panel in _load(path)["panels"]:
            if panel["type"] != "row":
                assert f"**{panel['title']}**" in OPERATIONS, f"{path.stem}: {panel['title']}"


def test_every_alert_has_a_runbook_in_the_operations_guide() -> None:
    rules = yaml.safe_load((ROOT / "observability/prometheus/rules/pivot.rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            anchor = rule["alert"].lower()
            assert rule["annotations"]["runbook"] == f"docs/operations.md#{anchor}"
            assert f"### {rule['alert']}" in OPERATIONS, rule["alert"]
            assert rule["labels"]["severity"] in {"info", "warning", "critical"}
