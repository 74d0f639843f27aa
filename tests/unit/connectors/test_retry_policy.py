"""The one retry policy: bounded by attempts, except for a record that has not arrived yet."""

from __future__ import annotations

import threading
import time

import pytest
from tenacity import wait_none

from pivot.errors import MappingError, NotYetKnown, RetryableError
from pivot.retry import RetryInterrupted, retry_policy


def _run(policy, fails: list[Exception]) -> int:  # type: ignore[no-untyped-def]
    """Call something that raises ``fails`` in turn, then succeeds; return the calls made."""
    calls = 0
    for attempt in policy.copy(wait=wait_none()):
        with attempt:
            calls += 1
            if fails:
                raise fails.pop(0)
    return calls


def test_a_transient_failure_is_retried_up_to_the_attempts() -> None:
    assert _run(retry_policy(max_attempts=3), [RetryableError("503")] * 2) == 3
    with pytest.raises(RetryableError):
        _run(retry_policy(max_attempts=3), [RetryableError("503")] * 3)


def test_a_record_not_yet_known_is_waited_for_beyond_the_attempts() -> None:
    late = [NotYetKnown("building of lot not known yet")] * 7
    assert _run(retry_policy(max_attempts=3, max_delay_s=30), late) == 8


def test_a_record_not_yet_known_is_waited_for_no_longer_than_the_delay() -> None:
    policy = retry_policy(max_attempts=3, max_delay_s=0.2).copy(
        wait=lambda _state: 0.05)  # type: ignore[arg-type]
    started = time.monotonic()
    with pytest.raises(NotYetKnown):
        for attempt in policy:
            with attempt:
                raise NotYetKnown("lot not in Ublo yet")
    assert 0.2 <= time.monotonic() - started < 2.0


def test_a_rejection_is_not_retried() -> None:
    with pytest.raises(MappingError):
        _run(retry_policy(max_attempts=5), [MappingError("no rpls")])


def test_a_retry_waiting_when_the_process_stops_is_abandoned_at_once() -> None:
    stopping = threading.Event()
    policy = retry_policy(max_attempts=3, max_delay_s=30, initial_wait_s=5, max_wait_s=5,
                          interrupt=stopping)
    threading.Timer(0.1, stopping.set).start()
    started = time.monotonic()
    with pytest.raises(RetryInterrupted):
        for attempt in policy:
            with attempt:
                raise NotYetKnown("building not known yet")
    assert time.monotonic() - started < 2.0  # not the 5 s wait, let alone the 30 s
