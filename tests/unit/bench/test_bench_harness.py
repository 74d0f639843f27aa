"""The benchmark's own pieces that need no broker: options, table, ceiling fallback, /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench import ceiling
from bench.backfill import lots_for
from bench.harness import percentiles
from bench.processes import CpuMeter, cpu_seconds, peak_rss_mb
from bench.run import FIGURES, BenchOptions, rows, run_bench
from pivot.errors import ConfigurationError
from pivot.settings import KafkaSettings, PivotSettings


def test_quick_options_scale_every_figure_down_and_replace_ignores_unset() -> None:
    full, quick = BenchOptions(), BenchOptions.quick()
    for name in ("messages", "backfill_records", "ingest_seconds", "latency_seconds",
                 "scaleout_messages"):
        assert getattr(quick, name) < getattr(full, name), name
    assert quick.latency_rate == full.latency_rate == 200
    changed = quick.replace(backfill_records=5_000, messages=None, only=("backfill",))
    assert changed.backfill_records == 5_000 and changed.messages == quick.messages
    assert changed.runs("backfill") and not changed.runs("ingest")
    assert all(full.runs(figure) for figure in FIGURES)


def test_an_unknown_figure_is_refused_before_anything_starts() -> None:
    with pytest.raises(ConfigurationError, match="unknown figure"):
        run_bench(PivotSettings(), BenchOptions(only=("nope",)))


def test_a_configured_cluster_needs_an_explicit_bootstrap() -> None:
    # the benchmark deletes the hub's topics: never on PIVOT_KAFKA_BOOTSTRAP by accident
    settings = PivotSettings(kafka=KafkaSettings(bootstrap="kafka:9092"))
    with pytest.raises(ConfigurationError, match="--bootstrap"):
        run_bench(settings, BenchOptions.quick())


def test_the_ceiling_says_not_installed_without_confluent_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # import fails
    result = ceiling.run("127.0.0.1:1", 100)
    assert result.per_s is None
    assert ceiling.as_json(result) == {"confluent_raw_copy_per_s": None,
                                       "confluent_kafka": "not installed"}
    table = rows({**ceiling.as_json(result)})
    assert table == [("ceiling", "—", "confluent-kafka: not installed", "—", "—")]


def test_rows_put_each_figure_beside_its_reference_and_target() -> None:
    figures = {
        "raw_copy_per_s": 6000.0, "pipeline_per_s": 3000.0, "pipeline_ratio": 0.5,
        "ingest_ratio": 0.6, "ingest_per_s": 600.0, "bare_per_s": 1000.0,
        "p50_ms": 20.0, "p99_ms": 150.0, "max_ms": 300.0, "latency_rate_per_s": 200.0,
        "latency_seconds": 30.0, "latency_sent_per_s": 199.0,
    }
    met = {row[0]: row[4] for row in rows(figures)}
    assert "no" in met["translate pipeline"]
    assert "yes" in met["webhook ingestion"]
    assert "no" in met["end-to-end latency"]


def test_floors_and_cpu_are_rows_of_their_figures() -> None:
    figures = {
        "raw_copy_per_s": 8000.0, "pipeline_per_s": 1600.0, "pipeline_ratio": 0.2,
        "traced_copy_per_s": 4000.0, "pipeline_floor_ratio": 0.5,
        "ingest_ratio": 0.17, "ingest_per_s": 800.0, "bare_per_s": 4600.0,
        "traced_bare_per_s": 3100.0, "ingest_floor_ratio": 0.67,
        "p50_ms": 300.0, "p99_ms": 1500.0, "max_ms": 2000.0, "latency_rate_per_s": 200.0,
        "latency_seconds": 30.0, "latency_sent_per_s": 200.0,
        "latency_cpu": {"worker_chatbot": 0.8, "hub_api": 0.65}, "latency_cpu_cores": 1.45,
    }
    table = rows(figures)
    names = [row[0] for row in table]
    # each floor and CPU row comes right after the figure it explains
    assert names.index("  floor: tracing alone") == names.index("translate pipeline") + 1
    assert names[names.index("webhook ingestion") + 1] == "  floor: tracing alone"
    assert names[names.index("end-to-end latency") + 1] == "  CPU"
    floors = [row for row in table if row[0] == "  floor: tracing alone"]
    assert "0.50" in floors[0][3] and "4,000" in floors[0][2]
    assert "0.67" in floors[1][3] and "3,100" in floors[1][2]
    cpu = table[names.index("  CPU")]
    assert "1.45 cores busy: worker_chatbot 0.80, hub_api 0.65" in cpu[2]


def test_cpu_meter_tells_a_busy_process_from_an_idle_one() -> None:
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    busy = subprocess.Popen([sys.executable, "-c",
                             "import time\nend = time.time() + 30\nwhile time.time() < end: pass"])
    try:
        time.sleep(0.3)  # both started
        meter = CpuMeter({"idle": idle.pid, "busy": busy.pid, "bench": 0,
                          "unknown": None}).start()
        end = time.monotonic() + 1.0
        while time.monotonic() < end:  # this process busy too
            pass
        shares = meter.stop()
    finally:
        idle.kill()
        busy.kill()
        idle.wait()
        busy.wait()
    assert set(shares) == {"idle", "busy", "bench"}  # a process without a pid is left out
    assert shares["idle"] < 0.1
    assert shares["busy"] > 0.3 and shares["bench"] > 0.3  # two cores shared by two spinners
    assert meter.cores == pytest.approx(sum(shares.values()), abs=0.011)


def test_percentiles_and_lots_of_an_export() -> None:
    assert percentiles([]) == {"p50": 0.0, "p99": 0.0, "max": 0.0}
    got = percentiles([float(n) for n in range(1, 101)])
    assert got["p50"] == 50.5 and 99 <= got["p99"] <= 100 and got["max"] == 100
    assert lots_for(100_000) == 30_395 and lots_for(10) == 20


def test_peak_rss_and_cpu_come_from_proc() -> None:
    assert (peak_rss_mb() or 0) > 10
    assert (peak_rss_mb(os.getpid()) or 0) > 10
    assert cpu_seconds(os.getpid()) is not None
    assert peak_rss_mb(2**22 + 12345) is None  # no such process
