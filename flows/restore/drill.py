"""The restore-drill recipe: prove, every week, that each protected machine comes back.

For each selected instance in turn (one at a time, so a drill never holds more than one
extra machine), take its newest ``SUCCESS`` snapshot, restore it, wait for ``ACTIVE``
with an IP, verify over SSH when asked, record the timings, then delete the restored
instance. A failed drill is a critical alert; the history table artifact keeps the
restore times per instance, run after run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Final

from prefect.logging import get_run_logger

from barrack import BarrackError
from barrack.models import BootSource, Snapshot, VMInstance
from flows.common.alerting import RECIPE_HOOKS, load_notifier, notify_report
from flows.common.guard import run_exclusive
from flows.common.params import recipe_flow
from flows.common.publish import publish_report
from flows.common.runtime import current_flow_run_url, scheduled_start
from flows.common.selection import select_instances
from flows.restore.drill_report import DrillReport, drill_alerts
from flows.restore.execute import (
    CarryOutOptions,
    carry_out,
    fill_source,
    read_facts,
    run_scope,
)
from flows.restore.params import RestoreDrillParams
from flows.restore.plan import plan_restore
from flows.restore.report import RestoreOutcome, RestoreReport
from flows.restore.source import describe_unready, newest_ready_snapshot, snapshots_of
from notifications.text import describe_error
from tasks.instances import list_instances
from tasks.snapshots import list_snapshots

__all__ = [
    "NOT_DRILLABLE",
    "drill_order",
    "is_drill_instance",
    "restore_drill",
    "run_restore_drill",
    "split_drillable",
]

_DRILL_NAME: Final = re.compile(r".+-drill-\d{4}")
NOT_DRILLABLE: Final = "not drillable: no ready snapshot"


def is_drill_instance(instance: VMInstance) -> bool:
    """True for a drill's own restored instance (left over if a drill was interrupted)."""
    return bool(_DRILL_NAME.fullmatch(instance.name)) and (
        instance.boot_source == BootSource.SNAPSHOT or instance.snapshot_id is not None
    )


def split_drillable(
    chosen: Sequence[VMInstance], snapshots: Sequence[Snapshot]
) -> tuple[list[VMInstance], list[VMInstance]]:
    """The instances with a ready snapshot to drill, and those with none.

    An instance with nothing to restore (a copy restored a minute ago, a machine whose
    snapshots all failed) is left out and listed as not drillable: a drill cannot fail
    for it, and counting it as failed would raise a critical alert about nothing. The
    nightly recipe's freshness alert is what speaks for a machine without snapshots.
    """
    drillable: list[VMInstance] = []
    undrillable: list[VMInstance] = []
    for vm in chosen:
        has_ready = newest_ready_snapshot(snapshots_of(snapshots, instance_id=vm.id)) is not None
        (drillable if has_ready else undrillable).append(vm)
    return drillable, undrillable


def drill_order(
    chosen: Sequence[VMInstance], limit: int, when: datetime
) -> tuple[list[VMInstance], list[VMInstance]]:
    """The instances to drill this run, and those left for later.

    With more instances than ``limit``, a window of ``limit`` moves on by ``limit``
    every ISO week, so each instance is drilled within ``ceil(n / limit)`` weeks.
    """
    ordered = list(chosen)
    if len(ordered) <= limit:
        return ordered, []
    week = when.isocalendar().year * 53 + when.isocalendar().week
    start = (week * limit) % len(ordered)
    rotated = ordered[start:] + ordered[:start]
    return rotated[:limit], rotated[limit:]


@recipe_flow(RestoreDrillParams, name="restore-drill", log_prints=False, **RECIPE_HOOKS)
async def restore_drill(params: RestoreDrillParams) -> DrillReport:
    """Restore each protected instance's newest snapshot in turn, verify it, then delete it.

    Safety: drills run one at a time; every drill instance is deleted at the end, even
    when the drill failed (a clean-up that fails is itself a failed drill); a rerun on
    the same day adopts a leftover drill instance rather than making another;
    ``dry_run`` changes nothing.

    The flow's parameters are the fields of :class:`RestoreDrillParams`: which
    instances, where to restore, waits and verification.

    Returns:
        The run's report (also published as Prefect artifacts and notifications).
    """
    return await run_exclusive(
        "restore-drill", "drill", partial(run_restore_drill, params), dry_run=params.dry_run
    )


async def run_restore_drill(params: RestoreDrillParams) -> DrillReport:
    """The body of :func:`restore_drill` (inside a flow run)."""
    logger = get_run_logger()
    conn = params.connection
    notifier = load_notifier() if params.notify else None
    now = params.evaluation_time(scheduled_start(), datetime.now(UTC))
    report = DrillReport(
        evaluated_at=now,
        dry_run=params.dry_run,
        selection=params.selection.describe(),
        targets=params.targets,
        flow_run_url=current_flow_run_url(),
    )
    instances = await list_instances(conn)
    candidates = [vm for vm in instances if not is_drill_instance(vm)]
    report.excluded = [
        f"{vm.name}: a drill's own instance" for vm in instances if is_drill_instance(vm)
    ]
    selected = select_instances(candidates, params.selection)
    report.excluded += [f"{vm.name}: {why}" for vm, why in selected.excluded]
    snapshots = await list_snapshots(conn)
    drillable, undrillable = split_drillable(selected.chosen, snapshots)
    report.excluded += [f"{vm.name}: {NOT_DRILLABLE}" for vm in undrillable]
    to_drill, deferred = drill_order(drillable, params.max_drills, now)
    report.deferred = [vm.name for vm in deferred]
    execution = CarryOutOptions(settings=params, drill=True, delete_failed=True, scope=run_scope())
    for vm in to_drill:
        try:
            drill = await _drill_one(vm, snapshots, params, execution, now)
        except BarrackError as exc:
            # One instance's failure is its outcome, never the whole run's.
            drill = _unreadable(vm, params, now, exc)
        logger.info(drill.summary_line())
        report.drills.append(drill)
    await notify_report(notifier, report, drill_alerts(report), dry_run=params.dry_run)
    await publish_report(report)
    logger.info(report.summary_line())
    return report


def _unreadable(
    vm: VMInstance, params: RestoreDrillParams, now: datetime, error: BarrackError
) -> RestoreReport:
    return RestoreReport(
        mode="drill",
        requested=f"newest SUCCESS snapshot of {vm.name}",
        dry_run=params.dry_run,
        evaluated_at=now,
        targets=params.targets,
        source_instance_id=vm.id,
        source_instance_name=vm.name,
        source_region=str(vm.region),
        outcome=RestoreOutcome.FAILED,
        reason=f"Barrack API error: {describe_error(error)}",
        flow_run_url=current_flow_run_url(),
    )


async def _drill_one(
    vm: VMInstance,
    snapshots: Sequence[Snapshot],
    params: RestoreDrillParams,
    execution: CarryOutOptions,
    now: datetime,
) -> RestoreReport:
    drill = RestoreReport(
        mode="drill",
        requested=f"newest SUCCESS snapshot of {vm.name}",
        dry_run=params.dry_run,
        evaluated_at=now,
        targets=params.targets,
        source_instance_id=vm.id,
        source_instance_name=vm.name,
        source_region=str(vm.region),
        flow_run_url=current_flow_run_url(),
    )
    own = snapshots_of(snapshots, instance_id=vm.id)
    snapshot = newest_ready_snapshot(own)
    if snapshot is None:
        drill.outcome = RestoreOutcome.BLOCKED
        drill.reason = describe_unready(own, vm.name) + ": nothing to restore"
        return drill
    fill_source(drill, snapshot)
    drill.source_instance_name = vm.name
    # Fresh facts for every drill: the previous one took and gave back GPUs and credit.
    facts = await read_facts(params.connection, drill.gpu_model)
    plan = plan_restore(
        snapshot=snapshot,
        facts=facts,
        targets=params.targets,
        exclude_source_region=params.exclude_source_region,
        drill_day=now,
        min_runway_hours=params.min_runway_hours,
    )
    await carry_out(snapshot, plan, execution, drill)
    return drill
