"""A worker process switches threads at its configured interval."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pivot.hub import Hub
from pivot.settings import PivotSettings, WorkerSettings
from pivot.store import Store


def test_the_loops_set_the_thread_switch_interval_of_their_process(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    settings = PivotSettings(worker=WorkerSettings(switch_interval_ms=2.5))
    hub = Hub(settings, "127.0.0.1:9", store=Store(f"sqlite:///{tmp_path / 'hub.db'}"),
              connectors={})
    try:
        assert hub.loops() == []
        assert sys.getswitchinterval() == pytest.approx(0.0025)
    finally:
        sys.setswitchinterval(before)
        hub.store.dispose()


def test_a_switch_interval_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="switch_interval_ms"):
        WorkerSettings(switch_interval_ms=0)
