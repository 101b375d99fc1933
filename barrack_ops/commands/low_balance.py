"""``barrack-ops run low-balance``: the prepaid runway forecast and its alerts, once, now.

A plain function with typer options; the CLI registers it with
``run_app.command("low-balance")(run_low_balance)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from barrack_ops.params_file import ParamsFileError, load_params
from barrack_ops.runner import fail, finish, preflight, run_flow

__all__ = ["run_low_balance"]

console = Console()


def _fail(message: str) -> typer.Exit:
    return fail(message)  # one line, never wrapped (barrack_ops.runner)


def run_low_balance(
    params: Annotated[
        Path | None,
        typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Forecast and report; send and change nothing.")
    ] = False,
    protect: Annotated[
        bool,
        typer.Option(
            "--protect",
            help="At a critical runway, act on the protective plan (hibernate within "
            "protection.max_actions, snapshots first where data is at risk).",
        ),
    ] = False,
    account: Annotated[
        str | None,
        typer.Option("--account", help="The account name used in alerts and the history."),
    ] = None,
) -> None:
    """Forecast how long the prepaid balance lasts at the current burn and alert on the
    balance and runway thresholds. Exit status 1 when a threshold fires or a protective
    action failed; 2 on bad parameters or an unreachable API."""
    from flows.low_balance.params import LowBalanceParams

    try:
        parsed = load_params(
            LowBalanceParams, params, dry_run=dry_run or None, account_name=account
        )
    except ParamsFileError as exc:
        raise _fail(str(exc)) from None
    if protect:
        enabled = parsed.protection.model_copy(update={"enabled": True})
        parsed = parsed.model_copy(update={"protection": enabled})
    preflight(parsed.connection, notify=parsed.notify)
    from flows.low_balance.flow import low_balance

    report = run_flow(lambda: low_balance(parsed), recipe="low-balance")
    finish("low-balance", report, attention=_attention, console=console)


def _attention(report: Any) -> str:
    """Why a low-balance run needs attention, in one line."""
    parts = []
    if report.severity is not None:
        parts.append(f"{report.severity.value}: {report.summary_line()}")
    failed = report.protection.failed() if report.protection else []
    if failed:
        parts.append(f"{len(failed)} protective action(s) failed")
    return "; ".join(parts)
