"""``barrack-ops sim``: serve the simulator on a port until Ctrl-C.

The lead mounts :func:`sim` in the main typer app (``app.command("sim")(sim)``);
``python -m simulator`` runs it on its own.
"""

from __future__ import annotations

from typing import Annotated

import typer

from barrack._wire import DEFAULT_AUTH_HEADER
from simulator.clock import parse_clock_spec
from simulator.runtime import SimConfig
from simulator.scenarios import ScenarioError
from simulator.server import SimServer
from simulator.settings import SimSettings

__all__ = ["sim"]


def sim(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8642,
    scenario: Annotated[
        str, typer.Option(help="empty, demo, fleet, or the path of a scenario YAML file.")
    ] = "demo",
    seed: Annotated[int, typer.Option(help="Seed of ids, durations and random draws.")] = 1,
    clock: Annotated[
        str,
        typer.Option(
            help="manual (moved only by POST /_sim/clock/advance), real, or a speed "
            "such as 60 (one simulated minute per real second)."
        ),
    ] = "real",
    api_key: Annotated[
        str | None, typer.Option(help="API key clients must send; generated if left out.")
    ] = None,
    admin_token: Annotated[
        str | None, typer.Option(help="Token of the /_sim control routes; generated if left out.")
    ] = None,
    auth_header: Annotated[
        str,
        typer.Option(
            help="Header that must carry the key: Authorization (Bearer) or e.g. X-API-Key."
        ),
    ] = DEFAULT_AUTH_HEADER,
) -> None:
    """Run the Barrack simulator: the API under /api, Prometheus under /prometheus, control
    routes under /_sim.

    Prints the base URL, the API key and the admin token, then serves until Ctrl-C.
    """
    try:
        parse_clock_spec(clock)
        server = SimServer(
            SimConfig(
                scenario=scenario, seed=seed, clock=clock, api_key=api_key, admin_token=admin_token
            ),
            host=host,
            port=port,
        )
    except (ValueError, OSError, ScenarioError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    runtime = server.runtime
    backend = runtime.backend
    try:
        backend.world.settings = backend.settings.model_copy(update={"auth_header": auth_header})
        SimSettings.model_validate(backend.settings.model_dump())
    except ValueError as exc:
        typer.echo(f"error: --auth-header: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Barrack simulator: scenario {backend.scenario.name!r}, seed {seed}, clock {clock}")
    typer.echo(f"  base URL     {server.base_url}")
    typer.echo(f"  API key      {runtime.api_key}")
    typer.echo(f"  admin token  {runtime.admin_token}")
    typer.echo(f"  Prometheus   {server.prometheus_url}")
    typer.echo(f"  OpenAPI      {server.root_url}/openapi.json")
    typer.echo(f"  auth header  {auth_header}")
    exports = f"BARRACK_BASE_URL={server.base_url} BARRACK_API_KEY={runtime.api_key}"
    if auth_header != DEFAULT_AUTH_HEADER:
        exports += f" BARRACK_AUTH_HEADER={auth_header}"
    typer.echo(f"export {exports}")
    typer.echo("Serving until Ctrl-C.")
    server.serve_forever()


def main() -> None:
    """Entry point of ``python -m simulator``."""
    typer.run(sim)
