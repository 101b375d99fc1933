"""The low-balance recipe in ``barrack-ops demo``: one call per simulated step.

Over the demo's simulated week the balance runs down (it lasts two days at the demo
fleet's burn): the alert opens as a warning (runway under 72 h), is repeated while it
lasts, escalates to critical under 24 h, and a person "tops up" a few hours later,
which resolves it. The demo calls :func:`demo_low_balance` once per step with the
simulated time and prints the lines it returns::

    state = LowBalanceDemo()
    for now in steps:                       # e.g. every 6 simulated hours for a week
        sim.advance(...)
        for line in asyncio.run(demo_low_balance(sim, now, state=state, state_dir=tmp)):
            print(line)

It needs ``BARRACK_API_KEY`` and the ``BARRACK_NOTIFY_*`` settings in the environment,
as the demo sets them for every recipe.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Protocol

from flows.low_balance.flow import low_balance
from flows.low_balance.params import LowBalanceParams
from flows.low_balance.protection import ProtectionPolicy
from flows.low_balance.report import LowBalanceReport, format_hours
from notifications import Severity
from tasks.connection import BarrackConnection

__all__ = [
    "ClockedSimulator",
    "LowBalanceDemo",
    "LowBalanceDemoSimulator",
    "demo_low_balance",
    "demo_low_balance_week",
]


class LowBalanceDemoSimulator(Protocol):
    """What the demo needs of the simulator handle (``simulator.control.SimControl``)."""

    @property
    def base_url(self) -> str:
        """The API base URL."""
        ...

    def top_up(self, amount: str | Decimal | int) -> Decimal:
        """Add credit through the control route; the new balance."""
        ...


class ClockedSimulator(LowBalanceDemoSimulator, Protocol):
    """A simulator whose clock the demo moves."""

    def advance(self, seconds: float | str) -> datetime:
        """Move simulated time on; the new now."""
        ...


@dataclass
class LowBalanceDemo:
    """What the demo remembers between steps, and how its simulated person behaves.

    Attributes:
        account_name: the account in alerts and the history.
        react_after_hours: the person tops up this long after the alert turned critical.
        top_up_days: the top-up buys this many days at the burn of the moment.
        exempt_name_globs: never in the protective plan (the demo's valuable workloads).
        expendable_name_globs: first in the protective plan.
        critical_since: when the runway turned critical (None while it is not).
        top_ups: the top-ups made, with their times.
    """

    account_name: str = "demo"
    react_after_hours: float = 6.0
    top_up_days: float = 10.0
    exempt_name_globs: list[str] = field(default_factory=lambda: ["llm-train-*", "inference-*"])
    expendable_name_globs: list[str] = field(
        default_factory=lambda: ["dev-*", "notebook-*", "eval-*"]
    )
    critical_since: datetime | None = None
    top_ups: list[tuple[datetime, Decimal]] = field(default_factory=list)


async def demo_low_balance(
    sim: LowBalanceDemoSimulator,
    now: datetime,
    *,
    state: LowBalanceDemo,
    state_dir: Path,
    repeat_hours: float = 12.0,
) -> list[str]:
    """Run the recipe at the simulated time ``now``; the lines to print.

    When the runway has been critical for ``state.react_after_hours``, the simulated
    person tops up (``state.top_up_days`` of burn) and the recipe runs again at once, so
    the "balance recovered" message shows in the same step.

    Args:
        sim: the simulator handle (its base URL, and top-ups).
        now: the simulated time of this step.
        state: the demo's memory between steps.
        state_dir: where the balance history is kept (a temporary directory).
        repeat_hours: how often an open alert is repeated.
    """
    lines, _ = await _step(sim, now, state, state_dir, repeat_hours)
    return lines


def demo_low_balance_week(
    sim: ClockedSimulator, state_dir: Path, *, days: int = 7, every_hours: float = 6.0
) -> list[str]:
    """The recipe every ``every_hours`` simulated hours over ``days``; the lines to print.

    Steps where nothing is open and nothing is sent fold into one line with their span
    and runway, so a quiet week after a top-up takes a line, not a screen.
    """
    state = LowBalanceDemo()
    lines: list[str] = []
    quiet: list[LowBalanceReport] = []
    for _ in range(round(days * 24 / every_hours)):
        now = sim.advance(every_hours * 3600)
        step, report = asyncio.run(_step(sim, now, state, state_dir, 12.0))
        if len(step) == 1 and _is_quiet(report):
            quiet.append(report)
            continue
        lines += _fold(quiet) + step
        quiet = []
    return lines + _fold(quiet)


def _is_quiet(report: LowBalanceReport) -> bool:
    """Nothing open and nothing sent (every outcome, if any, is ``not-open``)."""
    return report.severity is None and all(
        outcome.endswith(": not-open") for outcome in report.alert_outcomes
    )


def _fold(quiet: list[LowBalanceReport]) -> list[str]:
    if len(quiet) < 2:
        return [_line(report) for report in quiet]
    first, last = quiet[0], quiet[-1]
    return [
        f"{first.evaluated_at:%a %H:%M} to {last.evaluated_at:%a %H:%M}  {len(quiet)} runs, "
        f"ok, no alert: {first.money(first.balance)} to {last.money(last.balance)}, runway "
        f"{format_hours(first.runway_hours)} to {format_hours(last.runway_hours)}"
    ]


async def _step(
    sim: LowBalanceDemoSimulator,
    now: datetime,
    state: LowBalanceDemo,
    state_dir: Path,
    repeat_hours: float,
) -> tuple[list[str], LowBalanceReport]:
    """One step: its lines, and the report of its last run."""
    report = await _run(sim, now, state, state_dir, repeat_hours)
    lines = [_line(report)]
    if report.severity is Severity.CRITICAL and report.runway_severity is Severity.CRITICAL:
        state.critical_since = state.critical_since or now
        plan = report.protection
        if plan is not None and plan.steps:
            names = ", ".join(s.instance_name for s in plan.steps)
            lines.append(f"    protective plan (protection off): would hibernate {names}")
    else:
        state.critical_since = None
    due = state.critical_since is not None and now - state.critical_since >= timedelta(
        hours=state.react_after_hours
    )
    if due:
        amount = _top_up_amount(report, state.top_up_days)
        sim.top_up(amount)
        state.top_ups.append((now, amount))
        state.critical_since = None
        lines.append(f"    a person tops up {report.money(amount)}")
        report = await _run(sim, now, state, state_dir, repeat_hours)
        lines.append(_line(report))
    return lines, report


async def _run(
    sim: LowBalanceDemoSimulator,
    now: datetime,
    state: LowBalanceDemo,
    state_dir: Path,
    repeat_hours: float,
) -> LowBalanceReport:
    params = LowBalanceParams(
        account_name=state.account_name,
        connection=BarrackConnection(base_url=sim.base_url),
        now=now,
        history_store="file",
        history_file=state_dir / f"low-balance-{state.account_name}.json",
        repeat_hours=repeat_hours,
        # Reported, never acted on: the demo shows what protection would do.
        protection=ProtectionPolicy(
            enabled=False,
            exempt_name_globs=state.exempt_name_globs,
            expendable_name_globs=state.expendable_name_globs,
        ),
    )
    return await low_balance(params)


def _top_up_amount(report: LowBalanceReport, days: float) -> Decimal:
    """Enough for ``days`` at the burn of the moment, at least what clears every threshold."""
    wanted = report.runway_burn_per_hour * Decimal(str(days * 24)) - report.balance
    amount = max(wanted, report.top_up_to_clear, Decimal(100))
    return (amount / 100).to_integral_value(rounding=ROUND_CEILING) * 100


def _line(report: LowBalanceReport) -> str:
    level = report.severity.value if report.severity else "ok"
    sent = "; ".join(report.alert_outcomes) or "no alert"
    return (
        f"{report.evaluated_at:%a %H:%M}  {report.money(report.balance):>14}  "
        f"burn {report.rate(report.runway_burn_per_hour)}  "
        f"runway {format_hours(report.runway_hours):>8}  {level:<8}  {sent}"
    )
