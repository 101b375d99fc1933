"""A running simulator's parts: the backend plus faults, rate limits, replay cache, log."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from simulator.backend import Backend
from simulator.clock import MonotonicSource, SimClock
from simulator.faults import FaultInjector
from simulator.idempotency import IdempotencyCache
from simulator.ratelimit import KeyRateLimiter
from simulator.requestlog import RequestLog
from simulator.scenarios import ScenarioSpec, builtin_scenario, parse_scenario_yaml
from simulator.settings import SimSettings

__all__ = ["SimConfig", "SimRuntime"]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class SimConfig:
    """How to start a simulator.

    Attributes:
        scenario: a built-in scenario name (``empty``, ``demo``, ``fleet``) or a parsed spec.
        seed: fixes ids, durations and draws.
        clock: ``"manual"``, ``"real"`` or a speed (simulated seconds per real second).
        start: the simulated start time; None: the wall clock at the whole minute.
        api_key: the bearer token of the API; None generates one.
        admin_token: the bearer token of ``/_sim``; None generates one.
        settings: behaviour switches at start and after every reset.
        monotonic: the real-time source of the clock and the rate limiter.
        sleep: how injected latency waits (tests pass a recorder).
    """

    scenario: str | ScenarioSpec = "demo"
    seed: int = 1
    clock: str | float = "manual"
    start: datetime | None = None
    api_key: str | None = None
    admin_token: str | None = None
    settings: SimSettings = field(default_factory=SimSettings)
    monotonic: MonotonicSource = time.monotonic
    sleep: Sleep = asyncio.sleep


def scenario_spec(scenario: str | ScenarioSpec) -> ScenarioSpec:
    """A scenario spec from a built-in name, a YAML file path, or a spec."""
    if isinstance(scenario, ScenarioSpec):
        return scenario
    if scenario.endswith((".yaml", ".yml")):
        with open(scenario, encoding="utf-8") as handle:
            return parse_scenario_yaml(handle.read())
    return builtin_scenario(scenario)


class SimRuntime:
    """Everything one simulator process holds."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.api_key = config.api_key or secrets.token_urlsafe(24)
        self.admin_token = config.admin_token or secrets.token_urlsafe(24)
        clock = SimClock.from_spec(config.clock, start=config.start, monotonic=config.monotonic)
        self.backend = Backend(scenario_spec(config.scenario), config.seed, clock, config.settings)
        self.faults = FaultInjector(config.seed)
        self.limiter = KeyRateLimiter(config.monotonic)
        self.idempotency = IdempotencyCache()
        self.log = RequestLog()
        self.sleep = config.sleep
        self._request_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"SimRuntime(scenario={self.backend.scenario.name!r}, seed={self.backend.seed})"

    def next_request_id(self) -> str:
        """A fresh request id (``req-`` and a counter)."""
        return f"req-{next(self._request_ids):010d}"

    def reset(self) -> None:
        """Back to the scenario's start: state, clock, settings; faults, log, cache cleared."""
        self.backend.reset()
        self._clear()

    def load(self, scenario: ScenarioSpec, seed: int) -> None:
        """Load another scenario (cleared as by :meth:`reset`)."""
        self.backend.load(scenario, seed)
        self._clear()

    def _clear(self) -> None:
        self.faults.clear()
        self.limiter.reset()
        self.idempotency.clear()
        self.log.clear()
