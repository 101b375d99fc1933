"""Per-API-key token buckets (B1: 429 with Retry-After and X-RateLimit-* headers)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from simulator.clock import MonotonicSource

__all__ = ["KeyRateLimiter", "RateDecision"]


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one request against its bucket, and the headers to send."""

    allowed: bool
    limit: float
    remaining: int
    reset_s: int
    retry_after_s: int


class KeyRateLimiter:
    """A token bucket per key: ``rate`` tokens a second, holding at most ``burst``.

    Real (monotonic) time drives the buckets, whatever the simulated clock does: a rate
    limit is about how fast the client sends, not about simulated time.
    """

    def __init__(self, monotonic: MonotonicSource = time.monotonic) -> None:
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}

    def reset(self) -> None:
        """Refill every bucket."""
        self._buckets.clear()

    def take(self, key: str, rate: float, burst: int | None) -> RateDecision:
        """Spend one token of ``key``'s bucket if there is one."""
        capacity = float(burst if burst is not None else max(1, math.ceil(rate)))
        now = self._monotonic()
        tokens, last = self._buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[key] = (tokens, now)
        reset = math.ceil((capacity - tokens) / rate) if tokens < capacity else 0
        retry = 0 if allowed else max(1, math.ceil((1 - tokens) / rate))
        return RateDecision(allowed, rate, int(tokens), reset, retry)
