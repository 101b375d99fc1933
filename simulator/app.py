"""Build the simulator's ASGI application from a :class:`SimConfig`."""

from __future__ import annotations

from simulator.http.api import build_api_router
from simulator.http.control import add_control_routes
from simulator.http.gateway import Gateway
from simulator.http.prometheus import add_prometheus_routes
from simulator.http.router import Router
from simulator.runtime import SimConfig, SimRuntime

__all__ = ["create_app"]


def create_app(config: SimConfig | None = None) -> Gateway:
    """The simulator as an ASGI app; ``app.runtime`` holds its backend and keys.

    Example:
        >>> app = create_app(SimConfig(scenario="empty", api_key="k", admin_token="t"))
        >>> app.runtime.backend.scenario.name
        'empty'
    """
    runtime = SimRuntime(config or SimConfig())
    control = Router()
    add_control_routes(control, runtime)
    public = Router()
    add_prometheus_routes(public, runtime)
    return Gateway(runtime, build_api_router(runtime), control, public)
