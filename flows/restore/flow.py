"""The restore-to-region recipe: bring a machine back from a snapshot, wherever it fits.

Resolve the source snapshot, read regions, stock, prices, balance and instances once,
plan with the pure planner (every candidate region with a reason), then act: restore,
fall through to the next region on a refusal about the region, wait for ``ACTIVE`` with
an IP, verify over SSH when asked, delete a failed instance, report (artifacts,
notifications). With ``drill: true`` the restored instance is deleted at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial

from prefect.logging import get_run_logger

from barrack import BarrackError, NotFoundError
from barrack.models import Snapshot, VMInstance, VMStatus
from flows.common.alerting import RECIPE_HOOKS, load_notifier, notify_report
from flows.common.guard import run_exclusive
from flows.common.params import recipe_flow
from flows.common.publish import publish_report
from flows.common.runtime import current_flow_run_url, scheduled_start
from flows.restore.drill_report import DrillReport, drill_alerts
from flows.restore.execute import (
    CarryOutOptions,
    carry_out,
    fill_source,
    read_facts,
    run_scope,
)
from flows.restore.params import RestoreParams
from flows.restore.plan import plan_restore
from flows.restore.report import RestoreOutcome, RestoreReport, restore_alerts
from flows.restore.source import describe_unready, newest_ready_snapshot, snapshots_of
from notifications import Alert, AlertKey
from notifications.text import describe_error
from tasks.instances import list_instances
from tasks.restore import get_snapshot
from tasks.snapshots import list_snapshots

__all__ = ["resolve_source", "restore_to_region", "run_restore_to_region"]


@recipe_flow(RestoreParams, name="restore-to-region", log_prints=False, **RECIPE_HOOKS)
async def restore_to_region(params: RestoreParams) -> RestoreReport:
    """Restore a snapshot (or an instance's newest ready one) into the best region for it.

    Safety: nothing is created when a check fails (snapshot status, balance, name); a
    retried run adopts the instance an earlier attempt made instead of making a second;
    an instance whose restore ends in ERROR or times out is deleted (``delete_failed``);
    ``dry_run`` changes nothing.

    The flow's parameters are the fields of :class:`RestoreParams`: the source (a
    ``snapshot_id`` or an ``instance_name``), the targets, the name, timeouts and
    verification.

    Returns:
        The run's report (also published as Prefect artifacts and notifications).
    """
    return await run_exclusive(
        "restore-to-region",
        params.describe_source(),
        partial(run_restore_to_region, params),
        dry_run=params.dry_run,
    )


async def resolve_source(
    params: RestoreParams, instances: Sequence[VMInstance] | None = None
) -> tuple[Snapshot | None, str]:
    """The snapshot to restore, or None and why there is none.

    By name, a live instance of that name is looked up in ``instances`` (listed when not
    given) and only its own snapshots are listed (one page, not the whole account's: 280
    pages at 5,000 instances). Its newest ready one is the newest of the name: a name is
    unique among live instances, so snapshots recording it from an earlier holder
    predate this instance. The whole listing is read only when the instance is gone or
    has no ready snapshot.
    """
    conn = params.connection
    if params.snapshot_id is not None:
        try:
            return await get_snapshot(conn, params.snapshot_id), ""
        except NotFoundError as exc:
            return None, f"snapshot {params.snapshot_id} not found ({describe_error(exc)})"
    name = params.instance_name or ""
    if instances is None:
        instances = await list_instances(conn)
    live = [vm for vm in instances if vm.name == name and vm.status != VMStatus.DELETED]
    if live:
        own = await list_snapshots(conn, instance_id=live[0].id)
        newest = newest_ready_snapshot(own)
        if newest is not None:
            return newest, ""
    snapshots = snapshots_of(await list_snapshots(conn), instance_name=name, instances=instances)
    newest = newest_ready_snapshot(snapshots)
    if newest is None:
        return None, describe_unready(snapshots, name)
    return newest, ""


async def run_restore_to_region(params: RestoreParams) -> RestoreReport:
    """The body of :func:`restore_to_region` (inside a flow run)."""
    logger = get_run_logger()
    notifier = load_notifier() if params.notify else None
    now = params.evaluation_time(scheduled_start(), datetime.now(UTC))
    report = RestoreReport(
        mode="drill" if params.drill else "restore",
        requested=params.describe_source(),
        dry_run=params.dry_run,
        evaluated_at=now,
        targets=params.targets,
        flow_run_url=current_flow_run_url(),
    )
    try:
        await _restore(params, report, now)
    except BarrackError as exc:
        # Reading the source or the facts failed after the retries: report it (and alert)
        # rather than end the run without a word. Nothing was created before this point
        # unless the report's attempts say so.
        report.outcome = RestoreOutcome.FAILED
        report.reason = f"Barrack API error: {describe_error(exc)}"
    await notify_report(notifier, report, _alerts(report), dry_run=params.dry_run)
    await publish_report(report)
    logger.info(report.summary_line())
    return report


async def _restore(params: RestoreParams, report: RestoreReport, now: datetime) -> None:
    # One instance listing serves the source and the facts (names, quota).
    instances = None if params.snapshot_id is not None else await list_instances(params.connection)
    snapshot, problem = await resolve_source(params, instances)
    if snapshot is None:
        report.outcome = RestoreOutcome.BLOCKED
        report.reason = problem
        return
    fill_source(report, snapshot)
    facts = await read_facts(params.connection, report.gpu_model, instances=instances)
    plan = plan_restore(
        snapshot=snapshot,
        facts=facts,
        targets=params.targets,
        exclude_source_region=params.exclude_source_region,
        name=params.name,
        drill_day=now if params.drill else None,
        min_runway_hours=params.min_runway_hours,
    )
    execution = CarryOutOptions(
        settings=params, drill=params.drill, delete_failed=params.delete_failed, scope=run_scope()
    )
    await carry_out(snapshot, plan, execution, report)


def _alerts(report: RestoreReport) -> tuple[list[Alert], list[AlertKey]]:
    if report.mode == "drill":
        return drill_alerts(
            DrillReport(
                evaluated_at=report.evaluated_at,
                dry_run=report.dry_run,
                drills=[report],
                flow_run_url=report.flow_run_url,
            )
        )
    return restore_alerts(report)
