"""``barrack-ops run restore-to-region`` and ``barrack-ops run restore-drill``.

Plain functions with typer options; the CLI registers them with
``run_app.command("restore-to-region")(run_restore_to_region)`` and
``run_app.command("restore-drill")(run_restore_drill)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from barrack_ops.params_file import ParamsFileError, load_params
from barrack_ops.runner import fail, finish, preflight, run_flow

__all__ = ["run_restore_drill", "run_restore_to_region"]

console = Console()

ParamsOption = Annotated[
    Path | None,
    typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters."),
]


def _fail(message: str) -> typer.Exit:
    return fail(message)  # one line, never wrapped (barrack_ops.runner)


def run_restore_to_region(
    params: ParamsOption = None,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="Restore this snapshot id.")
    ] = None,
    instance: Annotated[
        str | None,
        typer.Option("--instance", help="Restore this instance's newest SUCCESS snapshot."),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            "-t",
            help="A target region, in order of preference (repeat it); 'source' is the "
            "snapshot's region; 'auto' ranks every region by stock, then price.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Name of the new instance (default: <instance>-<region>)."),
    ] = None,
    exclude_source: Annotated[
        bool, typer.Option("--exclude-source", help="Never restore into the snapshot's region.")
    ] = False,
    drill: Annotated[
        bool, typer.Option("--drill", help="Restore, verify, time it, then delete it.")
    ] = False,
    keep_failed: Annotated[
        bool,
        typer.Option("--keep-failed", help="Keep an instance whose restore failed (it may bill)."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and report where it would go; change nothing.")
    ] = False,
) -> None:
    """Restore a snapshot into a new instance, in the best region that can take it.

    Exit status 1 when the restore did not end with the machine up (or, in a dry run,
    when it could not go ahead).
    """
    from flows.restore.params import RestoreParams

    overrides: dict[str, object] = {
        "snapshot_id": snapshot,
        "instance_name": instance,
        "targets": target or None,
        "name": name,
        "exclude_source_region": exclude_source or None,
        "drill": drill or None,
        "delete_failed": False if keep_failed else None,
        "dry_run": dry_run or None,
    }
    try:
        parsed = load_params(RestoreParams, params, **overrides)
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None
    preflight(parsed.connection, notify=parsed.notify)
    from flows.restore.flow import restore_to_region

    report = run_flow(lambda: restore_to_region(parsed), recipe="restore-to-region")
    finish(
        "restore-to-region",
        report,
        attention=lambda r: f"{r.outcome.value}" + (f": {r.reason}" if r.reason else ""),
        console=console,
    )


def run_restore_drill(
    params: ParamsOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Plan each drill and report; change nothing.")
    ] = False,
) -> None:
    """Restore each protected instance's newest snapshot in turn, verify it, then delete it.

    Exit status 1 when a drill failed.
    """
    from flows.restore.params import RestoreDrillParams

    try:
        parsed = load_params(RestoreDrillParams, params, dry_run=dry_run or None)
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None
    preflight(parsed.connection, notify=parsed.notify)
    from flows.restore.drill import restore_drill

    report = run_flow(lambda: restore_drill(parsed), recipe="restore-drill")
    finish(
        "restore-drill",
        report,
        attention=lambda r: "drill failed: " + ", ".join(d.source_label for d in r.failed),
        console=console,
    )
