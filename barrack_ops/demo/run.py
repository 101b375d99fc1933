"""``barrack-ops demo``: the recipes against the embedded simulator, offline, in a minute.

It starts the simulator (the ``demo`` scenario: a dozen GPU instances over three regions,
two months of nightly snapshots, a few manual ones, one backing a custom image) with a
manual clock, and a local receiver standing in for Slack or email. Then it runs the
nightly-snapshots recipe over a simulated week through Prefect's local engine, moving
the simulated clock from night to night, and prints what happened: snapshots made,
kept and pruned with reasons, and the alerts that went out. It exits non-zero if any
run failed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from barrack_ops._env import patched_environment

if TYPE_CHECKING:
    from barrack_ops.demo.receiver import ReceivedNotification
    from simulator.testing import SimHandle

__all__ = ["DEMO_START", "alert_lines", "run_demo"]

DEMO_START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
"""The simulated time the demo starts at (any time works; a fixed one makes runs alike)."""

console = Console(highlight=False, width=None if Console().is_terminal else 110)


def _next_slot(now: datetime, hour: int = 2) -> datetime:
    """One minute past the next ``hour``:00 UTC."""
    target = now.replace(hour=hour, minute=1, second=0, microsecond=0)
    return target if target > now else target + timedelta(days=1)


async def _warm_up_prefect() -> None:
    """Start Prefect's temporary local server now, so the first night's clock does not run
    while it starts."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        await client.api_healthcheck()


def _nightly_section(sim: SimHandle, nights: int) -> bool:
    """The nightly-snapshots recipe over ``nights`` simulated nights; True when all were ok."""
    from flows.nightly_snapshots.flow import nightly_snapshots
    from flows.nightly_snapshots.params import NightlySnapshotsParams
    from flows.nightly_snapshots.report import DeletionStatus, SnapshotStatusOutcome
    from simulator.ticker import ClockTicker
    from tasks.connection import BarrackConnection

    ok = True
    table = Table(title="Nightly snapshots over a simulated week (policy 'standard')")
    for column in ("night", "taken", "already", "skipped", "failed", "pruned", "kept"):
        table.add_column(column, justify="right" if column != "night" else "left")
    reasons: Counter[str] = Counter()
    report = None
    for _ in range(nights):
        sim.advance((_next_slot(sim.now()) - sim.now()).total_seconds())
        params = NightlySnapshotsParams(
            connection=BarrackConnection(base_url=sim.base_url),
            now=sim.now(),
            preset="standard",
            max_deletions=500,
            poll_seconds=0.05,
            max_poll_seconds=0.25,
            wait_timeout_minutes=2,
        )
        with ClockTicker(sim, step=10, interval=0.02):
            report = asyncio.run(nightly_snapshots(params))
        ok = ok and report.ok
        pruned = [d for d in report.deletions if d.status is DeletionStatus.DELETED]
        reasons.update(d.reason for d in pruned)
        table.add_row(
            f"{report.slot:%a %d %b}",
            str(report.count(SnapshotStatusOutcome.CREATED)),
            str(report.count(SnapshotStatusOutcome.EXISTS)),
            str(report.count(SnapshotStatusOutcome.SKIPPED)),
            str(len(report.failed_instances)),
            str(len(pruned)),
            str(sum(i.kept for i in report.instances)),
        )
    console.print(table)
    if report is not None:
        last = Table(title=f"Last night ({report.slot:%a %d %b}), per instance")
        for column in ("instance", "region", "snapshot", "kept", "freshness", "why"):
            last.add_column(column)
        for item in report.instances:
            last.add_row(
                item.instance_name,
                item.region,
                item.outcome.value,
                str(item.kept),
                item.freshness,
                item.reason,
            )
        console.print(last)
    console.print("[bold]Why snapshots were pruned:[/]")
    for reason, count in reasons.most_common():
        console.print(f"  {count:>4} x {reason}")
    if report is not None and report.cost is not None:
        # Every kept snapshot bills a fixed rate every hour: show what the policy costs.
        console.print(report.cost.line(), markup=False)
    return ok


def _low_balance_section(sim: SimHandle, state_dir: Path, days: int = 7) -> None:
    """The low-balance recipe every 6 simulated hours over ``days``, from a fresh fleet."""
    from barrack_ops.demo.low_balance import demo_low_balance_week

    sim.reset()
    console.print(
        "Back to the demo scenario's start: its balance lasts about two days at the fleet's "
        "burn. The recipe runs every 6 simulated hours; a person tops up 6 hours after the "
        "alert turns critical."
    )
    _print_lines(demo_low_balance_week(sim, state_dir, days=days))


def alert_lines(received: Sequence[ReceivedNotification]) -> list[str]:
    """One line per alert title, in order of arrival, with its severity; repeats counted.

    Titles carry the severity (``[warning] ...``, ``[resolved] ...``) except for info
    alerts: those get apprise's message type in front.
    """
    counts: Counter[str] = Counter()
    for note in received:
        title = note.title or "(untitled)"
        counts[title if title.startswith("[") else f"[{note.type or 'info'}] {title}"] += 1
    return [
        f"  {title}" + (f"  (x{count})" if count > 1 else "") for title, count in counts.items()
    ]


def _alerts_section(received: Sequence[ReceivedNotification]) -> None:
    """What the local channel received, and the first message in full."""
    if not received:
        console.print("  (none)")
        return
    for line in alert_lines(received):
        # Alert titles are text from the recipes: "[warning]" is not markup.
        console.print(escape(line))
    console.print("[bold]The first one, as a chat channel shows it:[/]")
    console.print(received[0].body or "", markup=False)


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        console.print(line, markup=False)


def _spend_section(sim: SimHandle, output_dir: Path) -> bool:
    """The spend-report recipe over a week played on the ``spend-week`` scenario."""
    from barrack_ops.demo.spend_report import run_spend_demo

    report = asyncio.run(run_spend_demo(console, sim, output_dir))
    return not report.incomplete


def run_demo(nights: int = 7, output_dir: Path | None = None) -> int:
    """Run the demo; returns the process exit code (0 when every run succeeded).

    What outlives the run (the spend chart) goes to ``output_dir``, by default
    ``./barrack-ops-demo`` under the current directory.
    """
    output_dir = output_dir if output_dir is not None else Path.cwd() / "barrack-ops-demo"
    # Prefect's per-task INFO lines would bury the demo's own output (set before import).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect's temporary server: the same start-up settings as every CLI run (a first
    # start migrates a new database, longer than Prefect's 20 s default on a busy machine).
    from barrack_ops.runner import tune_ephemeral_server

    tune_ephemeral_server()
    from barrack_ops.demo.hibernate import demo_hibernate_idle
    from barrack_ops.demo.receiver import NotificationReceiver
    from barrack_ops.demo.restore import demo_restore
    from simulator.testing import running_simulator
    from simulator.ticker import ClockTicker

    failed: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="barrack-ops-demo-") as state_dir,
        running_simulator("demo", seed=1, start=DEMO_START) as sim,
        NotificationReceiver() as receiver,
    ):
        env = {
            "BARRACK_API_KEY": sim.api_key,
            "BARRACK_BASE_URL": sim.base_url,
            "BARRACK_NOTIFY_URLS": receiver.json_url("/ops-channel"),
            "BARRACK_NOTIFY_STATE": "file",
            "BARRACK_NOTIFY_STATE_FILE": str(Path(state_dir) / "alerts.json"),
            "BARRACK_OPS_STATE_DIR": state_dir,
        }
        with patched_environment(env):
            console.rule("[bold]barrack-ops demo")
            console.print(
                f"Simulator at {sim.base_url} (scenario 'demo', simulated time "
                f"{sim.now():%Y-%m-%d %H:%M} UTC); notifications go to a local receiver."
            )
            sim.top_up("20000")  # the scenario's balance would run out mid-week
            console.print(
                "Topped the demo account up so the fleet survives the week "
                "(the low-balance recipe shows what happens otherwise)."
            )
            console.print("Starting Prefect's local engine (a temporary server, once)...")
            asyncio.run(_warm_up_prefect())

            console.rule("1. Nightly snapshots with retention")
            if not _nightly_section(sim, nights):
                failed.append("nightly snapshots")

            console.rule("2. Hibernate idle GPUs")
            lines, ok = demo_hibernate_idle(sim, Path(state_dir))
            _print_lines(lines)
            if not ok:
                failed.append("hibernate idle")

            console.rule("3. Restore into another region, and a restore drill")
            lines, ok = demo_restore(sim, lambda: ClockTicker(sim, step=10, interval=0.02))
            _print_lines(lines)
            if not ok:
                failed.append("restore")

            console.rule("4. Low-balance alerts with a runway forecast")
            _low_balance_section(sim, Path(state_dir))

            console.rule("5. Where the money went: the week's spend digest")
            if not _spend_section(sim, output_dir):
                failed.append("spend report")

            console.rule("Alerts received by the local channel")
            _alerts_section(receiver.received)
    verdict = (
        "[green]every run succeeded[/]" if not failed else f"[red]failed: {', '.join(failed)}[/]"
    )
    console.rule(verdict)
    return 1 if failed else 0
