"""A client-side rate limiter shared by every caller in the process.

Prefect runs async tasks on several threads, each with its own event loop, so the limiter
holds no asyncio primitives: a thread lock guards a reservation schedule (a token bucket
expressed as "the next free slot"), and each caller sleeps on its own loop until its slot.
A 429 from the server pushes the schedule back for everyone, so a fleet-wide run slows down
together instead of every task bouncing off the limit.

A limiter can also follow the API: it starts open and adopts the limit the API announces
in ``X-RateLimit-Limit``, so a flow that was told no rate queues at exactly the API's pace
(measured at fleet scale: bouncing off 429s costs a quarter of the run's calls, and
exhausted retries fail actions; see ``docs/performance.md``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Final

import anyio

__all__ = [
    "RateLimiter",
    "announced_rate",
    "following_rate_limiter",
    "shared_rate_limiter",
]


class RateLimiter:
    """A token bucket of ``rate`` requests per second with bursts of up to ``burst``.

    Args:
        rate: sustained requests per second (must be positive; ``math.inf`` is an open
            limiter that never waits until :meth:`adopt` gives it a rate).
        burst: requests allowed back to back after an idle spell (default: 1).
        clock: monotonic seconds, injectable for tests.
        sleep: the async sleep used to wait, injectable for tests.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._interval = 0.0 if math.isinf(rate) else 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free = float("-inf")

    def reserve(self) -> float:
        """Take the next slot and return how many seconds to wait for it (0 when free)."""
        with self._lock:
            now = self._clock()
            earliest = now - (self.burst - 1) * self._interval
            slot = max(self._next_free, earliest)
            self._next_free = slot + self._interval
            return max(0.0, slot - now)

    async def acquire(self) -> None:
        """Wait until this caller may send a request."""
        delay = self.reserve()
        if delay > 0:
            await self._sleep(delay)

    def adopt(self, rate: float) -> None:
        """Go on at ``rate`` requests per second (the API announced its limit).

        Reservations already handed out keep their slots; the next ones are spaced by
        the new rate.

        Raises:
            ValueError: ``rate`` is not a positive finite number.
        """
        if not 0 < rate < math.inf:
            raise ValueError(f"rate must be a positive finite number, got {rate}")
        with self._lock:
            self.rate = rate
            self._interval = 1.0 / rate

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said Retry-After)."""
        with self._lock:
            self._next_free = max(self._next_free, self._clock() + seconds)


def announced_rate(value: str | None) -> float | None:
    """Requests per second from an ``X-RateLimit-Limit`` value, or None.

    Absent, unparseable, non-positive or infinite values give None (nothing to follow).

    >>> announced_rate("20"), announced_rate("2.5"), announced_rate("soon")
    (20.0, 2.5, None)
    """
    if value is None:
        return None
    try:
        rate = float(value.strip())
    except ValueError:
        return None
    return rate if 0 < rate < math.inf else None


_SHARED: Final[dict[tuple[str, float, int], RateLimiter]] = {}
_SHARED_LOCK: Final = threading.Lock()


def shared_rate_limiter(key: str, rate: float, burst: int = 1) -> RateLimiter:
    """The process-wide limiter for ``key`` (typically the base URL) at this rate."""
    with _SHARED_LOCK:
        limiter = _SHARED.get((key, rate, burst))
        if limiter is None:
            limiter = RateLimiter(rate, burst)
            _SHARED[(key, rate, burst)] = limiter
        return limiter


def following_rate_limiter(key: str) -> RateLimiter:
    """The process-wide limiter for ``key`` that follows the API's announced limit.

    It is open (never waits) until a response announces a limit; callers pass every
    announcement to :meth:`RateLimiter.adopt`.
    """
    return shared_rate_limiter(key, math.inf)
