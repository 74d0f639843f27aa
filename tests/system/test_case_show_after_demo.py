"""After a small ``pivot demo``, ``pivot case list`` and ``pivot case show`` as a user runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pivot(*args: str, env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pivot", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_a_demo_request_is_followed_from_the_chatbot_to_the_end_of_works(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    url = f"sqlite:///{database}"
    demo = pivot("demo", "--json", "--faults", "none", "--messages", "30", "--scale", "100",
                 "--seed", "42", "--database-url", url, timeout=240)
    assert demo.returncode == 0, demo.stderr[-2000:]

    listed = pivot("case", "list", "--json", "--limit", "100", "--database-url", url)
    assert listed.returncode == 0, listed.stderr
    cases = json.loads(listed.stdout)["cases"]
    assert len(cases) >= 30 and {c["status"] for c in cases} <= {"met", "open"}

    with sqlite3.connect(database) as db:  # a completed repair, re-billed when the day had one
        request_id, rebilled = db.execute(
            "SELECT json_extract(data, '$.request_id'), json_extract(data, '$.rechargeable_to_tenant') "
            "FROM golden_record WHERE entity = 'intervention' AND json_extract(data, '$.status') = "
            "'completed' AND json_extract(data, '$.request_id') IS NOT NULL "
            "ORDER BY json_extract(data, '$.rechargeable_to_tenant') DESC LIMIT 1").fetchone()
    shown = pivot("case", "show", request_id, "--json", "--database-url", url)
    assert shown.returncode == 0, shown.stderr
    case = json.loads(shown.stdout)
    assert case["deadline"]["status"] == "met"
    steps = [(e["system"], e["step"]) for e in case["timeline"]]
    systems = [system for system, _ in steps]
    for system in ("chatbot", "ai_triage", "urbest"):
        assert system in systems, steps
    assert systems.index("chatbot") < systems.index("ai_triage") < systems.index("urbest")
    assert any(s == "chatbot" and step.startswith("tenant told the work is done") for s, step in steps)
    if rebilled:
        assert any(s == "erp" and step.startswith("billing line written in the ERP") for s, step in steps)
    assert all("trace_id" in entry for entry in case["timeline"])

    table = pivot("case", "show", request_id, "--database-url", url, env={"COLUMNS": "200"})
    assert table.returncode == 0 and "trace id" in table.stdout
    unknown = pivot("case", "show", "URB-1999-000000", "--database-url", url)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
