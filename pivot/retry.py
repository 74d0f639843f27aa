"""The one retry policy: jittered exponential backoff on retryable failures only, bounded.

Reads like a sentence: retry while the error is retryable, wait a random exponential time,
stop after N attempts or T seconds, whichever comes first — except while the error says a
record has not arrived yet (:class:`~pivot.errors.NotYetKnown`): that waits the T seconds.
Tests turn waiting off with ``policy.copy(wait=wait_none())``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from pivot.errors import NotYetKnown, RetryableError

RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    RetryableError,
    httpx.TimeoutException,
    httpx.TransportError,
)


class RetryInterrupted(Exception):
    """The process is stopping: a call waiting to be retried is abandoned.

    Not a :class:`~pivot.errors.PivotError`: nothing is dead-lettered; the batch it belongs
    to is not committed and is consumed again (its writes carry idempotency keys).
    """


def is_retryable(exc: BaseException) -> bool:
    """True for 5xx-like, timeout and connection failures; never for 4xx or mapping errors."""
    return isinstance(exc, RETRYABLE_EXCEPTIONS)


def retry_policy(
    max_attempts: int = 5,
    max_delay_s: float = 30.0,
    initial_wait_s: float = 0.1,
    max_wait_s: float = 5.0,
    on_retry: Callable[[RetryCallState], None] | None = None,
    interrupt: threading.Event | None = None,
) -> Retrying:
    """A tenacity policy: retryable errors only, jittered exponential wait, both bounds.

    A :class:`~pivot.errors.NotYetKnown` is retried until ``max_delay_s`` whatever the
    attempts: the record it waits for is behind on another partition, not failing. When
    ``interrupt`` is set (the process stops), a wait ends at once with :class:`RetryInterrupted`.
    """
    by_attempts, by_delay = stop_after_attempt(max_attempts), stop_after_delay(max_delay_s)

    def stop(state: RetryCallState) -> bool:
        if by_delay(state):
            return True
        failure = state.outcome.exception() if state.outcome is not None else None
        return by_attempts(state) and not isinstance(failure, NotYetKnown)

    def sleep(seconds: float) -> None:
        if interrupt is None:
            time.sleep(seconds)
        elif interrupt.wait(seconds):
            raise RetryInterrupted("the process is stopping: retry abandoned")

    return Retrying(
        sleep=sleep,
        retry=retry_if_exception(is_retryable),
        wait=wait_random_exponential(multiplier=initial_wait_s, max=max_wait_s),
        stop=stop,
        before_sleep=on_retry,
        reraise=True,
    )
