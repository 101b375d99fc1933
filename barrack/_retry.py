"""When and how long to wait before trying a request again.

Named constants and small pure functions, so the rules read as a table and test as one.
Transient failures (429, 500, 502, 503, 504, connection errors, timeouts) are retried with
exponential backoff and "equal jitter"; a ``Retry-After`` the server sends is honoured up
to :attr:`RetryPolicy.max_retry_after`, and a longer one ends the retries (waiting less
than asked would only earn another 429). Other 4xx are never retried, and neither is an
API that never answered (:class:`~barrack.APIUnreachableError`: a refused connection, an
unknown host or a failed TLS handshake on a client's first contact), so a wrong base URL
or a server that is down ends a run at once instead of after minutes of backoff.

Worst case with the defaults, per call: 5 attempts, backoff waits of at most 0.5 + 1 + 2
+ 4 s, plus each attempt's own timeout (``BARRACK_TIMEOUT``, 30 s, when the API stalls).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from barrack._exceptions import (
    APIConnectionError,
    APIStatusError,
    APIUnreachableError,
    BarrackError,
    RateLimitError,
)

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable",
    "parse_retry_after",
    "retry_delay",
]

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses worth another try: rate limiting and server-side trouble."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How many attempts, and how the waits between them grow.

    Attributes:
        max_attempts: attempts in all, the first included (1 disables retries).
        initial_delay: base wait in seconds before the second attempt.
        multiplier: growth of the base wait per attempt.
        max_delay: cap on the backoff wait, in seconds.
        max_retry_after: the longest ``Retry-After`` honoured; a longer one is not waited for.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must not be negative")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")


DEFAULT_RETRY_POLICY: Final = RetryPolicy()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value.

    Accepts delta-seconds (``"3"``, ``"1.5"``) and an HTTP date; a date in the past means
    zero. Anything unparseable gives None (the caller falls back to its own backoff).

    >>> parse_retry_after("2", datetime(2026, 1, 1, tzinfo=UTC))
    2.0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """The wait after failed attempt number ``attempt`` (1-based), with equal jitter.

    The base doubles each attempt up to ``max_delay``; the wait is uniform between half the
    base and the base, so concurrent clients spread out but never retry at once.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    base = min(policy.max_delay, policy.initial_delay * policy.multiplier ** (attempt - 1))
    return base / 2 + rng.uniform(0, base / 2)


def is_retryable(error: BarrackError) -> bool:
    """Whether an error is transient: connection trouble on an API that answered before,
    timeouts, 429 and 5xx gateways."""
    if isinstance(error, APIUnreachableError):
        return False
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, APIStatusError):
        return error.status in RETRYABLE_STATUSES
    return False


def retry_delay(
    error: BarrackError, attempt: int, policy: RetryPolicy, rng: random.Random
) -> float | None:
    """Seconds to wait before the next attempt, or None when the call should give up.

    Args:
        error: what the attempt raised.
        attempt: the number of the attempt that failed (1-based).
        policy: the retry policy.
        rng: the source of jitter.
    """
    if attempt >= policy.max_attempts or not is_retryable(error):
        return None
    if isinstance(error, RateLimitError) and error.retry_after is not None:
        if error.retry_after > policy.max_retry_after:
            return None
        return error.retry_after
    return backoff_delay(attempt, policy, rng)
