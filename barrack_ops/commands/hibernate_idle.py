"""``barrack-ops run hibernate-idle``: warn about, then hibernate, idle GPU instances, once, now.

A plain function with typer options; the CLI registers it with
``run_app.command("hibernate-idle")(run_hibernate_idle)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from barrack_ops.params_file import ParamsFileError, load_params
from barrack_ops.runner import fail, finish, preflight, run_flow

__all__ = ["run_hibernate_idle"]

console = Console()


def run_hibernate_idle(
    params: Annotated[
        Path | None,
        typer.Option("--params", "-p", help="YAML or JSON file of recipe parameters."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Probe, decide and report; change nothing.")
    ] = False,
    probe: Annotated[
        str | None,
        typer.Option("--probe", help="Override the probe: prometheus or ssh."),
    ] = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option("--prometheus-url", help="Override the Prometheus base URL."),
    ] = None,
) -> None:
    """Warn about instances whose GPUs sat idle for the whole window; hibernate those still
    idle after the grace period. Exit status 1 when a hibernation failed or the probe could
    not judge an instance."""
    from flows.hibernate_idle.params import HibernateIdleParams

    overrides: dict[str, object] = {"dry_run": dry_run or None, "probe": probe}
    try:
        parsed = load_params(HibernateIdleParams, params, **overrides)
        if prometheus_url is not None:
            settings = parsed.prometheus.model_dump() | {"url": prometheus_url}
            parsed = load_params(
                HibernateIdleParams,
                params,
                **overrides,
                prometheus=settings,
            )
    except ParamsFileError as exc:
        raise fail(str(exc)) from None
    preflight(parsed.connection, notify=parsed.notify)
    from flows.hibernate_idle.flow import hibernate_idle

    report = run_flow(lambda: hibernate_idle(parsed), recipe="hibernate-idle")
    finish("hibernate-idle", report, attention=_attention, console=console)


def _attention(report: Any) -> str:
    """Why a hibernate-idle run needs attention, in one line."""
    from flows.hibernate_idle.report import Action

    failed = [i.instance_name for i in report.with_action(Action.FAILED)]
    parts = [f"hibernation failed: {', '.join(failed)}"] if failed else []
    if report.probe_failures:
        parts.append(f"the probe could not judge {len(report.probe_failures)} instance(s)")
    return "; ".join(parts)
