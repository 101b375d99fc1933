"""Run the simulator in-process for tests: a context manager and a handle with helpers.

Example:
    >>> with running_simulator("empty") as sim:  # doctest: +SKIP
    ...     sim.advance(120)
    ...     httpx.get(f"{sim.base_url}/balance/", headers=sim.api_headers).json()

The server runs uvicorn in a daemon thread on a free loopback port. Helpers call the
``/_sim`` control routes over HTTP with the admin token and return their ``data``; they
raise :class:`SimControlError` when a control route answers an error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from barrack._wire import PROMETHEUS_PREFIX
from simulator.clock import MonotonicSource
from simulator.runtime import SimConfig, SimRuntime, Sleep
from simulator.scenarios import ScenarioSpec
from simulator.server import SimServer
from simulator.settings import SimSettings
from simulator.timeparse import parse_time

__all__ = ["SimControlError", "SimHandle", "running_simulator"]

TEST_API_KEY = "sim-test-api-key"
TEST_ADMIN_TOKEN = "sim-test-admin-token"  # noqa: S105 - a fixed token for local tests


class SimControlError(RuntimeError):
    """A control route answered an error (status, code and message in the text)."""


@dataclass
class SimHandle:
    """A running simulator and helpers for its control routes.

    Attributes:
        base_url: the API base URL, ``http://127.0.0.1:PORT/api`` (give it to the client).
        root_url: ``http://127.0.0.1:PORT`` (control routes, Prometheus, OpenAPI).
        api_key: the API bearer token.
        admin_token: the control routes' bearer token.
        runtime: the in-process runtime (read it only between requests).
    """

    base_url: str
    root_url: str
    api_key: str
    admin_token: str
    runtime: SimRuntime = field(repr=False)
    _admin: httpx.Client = field(repr=False)

    def __repr__(self) -> str:
        return f"SimHandle(base_url={self.base_url!r})"

    @property
    def api_headers(self) -> dict[str, str]:
        """``Authorization`` for API calls."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def prometheus_url(self) -> str:
        """Base URL of the Prometheus API, ``http://HOST:PORT/prometheus`` (a probe's URL)."""
        return f"{self.root_url}{PROMETHEUS_PREFIX}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """A synchronous httpx client for the API, authorised; close it after use.

        Plain HTTP on loopback: TLS verification is off by default, which spares the
        half second httpx spends loading certificates for every new client.
        """
        kwargs.setdefault("verify", False)
        return httpx.Client(base_url=self.base_url, headers=self.api_headers, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An async httpx client for the API, authorised; close it after use."""
        kwargs.setdefault("verify", False)
        return httpx.AsyncClient(base_url=self.base_url, headers=self.api_headers, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call a control route (``path`` under ``/_sim``) and return its ``data``.

        Raises:
            SimControlError: the route answered an error.
        """
        response = self._admin.request(method, f"/_sim/{path.lstrip('/')}", json=body)
        payload = response.json()
        if response.status_code >= 400:
            error = payload.get("error", {})
            raise SimControlError(
                f"{method} /_sim/{path}: {response.status_code} {error.get('code')}: "
                f"{payload.get('message')}"
            )
        return payload["data"]

    # -- the control routes ----------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        """Back to the loaded scenario's start (state, clock, settings; faults cleared)."""
        return dict(self.control("POST", "reset"))

    def load_scenario(
        self,
        name: str | None = None,
        *,
        yaml: str | None = None,
        seed: int | None = None,
        instances: int | None = None,
        snapshots_per_instance: int | None = None,
    ) -> dict[str, Any]:
        """Load a built-in scenario by name, or one written in YAML."""
        body: dict[str, Any] = {"name": name, "yaml": yaml, "seed": seed}
        body["instances"] = instances
        body["snapshots_per_instance"] = snapshots_per_instance
        return dict(
            self.control("POST", "scenario", {k: v for k, v in body.items() if v is not None})
        )

    def clock(self) -> dict[str, Any]:
        """``{"now", "mode", "speed", "start"}``."""
        return dict(self.control("GET", "clock"))

    def now(self) -> datetime:
        """The simulated time now."""
        return parse_time(self.clock()["now"])

    def advance(self, seconds: float | str) -> datetime:
        """Move simulated time on (``120``, ``"2h"``) running everything due; the new now."""
        return parse_time(self.control("POST", "clock/advance", {"seconds": seconds})["now"])

    def set_faults(self, *rules: dict[str, Any], seed: int | None = None) -> list[dict[str, Any]]:
        """Replace the fault rules (see docs/simulator.md for their fields)."""
        body: dict[str, Any] = {"rules": list(rules)}
        if seed is not None:
            body["seed"] = seed
        return list(self.control("PUT", "faults", body)["rules"])

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.control("DELETE", "faults")

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first."""
        return list(self.control("GET", "requests"))

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.control("DELETE", "requests")

    def set_utilization(self, instance_id: str, profile: dict[str, Any]) -> dict[str, Any]:
        """Give an instance a GPU utilisation profile (``{"preset": "idle"}``, segments...)."""
        return dict(self.control("PUT", f"instances/{instance_id}/gpu-utilization", profile))

    def top_up(self, amount: str | Decimal | int) -> Decimal:
        """Add credit; returns the new balance."""
        data = self.control("POST", "balance/top-up", {"amount": str(amount)})
        return Decimal(data["balance"])

    def set_profile_complete(self, complete: bool) -> dict[str, Any]:
        """Complete the account profile, or make it incomplete."""
        return dict(self.control("PUT", "account", {"profile_complete": complete}))

    def set_stock(self, region: str, gpu_model: str, available: int) -> dict[str, Any]:
        """Set the free GPUs of a model in a region."""
        body = {"region": region, "gpu_model": gpu_model, "available": available}
        return dict(self.control("PUT", "stock", body))

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change settings (``rate_limit_per_second=5``...); no arguments reads them."""
        if not changes:
            return dict(self.control("GET", "settings"))
        return dict(self.control("PUT", "settings", changes))


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
    admin = httpx.Client(
        base_url=server.root_url,
        headers={"Authorization": f"Bearer {server.runtime.admin_token}"},
        timeout=30,
        verify=False,  # noqa: S501 - plain HTTP on loopback; skips loading certificates
    )
    try:
        yield SimHandle(
            base_url=server.base_url,
            root_url=server.root_url,
            api_key=server.runtime.api_key,
            admin_token=server.runtime.admin_token,
            runtime=server.runtime,
            _admin=admin,
        )
    finally:
        admin.close()
        server.stop()
