"""The ``barrack-ops`` command line.

::

    barrack-ops demo                         the recipes against the embedded simulator
    barrack-ops sim [...]                    run the simulator (a fake Barrack) by itself
    barrack-ops run nightly-snapshots [...]  run a recipe once, now
    barrack-ops plan retention [...]         show what pruning would do, with reasons
    barrack-ops serve                        every deployment on its schedule, one process

Every ``run`` command checks its parameters, settings, key, notification configuration
and the API before Prefect starts, fails with one ``error:`` line, and ends with one line
giving its outcome; the exit statuses are the same for all (:mod:`barrack_ops.runner`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from barrack_ops.commands.doctor import doctor
from barrack_ops.commands.hibernate_idle import run_hibernate_idle
from barrack_ops.commands.low_balance import run_low_balance
from barrack_ops.commands.plan import plan_retention
from barrack_ops.commands.report import report_app
from barrack_ops.commands.restore import run_restore_drill, run_restore_to_region
from barrack_ops.params_file import ParamsFileError, load_params
from barrack_ops.runner import choose_prefect_server, fail, finish, preflight, run_flow, set_verbose
from simulator.cli import sim

__all__ = ["app", "main"]

app = typer.Typer(
    name="barrack-ops",
    help="Prefect recipes that keep a Barrack GPU fleet in order.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
run_app = typer.Typer(help="Run a recipe once, now, in this process.", no_args_is_help=True)
plan_app = typer.Typer(help="Show what a recipe would do, without doing it.", no_args_is_help=True)


@app.callback()
def _options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Show Prefect's whole log on the console, tracebacks included (by default "
            "it goes to $PREFECT_HOME/barrack-ops.log, or BARRACK_OPS_LOG).",
        ),
    ] = False,
) -> None:
    """Prefect recipes that keep a Barrack GPU fleet in order.

    Exit status of every run: 0 done; 1 done, needs attention (an alert, a failed action,
    blocked work); 2 could not run (parameters, settings, key, notifications, API
    unreachable); 3 another run holds the guard; 4 unexpected error (see the log); 130
    interrupted.
    """
    set_verbose(verbose)


app.add_typer(run_app, name="run")
app.add_typer(plan_app, name="plan")
app.add_typer(report_app, name="report")
app.command("sim")(sim)
app.command("doctor")(doctor)
run_app.command("hibernate-idle")(run_hibernate_idle)
run_app.command("low-balance")(run_low_balance)
run_app.command("restore-to-region")(run_restore_to_region)
run_app.command("restore-drill")(run_restore_drill)
plan_app.command("retention")(plan_retention)

console = Console()

ParamsOption = Annotated[
    Path | None,
    typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters.", exists=False),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Plan and report, change nothing.")]


def _fail(message: str) -> typer.Exit:
    return fail(message)  # one line, never wrapped (barrack_ops.runner)


def _nightly_attention(report: Any) -> str:
    """Why a nightly run needs attention, in one line."""
    parts = []
    if report.failed_instances:
        parts.append(f"{len(report.failed_instances)} snapshot(s) failed")
    if report.failed_deletions:
        parts.append(f"{len(report.failed_deletions)} deletion(s) failed")
    if report.blocked:
        parts.append(f"pruning {report.blocked}")  # "pruning blocked: N deletions exceed ..."
    return "; ".join(parts)


@run_app.command("nightly-snapshots")
def run_nightly_snapshots(params: ParamsOption = None, dry_run: DryRunOption = False) -> None:
    """Snapshot the selected instances for the current slot, then prune by policy."""
    from flows.nightly_snapshots.params import NightlySnapshotsParams

    try:
        parsed = load_params(NightlySnapshotsParams, params, dry_run=dry_run or None)
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None
    preflight(parsed.connection, notify=parsed.notify)
    from flows.nightly_snapshots.flow import nightly_snapshots

    report = run_flow(lambda: nightly_snapshots(parsed), recipe="nightly-snapshots")
    finish("nightly-snapshots", report, attention=_nightly_attention)


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
    # Which Prefect API runs use is decided before anything imports Prefect (its settings
    # are read once, at import); a run names it in one line.
    if len(sys.argv) > 2 and "run" in sys.argv[1:3]:
        choose_prefect_server()
    app()


if __name__ == "__main__":
    main()
