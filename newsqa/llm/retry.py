"""Retry policy for transient endpoint failures (429, 5xx, timeouts, dropped connections).

Follows the openai SDK's own policy: exponential backoff with jitter, capped; a
server's ``retry-after-ms`` or ``Retry-After`` wins; a server that asks for a longer
wait than ``max_wait`` fails at once instead of stalling the caller. Schema failures
are not retried here (see :mod:`newsqa.llm.structured`).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

__all__ = ["DeadlinePassed", "TooLongRetryAfter", "backoff", "parse_retry_after", "retrying"]

T = TypeVar("T")


class TooLongRetryAfter(Exception):
    """The server asked to wait longer than the configured cap."""

    def __init__(self, seconds: float, cause: BaseException) -> None:
        super().__init__(f"server asked to retry after {seconds:.0f}s")
        self.seconds = seconds
        self.cause = cause


class DeadlinePassed(Exception):
    """The next try would start after the call's deadline."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__("the call's deadline passed")
        self.cause = cause


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def backoff(attempt: int, *, initial: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after failed try number ``attempt`` (1-based): full jitter,
    uniform in ``[0, min(cap, initial * 2 ** (attempt - 1))]``."""
    return rng.uniform(0.0, min(cap, initial * 2 ** (attempt - 1)))


def retrying(
    *,
    max_retries: int,
    is_transient: Callable[[BaseException], bool],
    retry_after: Callable[[BaseException], float | None],
    max_wait: float,
    initial: float = 0.5,
    cap: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
    rng: random.Random | None = None,
) -> Retrying:
    """Build a tenacity ``Retrying`` for one request.

    Args:
        max_retries: retries after the first try.
        is_transient: which exceptions are worth another try.
        retry_after: the server's requested wait for an exception, if any.
        max_wait: a requested wait above this raises :class:`TooLongRetryAfter`.
        initial: first backoff in seconds (doubles each try, with full jitter).
        cap: longest backoff when the server gives no hint.
        sleep: injectable for tests.
        deadline: ``time.monotonic()`` after which no try starts; a wait that would
            end later raises :class:`DeadlinePassed` at once.
        rng: the jitter's random generator (tests seed one).
    """
    jitter = rng or random.Random()

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after(exc) if exc is not None else None
        if hinted is not None:
            if hinted > max_wait:
                assert exc is not None
                raise TooLongRetryAfter(hinted, exc)
            seconds = hinted
        else:
            seconds = backoff(state.attempt_number, initial=initial, cap=cap, rng=jitter)
        if deadline is not None and time.monotonic() + seconds >= deadline:
            assert exc is not None
            raise DeadlinePassed(exc)
        return seconds

    return Retrying(
        stop=stop_after_attempt(max_retries + 1),
        wait=wait,
        retry=retry_if_exception(is_transient),
        sleep=sleep,
        reraise=True,
    )
