"""The low-balance flow against the simulator as its clock runs, through Prefect's engine.

The demo scenario's balance lasts 48 hours at its burn. Runs move the simulated clock on
and pass the simulator's time as ``now``; alerts go to a real local receiver and the
dedup ledger and balance history to files under ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from barrack import AsyncBarrack
from barrack.models import Snapshot, VMInstance
from barrack_ops.commands.low_balance import run_low_balance
from barrack_ops.demo.low_balance import LowBalanceDemo, demo_low_balance, demo_low_balance_week
from barrack_ops.demo.receiver import NotificationReceiver
from flows.low_balance.flow import low_balance
from flows.low_balance.params import LowBalanceParams
from flows.low_balance.report import LowBalanceReport, ProtectionStatus
from notifications import Severity
from simulator.testing import SimHandle, running_simulator
from simulator.ticker import ClockTicker
from tasks.connection import BarrackConnection
from tests.helpers.screen import assert_no_repeated_run

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.fixture(scope="module")
def module_receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(module_receiver: NotificationReceiver) -> NotificationReceiver:
    module_receiver.clear()
    return module_receiver


@pytest.fixture
def sim(
    demo_sim: SimHandle,
    receiver: NotificationReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> SimHandle:
    demo_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
    monkeypatch.setenv("BARRACK_NOTIFY_URLS", receiver.json_url("/ops"))
    monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
    monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(tmp_path / "alerts.json"))
    monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(tmp_path))
    return demo_sim


def params(sim: SimHandle, **overrides: object) -> LowBalanceParams:
    base: dict[str, object] = {
        "account_name": "demo",
        "connection": BarrackConnection(base_url=sim.base_url),
        "now": sim.now(),
        "history_store": "file",
        "repeat_hours": 6,
        "poll_seconds": 0.05,
        "max_poll_seconds": 0.2,
    }
    base.update(overrides)
    return LowBalanceParams.model_validate(base)


def run(sim: SimHandle, **overrides: object) -> LowBalanceReport:
    return asyncio.run(low_balance(params(sim, **overrides)))


def ledger_burn(sim: SimHandle) -> Decimal:
    """The simulator's own sum of every rate it bills now (read between requests)."""
    burn = sim.runtime.backend.world.ledger.burn
    assert isinstance(burn, Decimal)
    return burn


def fleet(sim: SimHandle) -> tuple[list[VMInstance], list[Snapshot]]:
    async def fetch() -> tuple[list[VMInstance], list[Snapshot]]:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            instances = await client.instances.list(per_page=100).to_list()
            return instances, await client.snapshots.list().to_list()

    return asyncio.run(fetch())


def test_the_fleet_model_matches_what_the_simulator_bills(sim: SimHandle) -> None:
    report = run(sim, notify=False, history_store="auto", account_name="demo-model")
    assert report.fleet_burn_per_hour == ledger_burn(sim)
    assert report.unpriced == []
    lines = {line.category: line for line in report.burn_lines}
    assert lines["active instances"].count == 10
    assert lines["stopped instances"].per_hour > 0  # SHUTOFF pays the full rate
    assert lines["hibernated instances"].per_hour == Decimal("0.01")
    assert lines["volumes"].per_hour == Decimal("0.15")  # 1000 GB + 500 GB at 0.1/TB-h
    assert lines["snapshots"].per_hour > 0
    # The demo balance lasts 48 h: a warning, depletion two days out.
    assert report.runway_hours is not None
    assert abs(report.runway_hours - 48) < Decimal("0.01")
    assert report.severity is Severity.WARNING
    assert report.depletion_at is not None
    assert 47.9 * 3600 < (report.depletion_at - START).total_seconds() < 48.1 * 3600
    assert report.history == "prefect variable barrack-ops-balance-history--demo-model"
    assert report.protection is None  # not critical
    # The artifacts: the summary and the burn table, read back from the Prefect API.
    from prefect.artifacts import Artifact

    summary = Artifact.get("low-balance-demo-model")
    assert summary is not None
    assert "## Burn by category" in str(summary.data)
    assert "| depletion | 2026-11-29 12:00 UTC |" in str(summary.data)
    table = Artifact.get("low-balance-demo-model-burn")
    assert table is not None
    assert "hibernated instances" in str(table.data)


def test_alerts_follow_the_runway_as_the_clock_runs_and_a_top_up_resolves_them(
    sim: SimHandle, receiver: NotificationReceiver
) -> None:
    decisions: list[tuple[float, str | None, str]] = []

    def step(hours: float) -> LowBalanceReport:
        elapsed = (sim.now() - START).total_seconds() / 3600
        if hours > elapsed:
            sim.advance(round((hours - elapsed) * 3600))
        report = run(sim)
        decisions.append(
            (hours, report.severity and report.severity.value, report.notifications or "")
        )
        return report

    first = step(0)
    assert first.severity is Severity.WARNING
    assert first.measured_burn_per_hour is None  # one sample: no history yet
    step(1)  # same level within six hours: held back
    six = step(6)  # repeated
    # Over six hours of samples, the measured burn is what the simulator charged.
    assert six.measured_burn_per_hour is not None
    assert abs(six.measured_burn_per_hour - ledger_burn(sim)) < Decimal("0.0001")
    # Two sample intervals (0-1 h, 1-6 h) cannot tell a lasting burn from money spent once.
    assert "too few sample intervals (2 of 3)" in six.runway_basis
    assert six.runway_burn_per_hour == six.fleet_burn_per_hour
    step(20)  # repeated again
    critical = step(24.5)  # the runway dropped under 24 h: escalated at once
    assert critical.severity is Severity.CRITICAL
    assert critical.runway_hours is not None
    assert critical.runway_hours < 24
    assert critical.protection is not None
    assert critical.protection.steps  # planned, but protection is off
    assert {s.status for s in critical.protection.steps} == {ProtectionStatus.PLANNED}
    step(25)  # held back
    sim.top_up(critical.top_up_to_clear)  # what the report said: clear for a day
    recovered = step(25.5)
    assert recovered.severity is None
    step(26)  # nothing open any more: nothing sent

    outcomes = [d[2].split(";")[0] for d in decisions]
    assert outcomes == [
        "1 new",
        "1 suppressed",
        "1 repeat",
        "1 repeat",
        "1 escalated",
        "1 suppressed",
        "1 resolved",
        "1 not-open",
    ]
    received = receiver.wait_for(5)
    titles = [n.title or "" for n in received]
    assert len(titles) == 5
    assert [t.split("]")[0] + "]" for t in titles] == [
        "[warning]",
        "[warning]",
        "[warning]",
        "[critical]",
        "[resolved]",
    ]
    # USD 4,660.80 at USD 97.10/h: 48 hours
    assert titles[0] == "[warning] Barrack credit runs out in 2d (demo, USD 4,660.80 left)"
    assert "Escalated from warning" in (received[3].body or "")
    assert titles[4] == "[resolved] Balance recovered: demo"
    assert "Runway" in (received[4].body or "")


def test_a_dry_run_plans_protection_but_changes_and_sends_nothing(
    sim: SimHandle, receiver: NotificationReceiver
) -> None:
    sim.advance(25 * 3600)  # critical
    before_instances, before_snapshots = fleet(sim)
    sim.clear_requests()
    report = run(
        sim,
        dry_run=True,
        protection={"enabled": True, "exempt_name_globs": ["llm-train-*"], "max_actions": 2},
    )
    assert report.severity is Severity.CRITICAL
    assert report.protection is not None
    assert [s.status for s in report.protection.steps] == [ProtectionStatus.WOULD_ACT] * 2
    assert report.alerts  # what it would raise, listed
    assert report.notifications is None
    assert {r["method"] for r in sim.requests()} == {"GET"}
    after_instances, after_snapshots = fleet(sim)
    assert [(i.id, i.status) for i in after_instances] == [
        (i.id, i.status) for i in before_instances
    ]
    assert len(after_snapshots) == len(before_snapshots)
    assert receiver.received == []


def test_protection_snapshots_at_risk_data_then_hibernates(
    sim: SimHandle, receiver: NotificationReceiver
) -> None:
    sim.advance(25 * 3600)  # critical
    burn_before = ledger_burn(sim)
    protection = {
        "enabled": True,
        "exempt_name_globs": ["llm-train-*", "inference-*", "batch-*"],
        "expendable_name_globs": ["dev-*", "notebook-*"],
        "max_actions": 3,
        "snapshot_wait_minutes": 2,
    }
    # Snapshots take simulated minutes: keep the clock moving while the flow waits.
    with ClockTicker(sim, step=10, interval=0.02) as ticker:
        report = run(sim, protection=protection)
    assert ticker.error is None
    assert report.protection is not None
    steps = {s.instance_name: s for s in report.protection.steps}
    # Expendables first; then the largest saving among the rest (none is data-safe).
    assert list(steps) == ["dev-a40", "notebook-anna", "finetune-a100"]
    assert all(s.status is ProtectionStatus.DONE for s in steps.values()), report.markdown()
    # dev-a40 had no snapshot, notebook-anna only a 4-day-old one: both taken first.
    for name in ("dev-a40", "notebook-anna"):
        assert steps[name].snapshot_first
        assert steps[name].snapshot_id
    instances, snapshots = fleet(sim)
    status = {i.name: str(i.status) for i in instances}
    for name in steps:
        assert status[name] in ("HIBERNATING", "HIBERNATED")
    for name in ("llm-train-01", "inference-h100", "batch-h100"):
        assert status[name] == "ACTIVE"
    taken = {s.id: s for s in snapshots}
    made = 0
    for step in steps.values():
        if step.snapshot_id:
            snapshot = taken[step.snapshot_id]
            assert snapshot.status.is_ready
            assert snapshot.name.startswith(f"lb-{step.instance_name}-")
            made += 1
    # Once the hibernations settle the burn falls by the planned savings (and grows by
    # the new snapshots, at Part C's fixed USD 0.1 per snapshot-hour whatever their size).
    sim.advance(600)
    saved = sum((s.saving_per_hour for s in steps.values()), Decimal(0))
    assert ledger_burn(sim) == burn_before - saved + made * Decimal("0.1")
    # One digest: the critical low balance and each hibernation.
    (message,) = receiver.wait_for(1)
    assert message.title == "[critical] 4 alerts: 1 low balance, 3 instances hibernated"
    for part in ("Barrack credit runs out", "Hibernated dev-a40", "Hibernated finetune-a100"):
        assert part in (message.body or "")


def test_by_default_protection_only_plans(sim: SimHandle) -> None:
    sim.advance(25 * 3600)
    sim.clear_requests()
    report = run(sim, notify=False)
    assert report.protection is not None
    assert not report.protection.enabled
    assert {s.status for s in report.protection.steps} == {ProtectionStatus.PLANNED}
    assert {r["method"] for r in sim.requests()} == {"GET"}


def test_an_exhausted_balance_is_critical_with_instances_stopped(sim: SimHandle) -> None:
    sim.advance(49 * 3600)  # past depletion: B6 stopped every ACTIVE instance
    report = run(sim, notify=False)
    assert report.balance <= 0
    assert report.severity is Severity.CRITICAL
    assert report.runway_hours == 0
    assert "balance exhausted: instances are stopped" in report.crossings
    lines = {line.category: line for line in report.burn_lines}
    assert lines["active instances"].count == 0
    assert report.fleet_burn_per_hour == ledger_burn(sim)


def test_the_demo_steps_through_warning_escalation_top_up_and_resolution(
    sim: SimHandle, tmp_path: Path, receiver: NotificationReceiver
) -> None:
    state = LowBalanceDemo(react_after_hours=6)
    printed: list[str] = []
    for _ in range(7):  # every 6 simulated hours: 0 h .. 36 h
        printed += asyncio.run(demo_low_balance(sim, sim.now(), state=state, state_dir=tmp_path))
        sim.advance(6 * 3600)
    outcomes = [line.rsplit("  ", 1)[-1] for line in printed if not line.startswith("    ")]
    assert outcomes == [
        "low-balance demo: new",  # 48 h: warning
        "low-balance demo: suppressed",
        "low-balance demo: repeat",  # twelve hours on
        "low-balance demo: suppressed",
        "low-balance demo: repeat",  # 24.0 h: still a warning
        "low-balance demo: escalated",  # 18 h: critical
        "low-balance demo: suppressed",  # 12 h: critical six hours, the person reacts
        "low-balance demo: resolved",
    ]
    # Expendables only (the rest are exempt or cannot reach the target within 3),
    # all needing a snapshot first: the largest saving first.
    plan = "    protective plan (protection off): would hibernate eval-a40, dev-a40, notebook-anna"
    assert plan in printed
    ((when, amount),) = state.top_ups
    assert when == START + timedelta(hours=36)
    assert amount % 100 == 0
    assert "    a person tops up USD " in printed[-2]
    assert re.search(r"runway +(9d 23h|10d)\b", printed[-1]), printed[-1]  # about ten days
    assert [n.title for n in receiver.received][-1] == "[resolved] Balance recovered: demo"
    assert_no_repeated_run(printed)


def test_the_command_runs_once_and_exits_non_zero_on_a_warning(
    sim: SimHandle, tmp_path: Path
) -> None:
    app = typer.Typer()
    app.command()(run_low_balance)
    settings = tmp_path / "low-balance.yaml"
    settings.write_text(
        f"connection: {{base_url: '{sim.base_url}'}}\n"
        f"now: '{sim.now().isoformat()}'\n"
        "history_store: memory\n"
        "notify: false\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["--params", str(settings), "--account", "cli"])
    assert result.exit_code == 1, result.output  # the demo's 48 h runway is a warning
    assert "Low balance: cli" in result.output
    assert "runway below 72 h" in result.output


def test_the_command_names_a_bad_field(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(run_low_balance)
    settings = tmp_path / "bad.yaml"
    settings.write_text("thresholds: {runway: [{below_hours: -1, severity: warning}]}\n")
    result = CliRunner().invoke(app, ["--params", str(settings)])
    assert result.exit_code == 2
    assert "thresholds.runway.0.below_hours" in result.output


def test_a_failed_snapshot_keeps_its_instance_running_and_the_others_go_on(
    sim: SimHandle, receiver: NotificationReceiver
) -> None:
    sim.advance(25 * 3600)  # critical
    sim.set_profile_complete(False)  # creating anything (a snapshot too) is refused: 403
    protection = {
        "enabled": True,
        "exempt_name_globs": ["llm-train-*", "inference-*", "batch-*", "eval-*", "notebook-*"],
        "expendable_name_globs": ["dev-*"],
        "max_actions": 2,
        # finetune-a100's last nightly snapshot (about 34 h old) counts as safe.
        "snapshot_max_age_hours": 48,
    }
    with ClockTicker(sim, step=10, interval=0.02):
        report = run(sim, protection=protection)
    assert report.protection is not None
    steps = {s.instance_name: s for s in report.protection.steps}
    assert list(steps) == ["dev-a40", "finetune-a100"]
    failed, done = steps["dev-a40"], steps["finetune-a100"]
    assert failed.status is ProtectionStatus.FAILED
    assert "snapshot failed" in failed.reason
    assert "PROFILE_INCOMPLETE" in failed.reason
    assert not done.snapshot_first
    assert done.status is ProtectionStatus.DONE
    status = {i.name: str(i.status) for i in fleet(sim)[0]}
    assert status["dev-a40"] == "ACTIVE"  # still snapshottable by a later run
    assert status["finetune-a100"] in ("HIBERNATING", "HIBERNATED")
    assert not report.ok
    (message,) = receiver.wait_for(1)
    assert "Could not hibernate dev-a40 to stretch the runway" in (message.body or "")


def test_the_demo_week_folds_the_quiet_steps_after_the_top_up(
    sim: SimHandle, tmp_path: Path
) -> None:
    printed = demo_low_balance_week(sim, tmp_path, days=2)
    assert_no_repeated_run(printed)
    assert not [line for line in printed if line.endswith(": not-open")]
    # Resolved at 36 h (the person tops up six hours into critical); 42 h and 48 h are quiet.
    assert printed[-2].endswith("low-balance demo: resolved")
    assert printed[-1].startswith("Sun 06:00 to Sun 12:00  2 runs, ok, no alert: USD ")
    assert ", runway 9d 18h 37m to 9d 12h 37m" in printed[-1]
