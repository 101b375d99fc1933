"""The naive nightly baseline: what a first attempt at the recipe would look like.

Sequential calls, one Prefect task each: list instances and snapshots, create a snapshot
of each ``ACTIVE`` instance one after another, poll by one GET per pending snapshot per
round, list again, plan with the product's own retention planner (so both runs delete the
same snapshots), then delete one after another. No client-side rate limiter: a 429 is met
by the client's retries. It exists only to be compared with; it is not a mode of the
product flow.
"""

from __future__ import annotations

from datetime import datetime

import anyio
from prefect import flow, task
from pydantic import Field

from barrack.models import RequestModel, Snapshot, VMStatus
from flows.nightly_snapshots.ownership import is_owned_by, ownership_description
from flows.nightly_snapshots.retention import (
    RetentionAction,
    RetentionPolicy,
    SnapshotRecord,
    plan_fleet,
)
from flows.nightly_snapshots.schedule import slot_for, snapshot_name
from tasks._options import API_TASK
from tasks.connection import BarrackConnection, borrow_client
from tasks.instances import list_instances
from tasks.snapshots import create_snapshot, delete_snapshot, list_snapshots

__all__ = ["NaiveParams", "NaiveReport", "naive_nightly"]


class NaiveParams(RequestModel):
    """The baseline's parameters (the benchmark sets every one)."""

    connection: BarrackConnection
    now: datetime
    cron: str
    retention: RetentionPolicy
    policy_name: str = "nightly"
    poll_seconds: float = Field(default=10, gt=0)


class NaiveReport(RequestModel):
    """What the baseline did, in counts."""

    created: int = 0
    failed: int = 0
    deleted: int = 0
    polls: int = 0

    @property
    def ok(self) -> bool:
        """No snapshot failed."""
        return self.failed == 0

    def summary_line(self) -> str:
        """One line for the benchmark's log."""
        return (
            f"naive: {self.created} created, {self.failed} failed, {self.deleted} deleted, "
            f"{self.polls} poll rounds"
        )


@task(name="get-snapshot", task_run_name="get-snapshot-{snapshot_id}", **API_TASK)
async def get_snapshot(connection: BarrackConnection, snapshot_id: str) -> Snapshot:
    """One snapshot's state (the baseline polls with it)."""
    client = await borrow_client(connection)
    return await client.snapshots.get(snapshot_id)


@flow(name="naive-nightly-snapshots", log_prints=False)
async def naive_nightly(params: NaiveParams) -> NaiveReport:
    """Snapshot every ACTIVE instance and prune, one call at a time."""
    conn = params.connection
    report = NaiveReport()
    slot = slot_for(params.cron, "UTC", params.now)
    description = ownership_description(params.policy_name, slot)
    instances = await list_instances(conn)
    await list_snapshots(conn)  # a first look, as the product flow takes one
    pending: dict[str, str] = {}
    for vm in instances:
        if vm.status != VMStatus.ACTIVE:
            continue
        try:
            snap = await create_snapshot(
                conn,
                instance_id=vm.id,
                name=snapshot_name(vm.name, slot),
                description=description,
            )
        except Exception:  # the baseline counts failures; the product reports each one
            report.failed += 1
            continue
        pending[snap.id] = vm.id
        report.created += 1
    failed_instances: set[str] = set()
    while pending:
        report.polls += 1
        for snapshot_id in list(pending):
            snap = await get_snapshot(conn, snapshot_id)
            if snap.status == "SUCCESS":
                del pending[snapshot_id]
            elif snap.status == "ERROR":
                failed_instances.add(pending.pop(snapshot_id))
        if pending:
            await anyio.sleep(params.poll_seconds)
    report.failed += len(failed_instances)
    current = await list_snapshots(conn)
    names = {vm.id: vm.name for vm in instances}
    records = [
        SnapshotRecord(
            id=s.id,
            name=s.name,
            instance_id=s.instance_id or "",
            instance_name=names.get(s.instance_id or "", ""),
            region=str(s.region),
            status=str(s.status),
            created_at=s.created_at,
            owned=is_owned_by(s.description, params.policy_name),
            backs_image=s.has_image,
        )
        for s in current
    ]
    plan = plan_fleet(
        records,
        params.retention,
        max_deletions=len(records),
        suspended={i: "snapshot failed" for i in failed_instances},
    )
    for instance_plan in plan.instances:
        for decision in instance_plan.decisions:
            if decision.action is RetentionAction.DELETE:
                await delete_snapshot(conn, decision.snapshot.id)
                report.deleted += 1
    return report
