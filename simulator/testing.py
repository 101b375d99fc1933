"""Run the simulator in-process (the tests and the demo): a context manager and a handle.

Example:
    >>> with running_simulator("empty") as sim:  # doctest: +SKIP
    ...     sim.advance(120)
    ...     httpx.get(f"{sim.base_url}/balance/", headers=sim.api_headers).json()

The server runs uvicorn in a daemon thread on a free loopback port. The handle is a
:class:`simulator.control.SimControl` (the control routes over HTTP, with the admin
token) that also holds the in-process runtime.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from simulator.clock import MonotonicSource
from simulator.control import SimControl
from simulator.runtime import SimConfig, Sleep
from simulator.scenarios import ScenarioSpec
from simulator.server import SimServer
from simulator.settings import SimSettings

__all__ = ["SimHandle", "running_simulator"]

TEST_API_KEY = "sim-test-api-key"
TEST_ADMIN_TOKEN = "sim-test-admin-token"  # noqa: S105 - a fixed token for local tests


class SimHandle(SimControl):
    """A simulator running in this process: its control client and its runtime.

    Attributes:
        runtime: the in-process runtime (read it only between requests).
    """

    def __init__(self, server: SimServer) -> None:
        super().__init__(
            server.root_url, server.runtime.admin_token, server.runtime.api_key, timeout=30
        )
        self.runtime = server.runtime


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


@contextmanager
def running_simulator(
    scenario: str | ScenarioSpec = "empty",
    *,
    seed: int = 1,
    clock: str | float = "manual",
    start: datetime | None = None,
    api_key: str = TEST_API_KEY,
    admin_token: str = TEST_ADMIN_TOKEN,
    settings: SimSettings | None = None,
    monotonic: MonotonicSource = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> Iterator[SimHandle]:
    """Run a simulator in a thread on a free loopback port for the ``with`` block.

    Args:
        scenario: built-in name (``empty``, ``demo``, ``fleet``), YAML path, or spec.
        seed: fixes ids, durations and draws.
        clock: ``"manual"`` (tests), ``"real"`` or a speed.
        start: simulated start; None: the wall clock at the whole minute.
        api_key: the API bearer token.
        admin_token: the control routes' bearer token.
        settings: behaviour switches; by default rate limiting is off (tests send fast).
        monotonic: real-time source of the clock and the rate limiter (inject a fake).
        sleep: how injected latency waits.

    Yields:
        A :class:`SimHandle`.
    """
    config = SimConfig(
        scenario=scenario,
        seed=seed,
        clock=clock,
        start=start,
        api_key=api_key,
        admin_token=admin_token,
        settings=settings or SimSettings(rate_limit_per_second=None),
        monotonic=monotonic,
        sleep=sleep,
    )
    server = SimServer(config)
    server.start()
    try:
        with SimHandle(server) as handle:
            yield handle
    finally:
        server.stop()
