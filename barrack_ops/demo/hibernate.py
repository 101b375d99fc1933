"""The hibernate-idle part of ``barrack-ops demo``: warned first, hibernated on a later run.

Against the simulator's ``demo`` scenario (notebooks and eval boxes idle for hours,
training runs busy, inference spiky), it runs the recipe three times, fifteen simulated
minutes apart, as the deployment would: the first run warns the idle instances, the
second finds them still within the grace period, the third hibernates them. Busy and
spiky instances are left alone throughout. It returns lines for the demo to print.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from flows.hibernate_idle.flow import hibernate_idle
from flows.hibernate_idle.params import HibernateIdleParams
from flows.hibernate_idle.report import Action, HibernateReport
from notifications.alerts import Amount
from tasks.connection import BarrackConnection
from tasks.probes import PrometheusProbeSettings

__all__ = ["HibernateDemoSimulator", "demo_hibernate_idle"]

RUN_EVERY_SECONDS = 15 * 60


class HibernateDemoSimulator(Protocol):
    """What the demo needs of the simulator (``simulator.control.SimControl`` has it)."""

    base_url: str

    @property
    def prometheus_url(self) -> str:
        """Base URL of its Prometheus API."""
        ...

    def now(self) -> datetime:
        """The simulated time now."""
        ...

    def advance(self, seconds: float | str) -> datetime:
        """Move simulated time on."""
        ...


def _run(sim: HibernateDemoSimulator, state_dir: Path) -> HibernateReport:
    params = HibernateIdleParams(
        connection=BarrackConnection(base_url=sim.base_url),
        now=sim.now(),
        prometheus=PrometheusProbeSettings(url=sim.prometheus_url),
        state_store="file",
        state_file=str(state_dir / "hibernate-idle-demo.json"),
        policy_name="demo",
    )
    return asyncio.run(hibernate_idle(params))


def demo_hibernate_idle(
    sim: HibernateDemoSimulator, state_dir: Path, *, runs: int = 3
) -> tuple[list[str], bool]:
    """Run the recipe ``runs`` times, 15 simulated minutes apart; lines to print, and ok.

    Call it with ``BARRACK_API_KEY`` (and, for notifications, ``BARRACK_NOTIFY_*``) set,
    as the demo does for every recipe.

    Args:
        sim: the running simulator (manual clock).
        state_dir: where the recipe keeps its memory between the runs.
        runs: how many runs (three: warn, wait, hibernate with the default 30-minute grace).

    Returns:
        The lines, and whether every run was ok.
    """
    lines = [
        "Hibernate idle GPUs: a run every 15 minutes (idle = below 5 % and 1024 MiB for "
        "60 minutes; warned first, hibernated 30 minutes later if still idle)"
    ]
    ok = True
    report: HibernateReport | None = None
    for number in range(1, runs + 1):
        if number > 1:
            sim.advance(RUN_EVERY_SECONDS)
        report = _run(sim, state_dir)
        ok = ok and report.ok
        lines.append(f"  run {number}: {report.summary_line()}")
        for item in report.instances:
            if item.action in (Action.WARNED, Action.HIBERNATED, Action.FAILED):
                lines.append(f"    {item.action.value:<10} {item.instance_name}: {item.evidence}")
    if report is None:
        return lines, ok
    lines.append("  After the last run, per instance:")
    for item in report.instances:
        saving = f"  saves {item.saving}/day" if item.action is Action.HIBERNATED else ""
        lines.append(
            f"    {item.instance_name:<16} {item.verdict:<16} {item.action.value:<12}{saving}"
        )
    totals = ", ".join(
        f"{Amount(value=value.quantize(Decimal('0.01')), currency=currency)}/day"
        for currency, value in sorted(report.savings().items())
    )
    if totals:
        lines.append(f"  Estimated saving of this run's hibernations: {totals}")
    return lines, ok
