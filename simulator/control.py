"""The simulator's control API as a client: one for the tests, the e2e suite, the
benchmarks and the demo.

The control routes live under ``/_sim`` and take the admin token (``docs/simulator.md``
lists them); each answers ``{"data": ...}``, and :class:`SimControl` returns that
``data`` or raises :class:`SimControlError`. It also reads the API as a flow would
(:meth:`SimControl.list_all`), for checking what a run left behind.

Example:
    >>> control = SimControl("http://127.0.0.1:8642", admin_token, api_key)  # doctest: +SKIP
    >>> control.advance("2h")
    >>> [vm["name"] for vm in control.instances()]
    >>> control.close()

:func:`simulator.testing.running_simulator` starts a simulator in-process and hands back
a :class:`SimControl` that also holds the in-process runtime.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx

from barrack._wire import API_PREFIX, PROMETHEUS_PREFIX, route
from simulator.timeparse import parse_time

__all__ = ["SimControl", "SimControlError"]


class SimControlError(RuntimeError):
    """A control route answered an error (status, code and message in the text)."""


class SimControl:
    """A running simulator's control routes, and plain reads of its API.

    Args:
        root_url: ``http://HOST:PORT`` (the API is under ``/api``, control under ``/_sim``).
        admin_token: the control routes' bearer token.
        api_key: the API bearer token.
        timeout: seconds per request (loading a scenario of thousands of instances
            takes a while).

    Attributes:
        root_url: as given.
        base_url: the API base URL, ``http://HOST:PORT/api`` (give it to the client).
        api_key: the API bearer token.
        admin_token: the control routes' bearer token.
    """

    def __init__(
        self, root_url: str, admin_token: str, api_key: str, *, timeout: float = 30.0
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self.base_url = f"{self.root_url}{API_PREFIX}"
        self.admin_token = admin_token
        self.api_key = api_key
        # Plain HTTP on loopback: no TLS, which also spares loading certificates per client.
        self._admin = httpx.Client(
            base_url=f"{self.root_url}/_sim",
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=timeout,
            verify=False,  # noqa: S501
        )
        self._api = self.client(timeout=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the connection pools."""
        self._admin.close()
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the API, as a flow sees it ------------------------------------------------------

    @property
    def api_headers(self) -> dict[str, str]:
        """``Authorization`` for API calls."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def prometheus_url(self) -> str:
        """Base URL of the Prometheus API, ``http://HOST:PORT/prometheus`` (a probe's URL)."""
        return f"{self.root_url}{PROMETHEUS_PREFIX}"

    def client(self, **kwargs: Any) -> httpx.Client:
        """A synchronous httpx client for the API, authorised; close it after use."""
        kwargs.setdefault("verify", False)
        return httpx.Client(base_url=self.base_url, headers=self.api_headers, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An async httpx client for the API, authorised; close it after use."""
        kwargs.setdefault("verify", False)
        return httpx.AsyncClient(base_url=self.base_url, headers=self.api_headers, **kwargs)

    def list_all(self, operation: str) -> list[dict[str, Any]]:
        """Every item of an API listing (``"snapshots.list"``), page by page, as plain JSON.

        Path and payload key come from the wire table. After a rate-limited run, turn the
        rate limit off first (:meth:`settings`).
        """
        listing = route(operation)
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            response = self._api.get(listing.path, params={"page": page, "per_page": 100})
            response.raise_for_status()
            body = response.json()
            items.extend(body[str(listing.payload)])
            pagination = body.get("pagination")
            if not pagination or page >= pagination["total_pages"]:
                return items
            page += 1

    def instances(self) -> list[dict[str, Any]]:
        """Every instance, as the API lists it."""
        return self.list_all("instances.list")

    def snapshots(self) -> list[dict[str, Any]]:
        """Every snapshot, as the API lists it."""
        return self.list_all("snapshots.list")

    # -- the control routes --------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call a control route (``path`` under ``/_sim``) and return its ``data``.

        Raises:
            SimControlError: the route answered an error.
        """
        response = self._admin.request(method, f"/{path.lstrip('/')}", json=body)
        try:
            payload = response.json()
        except ValueError:
            payload = {"message": response.text}
        if response.status_code >= 400:
            error = payload.get("error") or {}
            raise SimControlError(
                f"{method} /_sim/{path.lstrip('/')}: {response.status_code} "
                f"{error.get('code')}: {payload.get('message')}"
            )
        return payload["data"]

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
        """Load a built-in scenario by name, or one written in YAML (or JSON); the clock
        goes back to its start."""
        body: dict[str, Any] = {
            "name": name,
            "yaml": yaml,
            "seed": seed,
            "instances": instances,
            "snapshots_per_instance": snapshots_per_instance,
        }
        return dict(
            self.control("POST", "scenario", {k: v for k, v in body.items() if v is not None})
        )

    def clock(self) -> dict[str, Any]:
        """``{"now", "mode", "speed", "start"}``."""
        return dict(self.control("GET", "clock"))

    def now(self) -> datetime:
        """The simulated time now."""
        return parse_time(self.clock()["now"])

    def start(self) -> datetime:
        """The clock's start (the scenario's time zero)."""
        return parse_time(self.clock()["start"])

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

    def configure(self, *, latency_ms: float, rate_limit: float) -> None:
        """Every API call takes ``latency_ms`` more; ``rate_limit`` requests/s (0: off).

        A benchmark's conditions: this replaces the fault rules.
        """
        self.settings(rate_limit_per_second=rate_limit)
        every_call = {"method": "*", "path": f"{API_PREFIX}/*", "latency_ms": latency_ms}
        self.set_faults(*([every_call] if latency_ms else []))

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
