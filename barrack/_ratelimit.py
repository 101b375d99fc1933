"""A client-side rate limiter shared by every caller in the process.

Prefect runs async tasks on several threads, each with its own event loop, so the limiter
holds no asyncio primitives: a thread lock guards a reservation schedule (a token bucket
expressed as "the next free slot"), and each caller sleeps on its own loop until its slot.
A 429 from the server pushes the schedule back for everyone, so a fleet-wide run slows down
together instead of every task bouncing off the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Final

import anyio

__all__ = ["RateLimiter", "shared_rate_limiter"]


class RateLimiter:
    """A token bucket of ``rate`` requests per second with bursts of up to ``burst``.

    Args:
        rate: sustained requests per second (must be positive).
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
        self._interval = 1.0 / rate
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

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (the server said Retry-After)."""
        with self._lock:
            self._next_free = max(self._next_free, self._clock() + seconds)


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
