"""The ``barrack-ops`` command line.

::

    barrack-ops demo                         the recipes against the embedded simulator
    barrack-ops sim [...]                    run the simulator (a fake Barrack) by itself
    barrack-ops run nightly-snapshots [...]  run a recipe once, now
    barrack-ops plan retention [...]         show what pruning would do, with reasons
    barrack-ops serve                        every deployment on its schedule, one process
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from barrack import BarrackError
from barrack_ops.commands.doctor import doctor
from barrack_ops.commands.hibernate_idle import run_hibernate_idle
from barrack_ops.commands.low_balance import run_low_balance
from barrack_ops.commands.report import report_app
from barrack_ops.commands.restore import run_restore_drill, run_restore_to_region
from barrack_ops.params_file import ParamsFileError, load_params
from notifications.errors import NotificationConfigError
from simulator.cli import sim
from tasks.connection import BarrackConnection

__all__ = ["app", "main"]

app = typer.Typer(
    name="barrack-ops",
    help="Prefect recipes that keep a Barrack GPU fleet in order.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
run_app = typer.Typer(help="Run a recipe once, now, in this process.", no_args_is_help=True)
plan_app = typer.Typer(help="Show what a recipe would do, without doing it.", no_args_is_help=True)
app.add_typer(run_app, name="run")
app.add_typer(plan_app, name="plan")
app.add_typer(report_app, name="report")
app.command("sim")(sim)
app.command("doctor")(doctor)
run_app.command("hibernate-idle")(run_hibernate_idle)
run_app.command("low-balance")(run_low_balance)
run_app.command("restore-to-region")(run_restore_to_region)
run_app.command("restore-drill")(run_restore_drill)

console = Console()
err_console = Console(stderr=True)

ParamsOption = Annotated[
    Path | None,
    typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters.", exists=False),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Plan and report, change nothing.")]


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def _preflight(connection: BarrackConnection, *, notify: bool) -> None:
    """Check the settings a run needs before starting it, so mistakes read as one line."""
    from flows.common.alerting import load_notifier
    from tasks.connection import resolve_settings

    try:
        asyncio.run(resolve_settings(connection)).require_api_key()
        if notify:
            load_notifier()
    except (BarrackError, NotificationConfigError) as exc:
        raise _fail(str(exc)) from None


@run_app.command("nightly-snapshots")
def run_nightly_snapshots(params: ParamsOption = None, dry_run: DryRunOption = False) -> None:
    """Snapshot the selected instances for the current slot, then prune by policy."""
    from flows.nightly_snapshots.flow import nightly_snapshots
    from flows.nightly_snapshots.params import NightlySnapshotsParams

    try:
        parsed = load_params(NightlySnapshotsParams, params, dry_run=dry_run or None)
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None
    _preflight(parsed.connection, notify=parsed.notify)
    try:
        report = asyncio.run(nightly_snapshots(parsed))
    except (BarrackError, NotificationConfigError) as exc:
        raise _fail(str(exc)) from None
    console.print(Markdown(report.markdown()))
    if not report.ok:
        raise typer.Exit(code=1)


@plan_app.command("retention")
def plan_retention(params: ParamsOption = None) -> None:
    """Show, for every snapshot of the selected instances, keep or delete and why."""
    from flows.nightly_snapshots.params import NightlySnapshotsParams
    from flows.nightly_snapshots.preview import preview_retention, price_plan
    from tasks.connection import resolve_settings

    try:
        parsed = load_params(NightlySnapshotsParams, params)
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None

    async def compute() -> tuple[object, object]:
        from barrack import AsyncBarrack

        async with AsyncBarrack(settings=await resolve_settings(parsed.connection)) as client:
            plan = await preview_retention(client, parsed)
            return plan, await price_plan(client, plan)

    try:
        plan, cost = asyncio.run(compute())
    except BarrackError as exc:
        raise _fail(str(exc)) from None
    from flows.nightly_snapshots.retention import FleetPlan

    assert isinstance(plan, FleetPlan)
    table = Table(title=f"Retention plan: {parsed.retention_policy().describe()}")
    for column in ("instance", "snapshot", "created (UTC)", "action", "reasons"):
        table.add_column(column)
    for decision in plan.decisions:
        snap = decision.snapshot
        style = "red" if decision.action.value == "delete" else ""
        table.add_row(
            snap.instance_name or snap.instance_id,
            snap.name,
            f"{snap.created_at:%Y-%m-%d %H:%M}",
            decision.action.value,
            decision.reason,
            style=style,
        )
    console.print(table)
    console.print(
        f"{plan.delete_count} to delete, {plan.keep_count} to keep"
        + (f"; [bold red]{plan.blocked}[/]" if plan.blocked else "")
    )
    from flows.nightly_snapshots.cost import RetentionCost

    if isinstance(cost, RetentionCost):
        console.print(cost.line(dry_run=True), markup=False)
    else:
        console.print("retention cost: unknown (the price list has no snapshot rate)")


@app.command("demo")
def demo_command(
    nights: Annotated[int, typer.Option(min=1, max=60, help="Simulated nights to run.")] = 7,
) -> None:
    """Run the recipes against the embedded simulator (offline) and show what they did."""
    from barrack_ops.demo import run_demo

    raise typer.Exit(code=run_demo(nights=nights))


@app.command("serve")
def serve_command() -> None:
    """Serve every recipe's deployment on its schedule, from this process, until Ctrl-C."""
    from deployments.serve import serve_all

    serve_all()


def main() -> None:
    """Entry point of the ``barrack-ops`` script."""
    # Without PREFECT_API_URL a run starts a temporary local Prefect server; its first
    # start migrates a database, which takes longer than Prefect's 20 s default on a
    # small or busy machine. Offline, analytics would only fill the log with errors.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    app()


if __name__ == "__main__":
    main()
