"""``barrack-ops report spend``: what the fleet cost over a period, on what, and the waste.

A typer sub-app; the CLI registers it with ``app.add_typer(report_app, name="report")``.
It runs the spend-report flow once (Prefect's engine, artifacts included) and prints the
report as Markdown, CSV (one row per resource and kind, exact amounts) or JSON.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown

from barrack import BarrackError
from barrack_ops.params_file import ParamsFileError, load_params
from notifications.errors import NotificationConfigError

__all__ = ["report_app", "report_spend"]

report_app = typer.Typer(help="Reports over the account's billing.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


@report_app.command("spend")
def report_spend(
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="FIRST..LAST, ISO dates, both included (2026-11-01..2026-11-30); "
            "default: last week, Monday to Sunday.",
        ),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", "--tz", help="IANA timezone of the days.")
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print spend per resource and kind as CSV.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole report as JSON.")
    ] = False,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="Also send the digest and the anomaly alert."),
    ] = False,
    params: Annotated[
        Path | None,
        typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters."),
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="The account name in the report.")
    ] = None,
) -> None:
    """Spend over a period by resource, region, GPU model, tier and kind, the period
    before, the balance, the waste (with what to do) and anomalous days. Changes nothing.
    Exit status 2 on bad parameters or an unreachable API."""
    from flows.spend_report.flow import spend_report
    from flows.spend_report.params import SpendReportParams

    if as_csv and as_json:
        raise _fail("--csv and --json: choose one")
    try:
        parsed = load_params(
            SpendReportParams,
            params,
            period=period,
            timezone=timezone,
            account_name=account,
            notify=notify,
        )
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None
    try:
        report = asyncio.run(spend_report(parsed))
    except (BarrackError, NotificationConfigError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    elif as_csv:
        typer.echo(report.to_csv(), nl=False)
    else:
        console.print(Markdown(report.markdown()))
