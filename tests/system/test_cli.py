"""The README's commands, run as a user runs them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pivot(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pivot", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_the_landlords_day_is_consistent_across_every_connector(tmp_path: Path) -> None:
    result = pivot("demo", "--json", "--faults", "none", "--messages", "30", "--scale", "300",
                   env={"PIVOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}, timeout=240)
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    failed = [c for c in report.get("checks", []) if not c["ok"]]
    assert result.returncode == 0, (failed, result.stderr[-2000:])
    assert report["consistent"] is True
    assert set(report["connectors"]) == {"ai_assistant", "ai_insurance", "ai_triage", "chatbot", "erp",
                                         "ublo", "urbest"}
    for name, counts in report["connectors"].items():
        assert counts["in"] > 0 and counts["out"] > 0, (name, counts)
    steps = {step["name"]: step for step in report["steps"]}
    assert list(steps) == ["initial_load", "tenant_messages", "interventions_completed",
                           "insurance_certificates", "lease_notice", "ublo_enrichment",
                           "dead_letters"]
    assert all(step["ok"] for step in steps.values())
    load = steps["initial_load"]
    assert load["lots"] == load["ublo_properties"] == load["golden"]["lot"] == 300
    messages = steps["tenant_messages"]
    assert messages["requests"] == 30
    assert 0 < messages["interventions"] == messages["work_orders_needed"] < 30  # questions: none
    assert messages["linked_to_erp_tenant"] > 0
    assert steps["interventions_completed"]["completed"] == messages["work_orders_needed"]
    assert messages["answered"] == messages["questions"] > 0
    certificates = steps["insurance_certificates"]
    assert certificates["statuses"] == {"valid": 2, "expired": 1, "mismatch": 1}
    assert certificates["ai_decisions"] >= 4
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]
    trace = report["sample_trace"]  # one chatbot message followed end to end
    assert len(trace["trace_id"]) == 32 and trace["span_count"] >= 10


@pytest.mark.parametrize("command", [
    [], ["demo"], ["serve"], ["worker"], ["broker"], ["contracts", "export"],
    ["contracts", "check"], ["connector", "list"], ["bench"], ["xref", "lookup"], ["xref", "merge"],
    ["sandbox", "serve"], ["case"], ["case", "show"], ["case", "list"],
])
def test_every_command_has_help(command: list[str]) -> None:
    result = pivot(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_worker_without_bootstrap_is_one_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PIVOT_KAFKA_BOOTSTRAP"}
    result = subprocess.run([sys.executable, "-m", "pivot", "worker"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "PIVOT_KAFKA_BOOTSTRAP" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_development_secrets() -> None:
    result = pivot("demo", env={"PIVOT_ENVIRONMENT": "production"})
    assert result.returncode != 0
    assert "PIVOT_API_WEBHOOK_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_connector_list_shows_the_installed_connectors() -> None:
    result = pivot("connector", "list")
    assert result.returncode == 0
    assert "chatbot" in result.stdout and "urbest" in result.stdout
    assert "message.created" in result.stdout


def test_demo_with_heavy_faults_absorbs_them(tmp_path: Path) -> None:
    result = pivot("demo", "--json", "--faults", "heavy", "--messages", "40", "--scale", "300",
                   env={"PIVOT_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}, timeout=240)
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    failed = [c for c in report.get("checks", []) if not c["ok"]]
    assert result.returncode == 0, (failed, result.stderr[-2000:])
    assert report["consistent"] is True
    assert report["retries"] > 0 and report["dlq"] > 0 and report["replayed"] > 0
    assert report["replayed"] <= report["connectors"]["urbest"]["dlq"] + report["connectors"]["ublo"]["dlq"]
    malformed = next(c for c in report["checks"] if "malformed" in c["name"])
    assert malformed["ok"]


def test_bench_quick_measures_every_figure_beside_its_reference() -> None:
    # Not a timed test: it proves every figure runs, reports its numbers beside its reference,
    # and that each figure's run delivered everything once (consistent).
    result = pivot("bench", "--quick", "--json", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    assert figures["consistent"] is True, figures["checks"]
    assert figures["figures"] == ["pipeline", "ceiling", "backfill", "ingest", "latency", "scaleout"]
    assert figures["messages"] == 1000 and figures["spans"] >= 1000  # tracing was on
    assert figures["raw_copy_per_s"] > 0 and figures["pipeline_per_s"] > 0
    assert figures["pipeline_ratio"] == pytest.approx(
        figures["pipeline_per_s"] / figures["raw_copy_per_s"], rel=0.01)
    for key in ("backfill_seconds", "backfill_records_per_s", "ingest_ratio", "ingest_per_s",
                "bare_per_s", "p50_ms", "p99_ms", "max_ms", "scaleout_speedup",
                "scaleout_1_worker_per_s", "scaleout_2_workers_per_s"):
        assert figures[key] > 0, key
    assert figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    # the floors: the reference with tracing alone, measured beside it
    assert figures["traced_copy_per_s"] > 0 and figures["traced_bare_per_s"] > 0
    assert figures["pipeline_floor_ratio"] == pytest.approx(
        figures["traced_copy_per_s"] / figures["raw_copy_per_s"], rel=0.01)
    assert figures["ingest_floor_ratio"] == pytest.approx(
        figures["traced_bare_per_s"] / figures["bare_per_s"], rel=0.01)
    for figure, processes in (("backfill", {"worker_erp", "worker_ublo", "ublo_sandbox", "broker"}),
                              ("latency", {"worker_chatbot", "hub_api", "sender", "broker"})):
        cpu = figures[f"{figure}_cpu"]
        assert processes <= set(cpu), cpu
        assert figures[f"{figure}_cpu_cores"] == pytest.approx(sum(cpu.values()), abs=0.05)
        assert cpu[f"worker_{'erp' if figure == 'backfill' else 'chatbot'}"] > 0.05  # it worked
    rss = figures["backfill_peak_rss_mb"]
    assert {"erp_sandbox", "ublo_sandbox", "worker_erp", "worker_ublo", "broker"} <= set(rss)
    assert all(mb > 0 for mb in rss.values()), rss
    if importlib.util.find_spec("confluent_kafka") is not None:  # the dev extra has it
        assert figures["confluent_raw_copy_per_s"] > 0
    else:
        assert figures["confluent_kafka"] == "not installed"
    assert len(figures["checks"]) >= 10 and all(c["ok"] for c in figures["checks"])
