"""Injected faults: latency, errors, bursts of 429, drops after the change is made, refusals
under a success status, and error pages that echo the request's headers (the API key).

Rules match a request by method and path glob (``fnmatch``: ``*`` also crosses ``/``)
against the full path, ``/api/.../``. Every matching rule adds its latency; the first
matching rule that fires decides the outcome. Draws for ``error_rate`` come from a
stream seeded when the rules are set, so the same rules and requests fail the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FaultDecision", "FaultInjector", "FaultRule", "FaultRules"]


class FaultRule(BaseModel):
    """One fault rule (``PUT /_sim/faults``).

    Attributes:
        method: HTTP method to match, or ``*`` for any.
        path: glob over the full path (``/api/snapshots*``).
        error_rate: chance (0-1) a matching request fails with ``status`` before it
            reaches the backend (nothing changes).
        status: the HTTP status of those failures (its B2 code is used in the body).
        latency_ms: added delay (real time) before the request is handled.
        burst_429: the next N matching requests get 429 RATE_LIMITED with Retry-After.
        retry_after: the Retry-After (seconds) of those 429s.
        drop_after_commit: the backend makes the change, then the connection is cut
            before the response body is complete (the client sees a protocol error).
        refuse_rate: chance (0-1) a matching request is answered ``200`` with
            ``"success": false`` and nothing is changed (a refusal in a success status).
        echo_headers: the errors of this rule come as an HTML page that lists the
            request's headers, the API key among them (a proxy's debug page).
        times: fire at most this many times (then the rule only adds latency); None:
            no limit.
    """

    model_config = ConfigDict(extra="forbid")

    method: str = "*"
    path: str = "*"
    error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    status: Annotated[int, Field(ge=400, le=599)] = 503
    latency_ms: Annotated[float, Field(ge=0, le=60_000)] = 0.0
    burst_429: Annotated[int, Field(ge=0)] = 0
    retry_after: Annotated[int, Field(ge=0, le=3600)] = 1
    drop_after_commit: bool = False
    refuse_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    echo_headers: bool = False
    times: Annotated[int, Field(ge=1)] | None = None

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to a request."""
        return (self.method == "*" or self.method.upper() == method) and fnmatchcase(
            path, self.path
        )


class FaultRules(BaseModel):
    """The body of ``PUT /_sim/faults``."""

    model_config = ConfigDict(extra="forbid")

    rules: list[FaultRule] = Field(default_factory=list)
    seed: int | None = Field(default=None, description="Seed of the error_rate draws.")


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What to do with one request."""

    latency_s: float = 0.0
    kind: Literal["none", "error", "burst_429", "drop", "refuse"] = "none"
    status: int = 0
    retry_after: int = 0
    rule: int = -1
    echo_headers: bool = False


_NO_FAULT = FaultDecision()


class FaultInjector:
    """Holds the rules and decides, request by request."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rules: list[FaultRule] = []
        self._remaining_burst: list[int] = []
        self._remaining_times: list[int | None] = []
        self._rng = random.Random(f"faults:{seed}")

    def set(self, rules: list[FaultRule], seed: int | None = None) -> None:
        """Replace the rules (and restart the draws)."""
        self.rules = list(rules)
        self._remaining_burst = [r.burst_429 for r in rules]
        self._remaining_times = [r.times for r in rules]
        self._rng = random.Random(f"faults:{self.seed if seed is None else seed}")

    def clear(self) -> None:
        """Drop every rule."""
        self.set([])

    def decide(self, method: str, path: str) -> FaultDecision:
        """The fault (if any) for one request."""
        if not self.rules:
            return _NO_FAULT
        latency = 0.0
        outcome: FaultDecision | None = None
        for index, rule in enumerate(self.rules):
            if not rule.matches(method, path):
                continue
            latency += rule.latency_ms / 1000
            if outcome is not None or self._remaining_times[index] == 0:
                continue
            outcome = self._fire(index, rule)
            if outcome is not None:
                remaining = self._remaining_times[index]
                if remaining is not None:
                    self._remaining_times[index] = remaining - 1
        if outcome is None:
            return FaultDecision(latency_s=latency) if latency else _NO_FAULT
        return FaultDecision(
            latency,
            outcome.kind,
            outcome.status,
            outcome.retry_after,
            outcome.rule,
            outcome.echo_headers,
        )

    def _fire(self, index: int, rule: FaultRule) -> FaultDecision | None:
        if self._remaining_burst[index] > 0:
            self._remaining_burst[index] -= 1
            return FaultDecision(0.0, "burst_429", 429, rule.retry_after, index)
        if rule.error_rate and self._rng.random() < rule.error_rate:
            return FaultDecision(
                0.0, "error", rule.status, rule.retry_after, index, rule.echo_headers
            )
        if rule.refuse_rate and self._rng.random() < rule.refuse_rate:
            return FaultDecision(0.0, "refuse", 200, 0, index)
        if rule.drop_after_commit:
            return FaultDecision(0.0, "drop", 0, 0, index)
        return None
