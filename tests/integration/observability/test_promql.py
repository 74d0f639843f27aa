"""Every PromQL expression of the dashboards and alert rules, run by a real Prometheus.

Debian's ``prometheus`` package (``prometheus`` and ``promtool``) is installed when missing.
``promtool`` checks the rules, the configuration and the rules' unit tests; then a demo runs
in this process at small scale with heavy faults (so retries, dead letters, replays and
delivery errors exist), its metrics registry is served on loopback and scraped every second by
a Prometheus started for the test. Each dashboard panel's expression must return data; each
alert expression must evaluate without error (it may rightly return nothing).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from pivot.demo import DemoOptions, DemoReport, run_demo
from pivot.serving import free_port
from pivot.settings import PivotSettings

ROOT = Path(__file__).resolve().parents[3]
OBSERVABILITY = ROOT / "observability"
DASHBOARDS = sorted((OBSERVABILITY / "grafana/dashboards").glob("*.json"))
RULES = OBSERVABILITY / "prometheus/rules/pivot.rules.yml"
RULE_TESTS = OBSERVABILITY / "prometheus/tests/pivot.rules.test.yml"

#: Grafana's variables, replaced as Grafana would for a range that covers the whole demo.
GRAFANA_VARIABLES = {"$__rate_interval": "2m", "$__range": "5m", "$__interval": "15s",
                     "$connector": ".*"}


def _install_prometheus() -> None:
    """``apt-get install prometheus`` (as root, or through password-less sudo)."""
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            pytest.fail("Prometheus is missing and cannot be installed: run "
                        "`apt-get install -y prometheus` as root")
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "--no-install-recommends", "prometheus"]
    result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:  # stale or missing package lists: update once, then retry
        subprocess.run([*prefix, "apt-get", "update"], capture_output=True, text=True, env=env,
                       timeout=600)
        result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        pytest.fail("cannot install Debian's prometheus package (apt unreachable?): "
                    + (result.stderr or result.stdout).strip()[-800:])


@pytest.fixture(scope="session")
def prometheus_binaries() -> tuple[str, str]:
    """Paths of ``prometheus`` and ``promtool``, installed from Debian's package when missing."""
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        _install_prometheus()
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    assert prometheus and promtool, "the prometheus package did not provide its binaries"
    return prometheus, promtool


def _promtool(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_promtool_checks_the_rules_and_the_configuration(
    prometheus_binaries: tuple[str, str],
) -> None:
    _, promtool = prometheus_binaries
    rules = _promtool(promtool, "check", "rules", str(RULES))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = _promtool(promtool, "check", "config",
                       str(OBSERVABILITY / "prometheus/prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_promtool_unit_tests_of_the_alerts_pass(prometheus_binaries: tuple[str, str]) -> None:
    _, promtool = prometheus_binaries
    result = _promtool(promtool, "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass
class Scraped:
    """A Prometheus that scraped a whole demo run."""

    url: str
    report: DemoReport

    def get(self, path: str, **params: str) -> dict[str, Any]:
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:  # 400/422: the body says why
            return json.loads(exc.read())

    def query(self, expr: str) -> dict[str, Any]:
        return self.get("/api/v1/query", query=expr)


def _wait_until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout_s} s")


@pytest.fixture(scope="module")
def scraped(prometheus_binaries: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Scraped]:
    """A demo run scraped every second by a Prometheus that also evaluates the alert rules."""
    prometheus, _ = prometheus_binaries
    workdir = tmp_path_factory.mktemp("promql")
    registry = CollectorRegistry()
    exporter, _thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    target = f"127.0.0.1:{exporter.server_port}"
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "pivot-demo", "static_configs": [{"targets": [target]}]}],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [prometheus, f"--config.file={workdir / 'prometheus.yml'}",
         f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=(workdir / "prometheus.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=2).status == 200,
                    30, "Prometheus ready")
        report = run_demo(PivotSettings(), DemoOptions(
            messages=20, scale=200, seed=42, faults="heavy", timeout_s=60,
            database_url=f"sqlite:///{workdir / 'demo.db'}", workdir=workdir, registry=registry))
        assert report.consistent, [c for c in report.checks if not c.ok]
        finished = time.time()
        here = Scraped(url, report)

        def scraped_after_the_demo() -> bool:
            up = here.query('up{job="pivot-demo"}')["data"]["result"]
            return bool(up) and float(up[0]["value"][0]) > finished + 1

        _wait_until(scraped_after_the_demo, 30, "two scrapes after the demo")
        yield here
    finally:
        process.terminate()
        process.wait(15)
        exporter.shutdown()


def _expressions() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expression) of every panel target."""
    found = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((path.stem, panel["title"], target["expr"]))
    return found


def _substitute(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr}"
    return expr


def _hub_metric_names() -> set[str]:
    """Names of the metrics observability/metrics.py defines (exported with these prefixes)."""
    from observability.metrics import PivotMetrics

    names = set()
    for metric in PivotMetrics(CollectorRegistry()).registry.collect():
        names.add(metric.name)
    return names


def test_every_dashboard_expression_returns_data(scraped: Scraped) -> None:
    expressions = _expressions()
    assert len(DASHBOARDS) == 4 and len(expressions) > 50
    defined = _hub_metric_names()
    failures = []
    for dashboard, title, expr in expressions:
        answer = scraped.query(_substitute(expr))
        if answer.get("status") != "success":
            failures.append(f"{dashboard} / {title}: {answer.get('error')} in {expr}")
            continue
        values = [float(r["value"][1]) for r in answer["data"]["result"]]
        if not values or all(math.isnan(v) for v in values):
            used = set(re.findall(r"pivot_[a-z_]+", expr))
            unknown = sorted(n for n in used
                             if re.sub(r"_(total|bucket|sum|count)$", "", n) not in defined)
            why = f" (not defined by the hub: {', '.join(unknown)})" if unknown else ""
            failures.append(f"{dashboard} / {title}: no data{why} for {expr}")
    assert not failures, "\n".join(failures)


def test_the_connector_variable_lists_every_connector(scraped: Scraped) -> None:
    dashboard = json.loads((OBSERVABILITY / "grafana/dashboards/connector.json").read_text())
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "connector")
    metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"]["query"]).groups()
    answer = scraped.get(f"/api/v1/label/{label}/values", **{"match[]": metric})
    assert answer["status"] == "success"
    assert set(answer["data"]) == set(scraped.report.connectors)


def _alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_expression_evaluates(scraped: Scraped) -> None:
    rules = _alert_rules()
    assert len(rules) >= 8
    failures = []
    for rule in rules:
        answer = scraped.query(rule["expr"])
        if answer.get("status") != "success":
            failures.append(f"{rule['alert']}: {answer.get('error')}")
    assert not failures, "\n".join(failures)

    # Prometheus evaluated the same rules every second on the demo's series: none failed.
    def all_evaluated() -> bool:
        loaded = [r for g in scraped.get("/api/v1/rules")["data"]["groups"] for r in g["rules"]]
        return len(loaded) == len(rules) and all(r["health"] != "unknown" for r in loaded)

    _wait_until(all_evaluated, 15, "every rule evaluated")
    loaded = [r for g in scraped.get("/api/v1/rules")["data"]["groups"] for r in g["rules"]]
    assert [(r["name"], r["lastError"]) for r in loaded if r["health"] != "ok"] == []


def test_the_demo_exports_the_backlog_gauges(scraped: Scraped) -> None:
    depth = scraped.query("max by (connector) (pivot_dlq_depth)")["data"]["result"]
    assert {r["metric"]["connector"] for r in depth} == set(scraped.report.connectors)
    lag = scraped.query("pivot_consumer_lag")["data"]["result"]
    groups = {r["metric"]["group"] for r in lag}
    assert {"pivot.translate.chatbot", "pivot.deliver.urbest"} <= groups
