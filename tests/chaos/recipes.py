"""The four recipes as chaos cases: a small scenario, parameters, and what to check.

Each :class:`RecipeCase` knows its simulator scenario, how to build its parameters for a
base URL (the simulator's, or a proxy's in front of it), which resources its report says
were changed, failed or skipped, and which recipe invariants apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flows.hibernate_idle.flow import hibernate_idle
from flows.hibernate_idle.params import HibernateIdleParams
from flows.hibernate_idle.report import Action, HibernateReport
from flows.hibernate_idle.state import IdleMemory, InstanceState
from flows.low_balance.flow import low_balance
from flows.low_balance.params import LowBalanceParams
from flows.low_balance.report import LowBalanceReport, ProtectionStatus
from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.report import DeletionStatus, NightlyReport, SnapshotStatusOutcome
from flows.restore.flow import restore_to_region
from flows.restore.params import RestoreParams
from flows.restore.report import RestoreOutcome, RestoreReport
from simulator.testing import SimHandle
from tests.chaos import invariants as inv
from tests.chaos.world import RequestRecord, WorldView
from tests.helpers.hibernate import SCENARIO as HIBERNATE_TEST_SCENARIO
from tests.helpers.hibernate import START as HIBERNATE_TEST_START

__all__ = ["CASES", "Evidence", "ParamsContext", "RecipeCase"]


@dataclass(frozen=True, slots=True)
class ParamsContext:
    """What a case needs to build one run's parameters."""

    base_url: str
    sim: SimHandle
    workdir: Path
    now: datetime
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a scenario left behind, for the recipe's own invariants."""

    before: WorldView
    after: WorldView
    requests: Sequence[RequestRecord]
    reports: Sequence[Any]
    killed: bool


Check = tuple[str, list[inv.Violation]]


@dataclass(frozen=True, slots=True)
class RecipeCase:
    """One recipe, ready to be run under chaos.

    Attributes:
        name: the recipe (and its Prefect flow name).
        params_model: its parameters' model.
        report_model: its report's model.
        scenario: the simulator scenario (YAML).
        start: the simulated start.
        ticker_step: simulated seconds per tick (every 50 ms) while it runs (0: none needed).
        flow: the Prefect flow.
        params: builds the parameters of a run.
        prepare: sets up what the scenario needs after loading (e.g. remembered warnings).
        failed: names of the resources a report marks failed.
        done: ids a report names as created, adopted, deleted or acted on.
        accounted: ids a report gives any outcome for (done, failed, skipped, refused).
        checks: the recipe's own invariants.
        routes: the API calls it makes (method, path glob): where malformed answers go.
        typical_requests: fewer API calls than any run makes (kill points fall before).
        adopted_after_kill: what a rerun must find and report of a killed run's making
            (``snapshot``, ``instance``): what it would otherwise duplicate. Low-balance's
            protective snapshot is not adopted: if the kill came after it, the instance's
            data is safe and the rerun needs no new one (its duplicates are checked).
    """

    name: str
    params_model: type[BaseModel]
    report_model: type[BaseModel]
    scenario: str
    start: datetime
    ticker_step: float
    flow: Any
    params: Callable[[ParamsContext], BaseModel]
    prepare: Callable[[SimHandle, Path], None]
    failed: Callable[[Any], list[str]]
    done: Callable[[Any], set[str]]
    accounted: Callable[[Any], set[str]]
    checks: Callable[[Evidence], list[Check]]
    routes: tuple[tuple[str, str], ...]
    typical_requests: int
    adopted_after_kill: tuple[str, ...] = ()


def _connection(ctx: ParamsContext) -> dict[str, Any]:
    connection: dict[str, Any] = {"base_url": ctx.base_url}
    if ctx.timeout is not None:
        connection["timeout"] = ctx.timeout
    return connection


def _nothing(sim: SimHandle, workdir: Path) -> None:
    return None


def _names(world: WorldView) -> dict[str, str]:
    return {i.id: i.name for i in world.instances.values()}


# -- nightly-snapshots -------------------------------------------------------------------

NIGHTLY_START = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
"""Half an hour before the 02:00 slot: the series end with last night's snapshots."""
NIGHTLY_KEEP_DAILY = 3
NIGHTLY_SCENARIO = """
name: chaos-nightly
account: {currency: USD, balance: "5000.00"}
ssh_keys: [{name: ops}]
instances:
  - {name: web-a40, region: US-1, gpu_model: A40, age: 20d}
  - {name: train-h100, region: NORWAY-1, gpu_model: H100-SXM5-80GB, age: 20d}
  - {name: eval-l40, region: CANADA-1, gpu_model: L40, age: 20d}
  - {name: db-a6000, region: US-1, gpu_model: RTX-A6000, age: 20d}
  - {name: parked-l40, region: US-1, gpu_model: L40, age: 20d, status: SHUTOFF, status_age: 1d}
snapshot_series:
  - {instance: web-a40, days: 6}
  - {instance: train-h100, days: 6}
  - {instance: eval-l40, days: 6}
snapshots:
  - {name: before-upgrade, instance: web-a40, age: 9d, description: taken by hand}
  - {name: golden-train, instance: train-h100, age: 12d,
     description: "managed-by=barrack-ops policy=nightly slot=2026-11-16T02:00Z"}
images:
  - {name: train-base, snapshot: golden-train}
"""
"""Three instances with six nights of owned snapshots, one with none yet, one stopped; a
manual snapshot, and an old owned one backing an image (the planner must keep both)."""


def _nightly_prepare(sim: SimHandle, workdir: Path) -> None:
    """Move to one minute past tonight's slot."""
    sim.advance(31 * 60)


def _nightly_params(ctx: ParamsContext) -> BaseModel:
    return NightlySnapshotsParams.model_validate(
        {
            "connection": _connection(ctx),
            "now": ctx.now,
            "retention": {"keep_daily": NIGHTLY_KEEP_DAILY},
            "max_deletions": 100,
            "max_concurrency": 4,
            "poll_seconds": 0.05,
            "max_poll_seconds": 0.2,
            "wait_timeout_minutes": 1,
        }
    )


def _nightly_failed(report: NightlyReport) -> list[str]:
    return [i.instance_name for i in report.failed_instances] + [
        d.snapshot_name for d in report.failed_deletions
    ]


def _nightly_done(report: NightlyReport) -> set[str]:
    made = {
        i.snapshot_id
        for i in report.instances
        if i.snapshot_id
        and i.outcome
        in (
            SnapshotStatusOutcome.CREATED,
            SnapshotStatusOutcome.EXISTS,
            SnapshotStatusOutcome.FAILED,
        )
    }
    gone = {
        d.snapshot_id
        for d in report.deletions
        if d.status in (DeletionStatus.DELETED, DeletionStatus.ALREADY_GONE)
    }
    return made | gone


def _nightly_accounted(report: NightlyReport) -> set[str]:
    return (
        _nightly_done(report)
        | {d.snapshot_id for d in report.deletions}
        | {i.instance_id for i in report.instances}
    )


def _nightly_checks(ev: Evidence) -> list[Check]:
    planned: set[str] | None = None
    if not ev.killed:
        planned = {
            d.snapshot_id
            for r in ev.reports
            for d in r.deletions
            if d.status in (DeletionStatus.DELETED, DeletionStatus.ALREADY_GONE)
        }
    return [
        ("one snapshot per slot", inv.at_most_one_snapshot_per_slot(ev.after, "nightly")),
        (
            "deletions safe",
            inv.deletions_are_safe(
                ev.before,
                ev.after,
                policy="nightly",
                keep_daily=NIGHTLY_KEEP_DAILY,
                planned=planned,
            ),
        ),
    ]


NIGHTLY = RecipeCase(
    name="nightly-snapshots",
    params_model=NightlySnapshotsParams,
    report_model=NightlyReport,
    scenario=NIGHTLY_SCENARIO,
    start=NIGHTLY_START,
    ticker_step=50,
    flow=nightly_snapshots,
    params=_nightly_params,
    prepare=_nightly_prepare,
    failed=_nightly_failed,
    done=_nightly_done,
    accounted=_nightly_accounted,
    checks=_nightly_checks,
    routes=(
        ("GET", "/api/instances/"),
        ("GET", "/api/snapshots/"),
        ("POST", "/api/snapshots/"),
        ("POST", "/api/snapshots/image-relationships/"),
        ("DELETE", "/api/snapshots/*"),
    ),
    typical_requests=18,
    adopted_after_kill=("snapshot",),
)

# -- hibernate-idle ----------------------------------------------------------------------

HIBERNATE_START = HIBERNATE_TEST_START
HIBERNATE_SCENARIO = HIBERNATE_TEST_SCENARIO
"""The hibernate-idle flow tests' world (``tests/helpers/hibernate.py``)."""
HIBERNATE_PROTECTED = {
    "busy-train": "busy",
    "spiky-infer": "busy now and then",
    "fresh-box": "up for less than the minimum uptime",
    "prod-db": "exempt (prod-*)",
    "notebook-anna": "snoozed",
    "stopped-render": "not ACTIVE",
}
"""Every instance the recipe must leave alone, and why; only idle-a40 and idle-h100 may go."""


def _state_file(workdir: Path) -> Path:
    return workdir / "idle-state.json"


def _hibernate_prepare(sim: SimHandle, workdir: Path) -> None:
    """Remember a warning from half an hour ago for every instance, idle or not.

    So one run may hibernate what is idle (warned, grace passed) and must still leave
    everything else alone: a remembered warning must never outweigh busy, exempt,
    snoozed, not armed or not active.
    """
    now = sim.now()
    with sim.client() as client:
        listed = client.get("/instances/", params={"per_page": 100}).json()["instances"]
    warned = InstanceState(
        warned_at=now - timedelta(minutes=30), last_idle_at=now - timedelta(minutes=15)
    )
    asyncio.run(IdleMemory.in_file(_state_file(workdir)).save({vm["id"]: warned for vm in listed}))


def _hibernate_params(ctx: ParamsContext) -> BaseModel:
    return HibernateIdleParams.model_validate(
        {
            "connection": _connection(ctx),
            "now": ctx.now,
            "prometheus": {"url": ctx.sim.prometheus_url},
            "state_store": "file",
            "state_file": str(_state_file(ctx.workdir)),
            "exempt_name_globs": ["prod-*"],
            "snoozes": [
                {"instance": "notebook-*", "until": ctx.now + timedelta(days=1), "reason": "chaos"}
            ],
            "grace_minutes": 30,
            "max_concurrency": 4,
        }
    )


def _hibernate_failed(report: HibernateReport) -> list[str]:
    return [i.instance_name for i in report.instances if i.action is Action.FAILED]


def _hibernate_done(report: HibernateReport) -> set[str]:
    return {i.instance_id for i in report.instances if i.action is Action.HIBERNATED}


def _hibernate_accounted(report: HibernateReport) -> set[str]:
    return {
        i.instance_id
        for i in report.instances
        if i.action in (Action.HIBERNATED, Action.FAILED, Action.SKIPPED)
    }


def _hibernate_checks(ev: Evidence) -> list[Check]:
    return [
        (
            "no hibernation of busy or exempt",
            inv.no_action_on_protected_instances(
                ev.requests, _names(ev.before), HIBERNATE_PROTECTED
            ),
        )
    ]


HIBERNATE = RecipeCase(
    name="hibernate-idle",
    params_model=HibernateIdleParams,
    report_model=HibernateReport,
    scenario=HIBERNATE_SCENARIO,
    start=HIBERNATE_START,
    ticker_step=0,
    flow=hibernate_idle,
    params=_hibernate_params,
    prepare=_hibernate_prepare,
    failed=_hibernate_failed,
    done=_hibernate_done,
    accounted=_hibernate_accounted,
    checks=_hibernate_checks,
    routes=(
        ("GET", "/api/instances/"),
        ("GET", "/api/instances/BRK-*"),
        ("GET", "/api/pricing/"),
        ("POST", "/api/instances/*/hibernate/"),
    ),
    typical_requests=5,
)

# -- low-balance -------------------------------------------------------------------------

LOW_BALANCE_START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LOW_BALANCE_SCENARIO = """
name: chaos-low-balance
account: {currency: USD, runway_hours: 8}
ssh_keys: [{name: ops}]
instances:
  - {name: dev-a40, region: US-1, gpu_model: A40, age: 3d}
  - {name: notebook-l40, region: US-1, gpu_model: L40, age: 3d}
  - {name: train-h100, region: NORWAY-1, gpu_model: H100-SXM5-80GB, gpu_count: 2, age: 3d}
  - {name: prod-infer, region: CANADA-1, gpu_model: L40, age: 3d}
snapshots:
  - {name: notebook-recent, instance: notebook-l40, age: 2h}
"""
"""An eight-hour runway (critical): two expendable boxes, one without a snapshot, and
two exempt ones the protective plan must never touch."""
LOW_BALANCE_PROTECTED = {"train-h100": "exempt (train-*)", "prod-infer": "exempt (prod-*)"}


def _low_balance_params(ctx: ParamsContext) -> BaseModel:
    return LowBalanceParams.model_validate(
        {
            "account_name": "chaos",
            "connection": _connection(ctx),
            "now": ctx.now,
            "history_store": "file",
            "history_file": str(ctx.workdir / "balance-history.json"),
            "poll_seconds": 0.05,
            "max_poll_seconds": 0.2,
            "protection": {
                "enabled": True,
                "exempt_name_globs": ["train-*", "prod-*"],
                "expendable_name_globs": ["dev-*", "notebook-*"],
                "max_actions": 2,
                "snapshot_wait_minutes": 1,
            },
        }
    )


def _low_balance_failed(report: LowBalanceReport) -> list[str]:
    return [s.instance_name for s in report.protection.failed()] if report.protection else []


def _low_balance_done(report: LowBalanceReport) -> set[str]:
    if report.protection is None:
        return set()
    done = {s.instance_id for s in report.protection.done()}
    return done | {s.snapshot_id for s in report.protection.steps if s.snapshot_id}


def _low_balance_accounted(report: LowBalanceReport) -> set[str]:
    if report.protection is None:
        return set()
    return _low_balance_done(report) | {
        s.instance_id
        for s in report.protection.steps
        if s.status in (ProtectionStatus.FAILED, ProtectionStatus.SKIPPED)
    }


def _low_balance_checks(ev: Evidence) -> list[Check]:
    recent = ev.before.now - timedelta(hours=24)
    at_risk = {
        i.id
        for i in ev.before.instances.values()
        if not any(
            s.instance_id == i.id and s.ready and s.created_at > recent
            for s in ev.before.snapshots.values()
        )
    }
    return [
        (
            "no hibernation of exempt",
            inv.no_action_on_protected_instances(
                ev.requests, _names(ev.before), LOW_BALANCE_PROTECTED
            ),
        ),
        (
            "snapshot before hibernating",
            inv.snapshotted_before_hibernation(ev.before, ev.after, ev.requests, at_risk),
        ),
        (
            "one protective snapshot per instance",
            inv.at_most_one_new_snapshot_per_instance(ev.before, ev.after, prefix="lb-"),
        ),
    ]


LOW_BALANCE = RecipeCase(
    name="low-balance",
    params_model=LowBalanceParams,
    report_model=LowBalanceReport,
    scenario=LOW_BALANCE_SCENARIO,
    start=LOW_BALANCE_START,
    ticker_step=50,
    flow=low_balance,
    params=_low_balance_params,
    prepare=_nothing,
    failed=_low_balance_failed,
    done=_low_balance_done,
    accounted=_low_balance_accounted,
    checks=_low_balance_checks,
    routes=(
        ("GET", "/api/balance/"),
        ("GET", "/api/instances/"),
        ("GET", "/api/snapshots/"),
        ("GET", "/api/instances/BRK-*"),
        ("POST", "/api/snapshots/"),
        ("POST", "/api/instances/*/hibernate/"),
    ),
    typical_requests=10,
)

# -- restore-to-region -------------------------------------------------------------------

RESTORE_START = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
RESTORE_SCENARIO = """
name: chaos-restore
account: {currency: USD, balance: 500}
ssh_keys: [{name: ops}]
instances:
  - {name: train-h100, region: NORWAY-1, gpu_model: H100-SXM5-80GB, gpu_count: 2, age: 10d}
  - {name: render-l40, region: US-1, gpu_model: L40, age: 3d}
snapshots:
  - {name: train-h100-old, instance: train-h100, age: 26h}
  - {name: train-h100-snap, instance: train-h100, age: 2h}
"""


def _restore_params(ctx: ParamsContext) -> BaseModel:
    return RestoreParams.model_validate(
        {
            "instance_name": "train-h100",
            "targets": ["US-1", "source"],
            "connection": _connection(ctx),
            "now": ctx.now,
            "poll_seconds": 0.02,
            "max_poll_seconds": 0.1,
            "wait_timeout_minutes": 1,
            "cleanup_timeout_minutes": 1,
        }
    )


_RESTORE_FAILED = (RestoreOutcome.FAILED, RestoreOutcome.TIMED_OUT, RestoreOutcome.VERIFY_FAILED)


def _restore_failed(report: RestoreReport) -> list[str]:
    names = []
    if report.outcome in _RESTORE_FAILED:
        names.append(report.source_label)
    if report.cleanup_done is False and report.instance_name:
        names.append(report.instance_name)
    return names


def _restore_done(report: RestoreReport) -> set[str]:
    return {report.instance_id} if report.instance_id else set()


def _restore_checks(ev: Evidence) -> list[Check]:
    source = next((s.id for s in ev.before.snapshots.values() if s.name == "train-h100-snap"), "")
    return [
        (
            "one restore per request",
            inv.at_most_one_restore_per_request(ev.before, ev.after, source),
        )
    ]


RESTORE = RecipeCase(
    name="restore-to-region",
    params_model=RestoreParams,
    report_model=RestoreReport,
    scenario=RESTORE_SCENARIO,
    start=RESTORE_START,
    ticker_step=150,
    flow=restore_to_region,
    params=_restore_params,
    prepare=_nothing,
    failed=_restore_failed,
    done=_restore_done,
    accounted=_restore_done,
    checks=_restore_checks,
    routes=(
        ("GET", "/api/snapshots/"),
        ("GET", "/api/instances/"),
        ("GET", "/api/gpu-stocks/"),
        ("GET", "/api/instances/BRK-*"),
        ("POST", "/api/snapshots/*/restore/"),
    ),
    typical_requests=9,
    adopted_after_kill=("instance",),
)

CASES: Mapping[str, RecipeCase] = {
    case.name: case for case in (NIGHTLY, HIBERNATE, LOW_BALANCE, RESTORE)
}
