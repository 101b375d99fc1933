"""The nightly-snapshots flow against the simulator, through Prefect's real engine."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from barrack import AsyncBarrack
from barrack.models import Snapshot
from flows.nightly_snapshots.flow import nightly_snapshots
from flows.nightly_snapshots.ownership import is_owned_by, ownership_description
from flows.nightly_snapshots.preview import preview_retention
from flows.nightly_snapshots.report import DeletionStatus, NightlyReport, SnapshotStatusOutcome
from flows.nightly_snapshots.retention import FleetPlan
from simulator.testing import SimHandle, running_simulator
from tests.helpers.nightly import nightly_params as params
from tests.helpers.nightly import run_nightly as run

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.fixture
def sim(demo_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> SimHandle:
    demo_sim.reset()
    demo_sim.top_up("100000")  # the demo balance runs out in two days; a week needs more
    monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
    return demo_sim


def snapshots(sim: SimHandle) -> list[Snapshot]:
    async def fetch() -> list[Snapshot]:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            return await client.snapshots.list().to_list()

    return asyncio.run(fetch())


def to_next_slot(sim: SimHandle) -> datetime:
    """Move the clock to one minute past the next 02:00 UTC."""
    now = sim.now()
    target = (now + timedelta(days=1)).replace(hour=2, minute=1, second=0, microsecond=0)
    if now.hour < 2:
        target -= timedelta(days=1)
    return sim.advance((target - now).total_seconds())


def test_a_simulated_week_keeps_exactly_what_the_policy_says(sim: SimHandle) -> None:
    before = snapshots(sim)
    unowned = {s.id for s in before if not is_owned_by(s.description, "nightly")}
    backing = {s.id for s in before if s.has_image}
    assert unowned, "the demo scenario has manual snapshots"
    assert backing, "the demo scenario has a snapshot backing an image"

    nights = []
    for _ in range(7):
        to_next_slot(sim)
        report = run(sim, retention={"keep_daily": 5}, max_deletions=1000)
        assert report.ok, report.markdown()
        nights.append(report.slot)

    after = snapshots(sim)
    ids = {s.id for s in after}
    assert unowned <= ids, "snapshots not made by the policy are never deleted"
    assert backing <= ids, "snapshots backing an image are never deleted"

    last_report = report
    active = {
        i.instance_id
        for i in last_report.instances
        if i.outcome in (SnapshotStatusOutcome.CREATED, SnapshotStatusOutcome.EXISTS)
    }
    assert len(active) >= 8
    owned_by_instance: dict[str, set[str]] = defaultdict(set)
    for s in after:
        if is_owned_by(s.description, "nightly") and not s.has_image and s.instance_id:
            owned_by_instance[s.instance_id].add(s.name)
    names = {i.instance_id: i.instance_name for i in last_report.instances}
    for instance_id in active:
        expected = {f"auto-{names[instance_id]}-{slot:%Y%m%d-%H%M}" for slot in nights[-5:]}
        assert owned_by_instance[instance_id] == expected, names[instance_id]


def test_a_rerun_of_the_same_slot_creates_nothing(sim: SimHandle) -> None:
    to_next_slot(sim)
    first = run(sim)
    created = first.count(SnapshotStatusOutcome.CREATED)
    assert created >= 8
    count = len(snapshots(sim))
    second = run(sim, now=first.evaluated_at + timedelta(minutes=30))
    assert second.slot == first.slot
    assert second.count(SnapshotStatusOutcome.CREATED) == 0
    assert second.count(SnapshotStatusOutcome.EXISTS) == created
    assert len(snapshots(sim)) == count


def test_dry_run_changes_nothing(sim: SimHandle) -> None:
    to_next_slot(sim)
    before = sorted(s.id for s in snapshots(sim))
    sim.clear_requests()
    report = run(sim, dry_run=True, retention={"keep_last": 2}, max_deletions=1000)
    assert report.count(SnapshotStatusOutcome.WOULD_CREATE) >= 8
    assert any(d.status is DeletionStatus.WOULD_DELETE for d in report.deletions)
    assert sorted(s.id for s in snapshots(sim)) == before
    methods = {r["method"] for r in sim.requests()}
    assert methods <= {"GET"}, methods


def test_max_deletions_blocks_every_deletion(sim: SimHandle) -> None:
    to_next_slot(sim)
    before = {s.id for s in snapshots(sim)}
    report = run(sim, retention={"keep_last": 1}, max_deletions=5)
    assert report.blocked is not None
    assert "exceed max_deletions=5" in report.blocked
    assert not report.ok
    assert all(d.status is DeletionStatus.BLOCKED for d in report.deletions)
    assert before <= {s.id for s in snapshots(sim)}


def test_failed_snapshots_suspend_pruning(sim: SimHandle) -> None:
    to_next_slot(sim)
    before = {s.id for s in snapshots(sim)}
    sim.set_faults({"method": "POST", "path": "/api/snapshots/", "status": 400, "error_rate": 1.0})
    try:
        report = run(sim, retention={"keep_last": 1}, max_deletions=1000)
    finally:
        sim.clear_faults()
    failed = report.failed_instances
    assert len(failed) >= 8
    assert all(i.pruning_suspended for i in failed)
    assert all("create failed" in i.reason for i in failed)
    failed_ids = {i.instance_id for i in failed}
    assert not any(d.instance_id in failed_ids for d in report.deletions)
    assert before <= {s.id for s in snapshots(sim)} | {
        d.snapshot_id for d in report.deletions if d.status is DeletionStatus.DELETED
    }


def test_stopped_instances_are_skipped_and_go_stale(sim: SimHandle) -> None:
    for _ in range(3):
        to_next_slot(sim)
        report = run(sim)
    skipped = [i for i in report.instances if i.outcome is SnapshotStatusOutcome.SKIPPED]
    assert {i.status for i in skipped} >= {"SHUTOFF", "HIBERNATED"}
    assert all("not ACTIVE" in i.reason for i in skipped)
    assert all(i.freshness in ("warning", "critical") for i in skipped)
    fresh = [i for i in report.instances if i.outcome is SnapshotStatusOutcome.CREATED]
    assert all(i.freshness == "ok" for i in fresh)


def stop_instance(sim: SimHandle, instance_id: str) -> None:
    async def stop() -> None:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            await client.instances.stop(instance_id)

    asyncio.run(stop())
    sim.advance(600)  # long enough for SHUTOFF


def test_an_instance_whose_freshness_is_critical_keeps_every_snapshot(sim: SimHandle) -> None:
    for _ in range(3):
        to_next_slot(sim)
        first = run(sim, retention={"keep_last": 5}, max_deletions=1000)
    stopped = next(i for i in first.instances if i.outcome is SnapshotStatusOutcome.CREATED)
    owned_before = {
        s.id
        for s in snapshots(sim)
        if s.instance_id == stopped.instance_id and is_owned_by(s.description, "nightly")
    }
    assert len(owned_before) >= 3
    stop_instance(sim, stopped.instance_id)
    for _ in range(3):  # three nights without a snapshot: older than two periods + grace
        to_next_slot(sim)

    report = run(sim, retention={"keep_last": 1}, max_deletions=1000)

    line = next(i for i in report.instances if i.instance_id == stopped.instance_id)
    assert line.outcome is SnapshotStatusOutcome.SKIPPED
    assert line.freshness == "critical"
    assert line.pruning_suspended is not None
    assert line.pruning_suspended.startswith("pruning suspended: freshness critical: ")
    assert line.pruning_suspended.count("pruning suspended") == 1
    assert owned_before <= {s.id for s in snapshots(sim)}, "a critical instance lost snapshots"
    assert not [d for d in report.deletions if d.instance_id == stopped.instance_id]
    held = [h for h in report.held if h.instance_id == stopped.instance_id]
    assert len(held) == len(owned_before) - 1  # all but the newest, which is never deleted
    assert all(h.reason == line.pruning_suspended for h in held)
    # The other instances are pruned as usual.
    assert any(d.status is DeletionStatus.DELETED for d in report.deletions)

    # The preview plans as the run does.
    async def preview() -> FleetPlan:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            chosen = params(sim, retention={"keep_last": 1}, max_deletions=1000)
            return await preview_retention(client, chosen)

    planned = asyncio.run(preview()).by_instance[stopped.instance_id]
    assert (planned.suspended_reason or "").startswith("freshness critical: ")
    assert not planned.deletions


def test_a_failed_snapshot_names_the_suspension_once(sim: SimHandle) -> None:
    to_next_slot(sim)
    run(sim, retention={"keep_last": 5})
    to_next_slot(sim)
    sim.set_faults({"method": "POST", "path": "/api/snapshots/", "status": 400, "error_rate": 1.0})
    try:
        report = run(sim, retention={"keep_last": 1}, max_deletions=1000)
    finally:
        sim.clear_faults()

    failed = report.failed_instances
    assert failed
    for line in failed:
        assert line.pruning_suspended == f"pruning suspended: {line.reason}"
    assert report.held
    for held in report.held:
        assert held.reason.count("pruning suspended") == 1, held.reason


def active_instance_name(sim: SimHandle) -> str:
    async def fetch() -> str:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            instances = await client.instances.list().to_list()
        return sorted(vm.name for vm in instances if vm.status == "ACTIVE")[0]

    return asyncio.run(fetch())


def test_a_daily_and_a_weekly_policy_on_one_instance_each_keep_their_own(sim: SimHandle) -> None:
    name = active_instance_name(sim)
    common: dict[str, object] = {"selection": {"name_globs": [name]}, "max_deletions": 1000}
    daily = {**common, "policy_name": "daily", "retention": {"keep_daily": 3}}
    weekly = {
        **common,
        "policy_name": "weekly",
        "cron": "0 2 * * 0",
        "retention": {"keep_weekly": 4},
    }
    weekly_reports = []
    for _ in range(15):  # two Sundays, with a week of dailies after the first
        to_next_slot(sim)
        assert run(sim, **daily).ok
        if sim.now().weekday() == 6:
            weekly_reports.append(run(sim, **weekly))

    assert len(weekly_reports) == 2
    for report in weekly_reports:
        (line,) = report.instances
        assert line.outcome is SnapshotStatusOutcome.CREATED, line.reason
        assert line.freshness == "ok"
    mine = [s for s in snapshots(sim) if s.instance_name == name or name in s.name]
    by_policy: dict[str, set[str]] = defaultdict(set)
    for s in mine:
        for policy in ("daily", "weekly"):
            if is_owned_by(s.description, policy):
                by_policy[policy].add(s.name)
    sundays = [r.slot for r in weekly_reports]
    assert by_policy["weekly"] == {f"auto-{name}-weekly-{slot:%Y%m%d-%H%M}" for slot in sundays}
    assert len(by_policy["daily"]) == 3


def test_freshness_is_judged_on_the_policys_own_snapshots(sim: SimHandle) -> None:
    name = active_instance_name(sim)
    selection = {"name_globs": [name]}
    for _ in range(2):
        to_next_slot(sim)
        run(sim, selection=selection, policy_name="daily", retention={"keep_daily": 3})

    # A weekly policy that has never taken a snapshot is not fresh thanks to the dailies.
    report = run(
        sim,
        selection=selection,
        policy_name="weekly",
        cron="0 2 * * *",
        retention={"keep_weekly": 4},
        dry_run=True,
    )

    (line,) = report.instances
    assert line.freshness == "critical"
    assert line.newest_success_at is None


def test_a_slot_name_taken_by_a_snapshot_the_policy_did_not_make_is_a_failure(
    sim: SimHandle,
) -> None:
    slot = to_next_slot(sim).replace(minute=0)
    name = active_instance_name(sim)
    selection = {"name_globs": [name]}
    instance_id = run(sim, selection=selection, dry_run=True).instances[0].instance_id

    # A person (or an older tool) took the name this policy's snapshot would get.
    async def take_the_name() -> None:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            await client.snapshots.create(
                instance_id=instance_id,
                name=f"auto-{name}-{slot:%Y%m%d-%H%M}",
                description="made by hand",
            )

    asyncio.run(take_the_name())
    report = run(sim, selection=selection, retention={"keep_last": 3})

    (line,) = report.instances
    assert line.outcome is SnapshotStatusOutcome.FAILED
    assert "not made by policy nightly" in line.reason
    assert line.pruning_suspended is not None


def run_without_ticking(sim: SimHandle, **overrides: object) -> NightlyReport:
    """A run with the simulated clock standing still (nothing it waits for is pending)."""
    return asyncio.run(nightly_snapshots(params(sim, **overrides)))


def restore(sim: SimHandle, snapshot_id: str, name: str) -> str:
    async def start() -> str:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            return (await client.snapshots.restore(snapshot_id, name=name)).id

    return asyncio.run(start())


def instance_status(sim: SimHandle, instance_id: str) -> str:
    async def fetch() -> str:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            return str((await client.instances.get(instance_id)).status)

    return asyncio.run(fetch())


def test_a_snapshot_a_restore_is_reading_from_is_never_pruned(sim: SimHandle) -> None:
    name = active_instance_name(sim)
    selection = {"name_globs": [name]}
    for _ in range(3):
        to_next_slot(sim)
        last = run(sim, selection=selection, retention={"keep_last": 5})
    owned = sorted(
        (s for s in snapshots(sim) if name in s.name and is_owned_by(s.description, "nightly")),
        key=lambda s: s.created_at,
    )
    assert len(owned) >= 3
    source = owned[0]  # the oldest: keep_last=1 would delete it
    restored = restore(sim, source.id, f"{name}-r")
    assert instance_status(sim, restored) == "CREATING"

    # A rerun of the slot creates nothing, so the clock can stand still and the restore
    # stays CREATING while the plan is made and carried out.
    report = run_without_ticking(
        sim,
        selection=selection,
        retention={"keep_last": 1},
        max_deletions=1000,
        now=last.evaluated_at + timedelta(minutes=30),
    )

    assert instance_status(sim, restored) == "CREATING"
    assert source.id in {s.id for s in snapshots(sim)}, "the restore's snapshot was pruned"
    (held,) = [h for h in report.held if h.snapshot_id == source.id]
    assert held.reason == f"in use: instance {name}-r ({restored}) is CREATING from it"
    deleted = {d.snapshot_id for d in report.deletions if d.status is DeletionStatus.DELETED}
    assert deleted == {s.id for s in owned[1:-1]}, "the other old snapshots are pruned"
    sim.advance(3600)
    assert instance_status(sim, restored) == "ACTIVE"


def test_a_pinned_snapshot_outlives_its_policy_and_counts_for_freshness(sim: SimHandle) -> None:
    to_next_slot(sim)
    name = active_instance_name(sim)
    selection = {"name_globs": [name]}
    policy = {"selection": selection, "policy_name": "pinproof", "retention": {"keep_last": 1}}
    instance_id = run(sim, dry_run=True, **policy).instances[0].instance_id

    # A person pinned the policy's snapshot "before the upgrade" (made here by hand, as the
    # API has no way to edit a description).
    async def make_pinned() -> str:
        async with AsyncBarrack(api_key=sim.api_key, base_url=sim.base_url) as client:
            made = await client.snapshots.create(
                instance_id=instance_id,
                name=f"{name}-before-upgrade",
                description=ownership_description("pinproof", sim.now(), "before upgrade [keep]"),
            )
            return made.id

    pinned_id = asyncio.run(make_pinned())
    sim.advance(3600)

    # The only snapshot of the policy is the pinned one: it makes the instance fresh.
    (line,) = run(sim, dry_run=True, **policy).instances
    assert line.freshness == "ok"

    for _ in range(2):
        to_next_slot(sim)
        report = run(sim, max_deletions=1000, **policy)
        assert report.ok, report.markdown()
    assert pinned_id in {s.id for s in snapshots(sim)}, "keep_last=1 deleted a pinned one"
    (held,) = [h for h in report.held if h.snapshot_id == pinned_id]
    assert held.reason == "pinned ([keep])"
    assert "| held snapshot |" in report.markdown()
    # Two nightly snapshots exist by now; keep_last=1 deleted the older one.
    assert any(d.status is DeletionStatus.DELETED for d in report.deletions)
