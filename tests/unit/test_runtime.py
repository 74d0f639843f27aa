"""A long-running hub process tunes its interpreter once started (``pivot.runtime.settle``)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from pivot import runtime
from pivot.settings import WorkerSettings


class _Node:
    """An object in a reference cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def interpreter() -> Iterator[None]:
    """Give the test run its interval and an unfrozen heap back."""
    before = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("interpreter")
def test_settle_sets_the_switch_interval_and_freezes_what_start_up_left_alive() -> None:
    kept = _Node()
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    runtime.settle(switch_interval_ms=2.5)
    assert sys.getswitchinterval() == pytest.approx(0.0025)
    assert gone() is None, "start-up garbage is collected, not frozen"
    assert not any(o is kept for o in gc.get_objects()), "what start-up keeps is frozen"
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("interpreter")
def test_settle_without_an_interval_leaves_it() -> None:
    sys.setswitchinterval(0.004)
    runtime.settle()
    assert sys.getswitchinterval() == pytest.approx(0.004)
    assert gc.get_freeze_count() > 0


def test_a_switch_interval_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="switch_interval_ms"):
        WorkerSettings(switch_interval_ms=0)
