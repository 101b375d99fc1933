"""The nightly-snapshots recipe: snapshot, wait, prune by policy, report.

Select the instances, take one snapshot per instance for this schedule slot (a rerun of
the slot takes none), wait until they are ready, plan retention with the pure planner,
delete only what the plan allows, judge freshness, then report (artifact, notifications).
The flow decides nothing about HTTP; every API call is a task.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

from prefect.logging import get_run_logger

from barrack import APIStatusError, BarrackError
from barrack.models import Snapshot, VMInstance, VMStatus
from flows.common.alerting import RECIPE_HOOKS, load_notifier, notify_report
from flows.common.concurrency import gather_bounded
from flows.common.guard import run_exclusive
from flows.common.params import recipe_flow
from flows.common.pricing import PriceIndex
from flows.common.publish import publish_report
from flows.common.runtime import current_flow_run_url, run_schedules, scheduled_start
from flows.common.selection import select_instances
from flows.nightly_snapshots.cost import retention_cost
from flows.nightly_snapshots.ownership import is_owned_by, ownership_description
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.records import (
    RetentionPlanning,
    newest_owned_ready,
    plan_retention,
    snapshots_in_use,
)
from flows.nightly_snapshots.report import (
    DeletionOutcome,
    DeletionStatus,
    InstanceOutcome,
    NightlyReport,
    SnapshotStatusOutcome,
    nightly_alerts,
)
from flows.nightly_snapshots.retention import (
    IN_USE_PREFIX,
    FleetPlan,
    RetentionAction,
    SnapshotRecord,
    suspension_text,
)
from flows.nightly_snapshots.schedule import cron_in_force, slot_for, snapshot_name
from notifications.text import describe_error
from tasks.account import get_balance, get_pricing
from tasks.images import snapshots_backing_images
from tasks.instances import list_instances
from tasks.snapshots import create_snapshot, delete_snapshot, list_snapshots, wait_for_snapshots

__all__ = ["nightly_snapshots", "run_nightly_snapshots"]


@recipe_flow(NightlySnapshotsParams, name="nightly-snapshots", log_prints=False, **RECIPE_HOOKS)
async def nightly_snapshots(params: NightlySnapshotsParams) -> NightlyReport:
    """Snapshot the selected instances for this schedule slot, then prune old snapshots.

    Safety: only snapshots carrying this policy's owner tag are ever deleted; an
    instance's newest ready snapshot never is; an instance whose snapshot failed tonight
    keeps all its old ones; snapshots backing a custom image are kept; above
    ``max_deletions`` nothing is deleted; ``dry_run`` changes nothing.

    The flow's parameters are the fields of :class:`NightlySnapshotsParams` (defaults:
    every instance, the ``standard`` preset); ``nightly_snapshots(dry_run=True)`` and
    ``nightly_snapshots(NightlySnapshotsParams(...))`` both run it.

    Returns:
        The run's report (also published as Prefect artifacts and notifications).
    """
    return await run_exclusive(
        "nightly-snapshots",
        params.policy_name,
        partial(run_nightly_snapshots, params),
        dry_run=params.dry_run,
    )


async def run_nightly_snapshots(params: NightlySnapshotsParams) -> NightlyReport:
    """The body of :func:`nightly_snapshots` (inside a flow run)."""
    logger = get_run_logger()
    in_force = cron_in_force(await run_schedules(), params.cron, params.timezone)
    logger.info("slots follow %s", in_force.source)
    params = params.model_copy(update={"cron": in_force.cron, "timezone": in_force.timezone})
    conn = params.connection
    policy = params.retention_policy()
    notifier = load_notifier() if params.notify else None
    now = params.evaluation_time(scheduled_start(), datetime.now(UTC))
    slot = slot_for(params.cron, params.timezone, now)
    report = NightlyReport(
        policy_name=params.policy_name,
        slot=slot,
        evaluated_at=now,
        dry_run=params.dry_run,
        retention=policy.describe(),
        selection=params.selection.describe(),
        flow_run_url=current_flow_run_url(),
    )

    # 1. Select.
    instances = await list_instances(conn)
    selected = select_instances(instances, params.selection)
    report.excluded = [f"{vm.name}: {why}" for vm, why in selected.excluded]
    snapshots = await list_snapshots(conn)
    outcomes = _plan_creation(selected.chosen, snapshots, params, slot)

    # 2. Create what this slot still lacks, the slowest first (see _longest_first).
    to_create = _longest_first(
        [o for o in outcomes.values() if o.outcome is SnapshotStatusOutcome.WOULD_CREATE],
        selected.chosen,
        snapshots,
    )
    if to_create and not params.dry_run:
        description = ownership_description(params.policy_name, slot)
        created = await gather_bounded(
            (
                (
                    o.instance_id,
                    partial(
                        create_snapshot,
                        conn,
                        instance_id=o.instance_id,
                        name=o.snapshot_name or "",
                        description=description,
                    ),
                )
                for o in to_create
            ),
            params.max_concurrency,
        )
        for instance_id, result in created.items():
            outcome = outcomes[instance_id]
            if isinstance(result, BaseException):
                outcome.outcome = SnapshotStatusOutcome.FAILED
                outcome.reason = f"create failed: {describe_error(result)}"
            else:
                outcome.outcome = SnapshotStatusOutcome.CREATED
                outcome.snapshot_id = result.id
                outcome.reason = "taken for this slot"

    # 3. Wait for this slot's snapshots to settle.
    pending = {
        o.snapshot_id: o
        for o in outcomes.values()
        if o.snapshot_id
        and o.outcome in (SnapshotStatusOutcome.CREATED, SnapshotStatusOutcome.EXISTS)
    }
    if pending:
        waited = await wait_for_snapshots(
            conn,
            list(pending),
            timeout_seconds=params.wait_timeout_minutes * 60,
            first_poll_seconds=params.poll_seconds,
            max_poll_seconds=params.max_poll_seconds,
        )
        for snapshot_id, outcome in pending.items():
            snap = waited.snapshots.get(snapshot_id)
            if snapshot_id in waited.missing or snap is None:
                outcome.outcome = SnapshotStatusOutcome.FAILED
                outcome.reason = "snapshot disappeared while being created"
            elif snap.status == "ERROR":
                outcome.outcome = SnapshotStatusOutcome.FAILED
                outcome.reason = "snapshot ended in ERROR"
            elif not snap.status.is_ready:
                outcome.outcome = SnapshotStatusOutcome.FAILED
                outcome.reason = (
                    f"still {snap.status} after {params.wait_timeout_minutes:g} minutes"
                )

    # 4. Judge freshness on a fresh listing, then plan retention and prune. Freshness
    # comes first because a critical instance keeps everything (see _suspensions).
    chosen_ids = {vm.id for vm in selected.chosen}
    current = [s for s in await list_snapshots(conn) if s.instance_id in chosen_ids]
    # Readers as the selection saw them; _prune looks again right before deleting, for
    # restores started while this run waited.
    planning = plan_retention(
        current,
        instances=instances,
        chosen={o.instance_id: o.instance_name for o in outcomes.values()},
        params=params,
        now=now,
        failed={
            o.instance_id: o.reason
            for o in outcomes.values()
            if o.outcome is SnapshotStatusOutcome.FAILED
        },
    )
    _record_freshness(planning, outcomes)
    plan = planning.plan
    report.blocked = plan.blocked
    report.held = [
        _deletion(d.snapshot, DeletionStatus.HELD, "; ".join(d.holds))
        for d in plan.keeps
        if d.holds
    ]
    await _prune(plan, params, report)

    # 5. Per-instance tallies. The newest ready snapshot is never deleted, so freshness
    # judged before pruning still holds after it.
    _tally(plan, current, report, outcomes)
    report.instances = sorted(outcomes.values(), key=lambda o: (o.region, o.instance_name))
    await _price_retention(params, report)

    # 6. Report.
    await notify_report(notifier, report, nightly_alerts(report), dry_run=params.dry_run)
    await publish_report(report)
    logger.info(report.summary_line())
    return report


async def _price_retention(params: NightlySnapshotsParams, report: NightlyReport) -> None:
    """Put what the kept snapshots cost in the report; a price-list failure costs only that."""
    try:
        balance, pricing = await asyncio.gather(
            get_balance(params.connection), get_pricing(params.connection)
        )
    except BarrackError as exc:
        report.cost_note = f"unknown (the price list could not be read: {exc})"
        return
    index = PriceIndex.from_pricing(str(balance.currency), pricing)
    cost = retention_cost(
        index, kept=sum(i.kept for i in report.instances), pruned=report.deleted_count()
    )
    if cost is None:
        report.cost_note = "unknown (the price list has no snapshot rate)"
    report.cost = cost


def _record_freshness(planning: RetentionPlanning, outcomes: dict[str, InstanceOutcome]) -> None:
    """Write each instance's freshness and pruning suspension on its report line.

    Suspended (see :func:`plan_retention`): an instance whose snapshot failed tonight,
    and one whose freshness is critical.
    """
    newest_ready = newest_owned_ready(planning.records)
    for outcome in outcomes.values():
        verdict = planning.verdicts[outcome.instance_id]
        outcome.freshness = verdict.level.value
        outcome.freshness_message = verdict.message
        outcome.newest_success_at = newest_ready.get(outcome.instance_id)
        why = planning.suspended.get(outcome.instance_id)
        outcome.pruning_suspended = suspension_text(why) if why is not None else None


def _plan_creation(
    chosen: tuple[VMInstance, ...],
    snapshots: list[Snapshot],
    params: NightlySnapshotsParams,
    slot: datetime,
) -> dict[str, InstanceOutcome]:
    by_name = {s.name: s for s in snapshots}
    outcomes: dict[str, InstanceOutcome] = {}
    for vm in chosen:
        name = snapshot_name(vm.name, slot, params.policy_name)
        outcome = InstanceOutcome(
            instance_id=vm.id,
            instance_name=vm.name,
            region=str(vm.region),
            status=str(vm.status),
            outcome=SnapshotStatusOutcome.WOULD_CREATE,
            snapshot_name=name,
        )
        existing = by_name.get(name)
        if existing is not None and existing.instance_id != vm.id:
            outcome.outcome = SnapshotStatusOutcome.FAILED
            outcome.reason = f"name {name} is taken by a snapshot of {existing.instance_id}"
        elif existing is not None and not is_owned_by(existing.description, params.policy_name):
            # Adopting it would count another policy's (or a person's) snapshot as ours:
            # this policy would own nothing and still look fresh.
            outcome.outcome = SnapshotStatusOutcome.FAILED
            outcome.reason = (
                f"name {name} is taken by a snapshot not made by policy {params.policy_name}"
            )
        elif existing is not None:
            outcome.outcome = SnapshotStatusOutcome.EXISTS
            outcome.snapshot_id = existing.id
            outcome.reason = "already taken for this slot"
        elif vm.status != VMStatus.ACTIVE:
            outcome.outcome = SnapshotStatusOutcome.SKIPPED
            outcome.snapshot_name = None
            outcome.reason = f"not ACTIVE ({vm.status}): only ACTIVE instances can be snapshotted"
        else:
            outcome.reason = "dry run: would be taken" if params.dry_run else "to take"
        outcomes[vm.id] = outcome
    return outcomes


def _longest_first(
    to_create: list[InstanceOutcome],
    instances: tuple[VMInstance, ...],
    snapshots: list[Snapshot],
) -> list[InstanceOutcome]:
    """Order the creations so the snapshots that take longest start first.

    A snapshot takes time in proportion to its stored size, and the run waits for the
    last one to settle; started last, a big one would keep the whole fleet waiting after
    the final create. The expected size is the instance's newest earlier snapshot's, else
    its disk size (measured at 1,000 instances: the gap between the last create and the
    first delete went from 23.6 s to 8.5 s; see docs/performance.md).
    """
    previous: dict[str, Snapshot] = {}
    for snap in snapshots:
        if snap.instance_id and snap.size_gb is not None:
            known = previous.get(snap.instance_id)
            if known is None or snap.created_at > known.created_at:
                previous[snap.instance_id] = snap
    disks = {vm.id: vm.flavor.disk_gb for vm in instances}

    def expected_gb(outcome: InstanceOutcome) -> int:
        snap = previous.get(outcome.instance_id)
        if snap is not None and snap.size_gb is not None:
            return snap.size_gb
        return disks.get(outcome.instance_id, 0)

    return sorted(to_create, key=expected_gb, reverse=True)


async def _prune(plan: FleetPlan, params: NightlySnapshotsParams, report: NightlyReport) -> None:
    """Delete what the plan allows; record every planned deletion's fate."""
    candidates = plan.deletions
    if plan.blocked:
        for decision in plan.keeps:
            if any(r.startswith("blocked") for r in decision.reasons):
                report.deletions.append(
                    _deletion(decision.snapshot, DeletionStatus.BLOCKED, plan.blocked)
                )
    if not candidates:
        return
    if params.dry_run:
        for decision in candidates:
            report.deletions.append(
                _deletion(decision.snapshot, DeletionStatus.WOULD_DELETE, decision.reason)
            )
        return
    # Re-check image backing and readers right before deleting: an image may have been
    # made, or a restore started, since the plan was made.
    backing = await snapshots_backing_images(params.connection, [d.snapshot.id for d in candidates])
    in_use = snapshots_in_use(await list_instances(params.connection))
    jobs = []
    for decision in candidates:
        reader = in_use.get(decision.snapshot.id)
        if reader is not None:
            report.held.append(
                _deletion(decision.snapshot, DeletionStatus.HELD, f"{IN_USE_PREFIX}{reader}")
            )
            continue
        if decision.snapshot.id in backing:
            report.deletions.append(
                _deletion(decision.snapshot, DeletionStatus.REFUSED, "now backs a custom image")
            )
            continue
        jobs.append(
            (
                decision.snapshot.id,
                partial(delete_snapshot, params.connection, decision.snapshot.id),
            )
        )
    results = await gather_bounded(jobs, params.max_concurrency)
    by_id = {d.snapshot.id: d for d in candidates}
    for snapshot_id, result in results.items():
        decision = by_id[snapshot_id]
        if isinstance(result, BaseException):
            status = (
                DeletionStatus.REFUSED
                if isinstance(result, APIStatusError) and result.status == 409
                else DeletionStatus.FAILED
            )
            report.deletions.append(_deletion(decision.snapshot, status, describe_error(result)))
        else:
            status = DeletionStatus.DELETED if result == "deleted" else DeletionStatus.ALREADY_GONE
            report.deletions.append(_deletion(decision.snapshot, status, decision.reason))


def _deletion(record: SnapshotRecord, status: DeletionStatus, reason: str) -> DeletionOutcome:
    return DeletionOutcome(
        snapshot_id=record.id,
        snapshot_name=record.name,
        instance_id=record.instance_id,
        instance_name=record.instance_name,
        region=record.region,
        created_at=record.created_at,
        status=status,
        reason=reason,
    )


def _tally(
    plan: FleetPlan,
    current: list[Snapshot],
    report: NightlyReport,
    outcomes: dict[str, InstanceOutcome],
) -> None:
    gone = {
        d.snapshot_id: d.status
        for d in report.deletions
        if d.status in (DeletionStatus.DELETED, DeletionStatus.ALREADY_GONE)
    }
    for instance_plan in plan.instances:
        outcome = outcomes.get(instance_plan.instance_id)
        if outcome is None:
            continue
        outcome.deleted = sum(
            d.snapshot.id in gone
            for d in instance_plan.decisions
            if d.action is RetentionAction.DELETE
        )
        outcome.kept = len(instance_plan.decisions) - outcome.deleted
