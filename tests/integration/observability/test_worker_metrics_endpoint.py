"""``pivot worker`` serves its Prometheus metrics; ``pivot sandbox serve`` serves one satellite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pivot.serving import free_port

ROOT = Path(__file__).resolve().parents[3]


def _get_when_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"nothing answered on {url} within {timeout_s} s")


def test_worker_serves_metrics_on_its_port(bootstrap: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PIVOT_KAFKA_BOOTSTRAP": bootstrap, "PIVOT_LOG_LEVEL": "ERROR",
           "PIVOT_DATABASE_URL": f"sqlite:///{tmp_path / 'pivot.db'}",
           "PIVOT_WORKER_METRICS_PORT": str(port)}
    worker = subprocess.Popen([sys.executable, "-m", "pivot", "worker", "-c", "chatbot"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        deadline = time.monotonic() + 60
        text = _get_when_up(url, worker).text
        wanted = 'pivot_consumer_lag{group="pivot.translate.chatbot"'
        while wanted not in text and time.monotonic() < deadline:
            time.sleep(0.5)  # each loop reports its partitions once it has fetched
            text = httpx.get(url, timeout=5).text
        assert wanted in text
        assert "pivot_dlq_depth" in text and "pivot_spool_depth" in text
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0


def test_sandbox_serve_runs_one_satellite() -> None:
    port = free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "pivot", "sandbox", "serve", "urbest", "--port", str(port)],
        cwd=ROOT, env={**os.environ, "PIVOT_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _get_when_up(f"http://127.0.0.1:{port}/healthz", sandbox).status_code == 200
        state = httpx.get(f"http://127.0.0.1:{port}/sandbox/state", timeout=10).json()
        assert state["interventions"] == []
    finally:
        sandbox.send_signal(signal.SIGTERM)
        assert sandbox.wait(30) == 0


def test_sandbox_serve_refuses_an_unknown_satellite() -> None:
    result = subprocess.run([sys.executable, "-m", "pivot", "sandbox", "serve", "sap"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "unknown sandbox 'sap'" in result.stderr and "Traceback" not in result.stderr
