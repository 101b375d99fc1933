"""``barrack-ops doctor``: check the real API against the contract, read-only.

A plain function with typer options; the CLI registers it with
``app.command("doctor")(doctor)``. The work is in :mod:`barrack_ops.doctor`.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from barrack import BarrackError, BarrackSettings
from barrack_ops.doctor import render_report, run_doctor, write_report_json

__all__ = ["doctor"]


def doctor(
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json",
            metavar="PATH",
            help="Also write the report as JSON to PATH ('-' for stdout), to attach to a bug; "
            "it never holds the API key.",
        ),
    ] = None,
) -> None:
    """Check what the Barrack API answers against what this client expects (read-only).

    Reads BARRACK_API_KEY, BARRACK_BASE_URL and BARRACK_AUTH_HEADER. Finds the auth header
    the API accepts, sends every read-only operation (GETs and the pricing query) and
    compares each answer with the route table and the models. Exit status 0 when
    everything matches, 1 when something differs, 2 when it cannot connect or authenticate.
    """
    # Console objects are made here, not at import, so COLUMNS set by the caller applies.
    err_console = Console(stderr=True)
    try:
        settings = BarrackSettings.load()
        key = settings.require_api_key().get_secret_value()
        report = run_doctor(settings)
    except BarrackError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    if report.problem is not None:
        err_console.print(f"[bold red]error:[/] {report.problem}", highlight=False, soft_wrap=True)
    else:
        # With --json -, stdout carries the JSON alone; the table goes to stderr.
        render_report(report, err_console if json_path == "-" else Console())
    if json_path is not None:
        write_report_json(report, json_path, secrets=(key,))
    raise typer.Exit(code=report.exit_code)
