"""Carrying out the protective plan: read again, snapshot where data is at risk, hibernate.

Every step ends with an outcome (done, skipped or failed, with the reason) in the run's
:class:`~flows.low_balance.report.ProtectionReport`; every API call is a task.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from barrack.models import Snapshot, VMInstance, VMStatus
from flows.common.concurrency import gather_bounded
from flows.low_balance.params import LowBalanceParams
from flows.low_balance.protection import ProtectionPlan, ProtectiveAction
from flows.low_balance.report import ProtectionOutcome, ProtectionReport, ProtectionStatus
from notifications.text import describe_error
from tasks.instances import get_instance, hibernate_instance, stop_instance
from tasks.snapshots import create_snapshot, wait_for_snapshots

__all__ = ["carry_out", "protection_report"]


def protection_report(
    plan: ProtectionPlan, params: LowBalanceParams, *, confirmed: bool = True
) -> ProtectionReport:
    """The plan as the report shows it before anything is done (planned, held, would act).

    ``confirmed`` is the second look (:mod:`flows.low_balance.evidence`): without it an
    enabled plan is held, not carried out.
    """
    enabled = params.protection.enabled
    if not enabled:
        status, prefix = ProtectionStatus.PLANNED, "protection off"
    elif not confirmed:
        status, prefix = ProtectionStatus.HELD, "held until a second run confirms the runway"
    elif params.dry_run:
        status, prefix = ProtectionStatus.WOULD_ACT, "dry run"
    else:
        status, prefix = ProtectionStatus.WOULD_ACT, "to do"
    return ProtectionReport(
        enabled=enabled,
        triggered=plan.triggered,
        note=plan.note,
        target_hours=plan.target_hours,
        runway_after_hours=plan.runway_after_hours,
        burn_after_per_hour=plan.burn_after,
        steps=[
            ProtectionOutcome(
                instance_id=step.instance_id,
                instance_name=step.instance_name,
                region=step.region,
                action=step.action.value,
                saving_per_hour=step.saving_per_hour,
                snapshot_first=step.snapshot_first,
                status=status,
                reason=f"{prefix}: {step.reason}",
            )
            for step in plan.steps
        ],
        passed=[f"{p.instance_name}: {p.reason}" for p in plan.passed],
    )


async def carry_out(
    plan: ProtectionPlan, params: LowBalanceParams, protection: ProtectionReport, now: datetime
) -> None:
    """Snapshot where needed, wait, then hibernate (or stop); every step gets an outcome.

    Each instance is read again first and left alone unless still ACTIVE; an instance
    whose snapshot fails or is not ready in time is not hibernated; one failure never
    stops the others.
    """
    conn = params.connection
    outcomes = {o.instance_id: o for o in protection.steps}
    steps = {s.instance_id: s for s in plan.steps}

    # Re-read each instance right before acting: the plan is minutes old at most, but a
    # person (or another recipe) may have acted meanwhile.
    fresh = await gather_bounded(((i, _reader(params, i)) for i in steps), params.max_concurrency)
    ready: list[str] = []
    for instance_id, result in fresh.items():
        outcome = outcomes[instance_id]
        if isinstance(result, BaseException):
            _settle(outcome, ProtectionStatus.FAILED, f"cannot read it: {describe_error(result)}")
        elif result.status != VMStatus.ACTIVE:
            _settle(outcome, ProtectionStatus.SKIPPED, f"now {result.status}: left alone")
        else:
            ready.append(instance_id)

    # Snapshots first where the data would otherwise be at risk.
    need = [i for i in ready if steps[i].snapshot_first]
    created = await gather_bounded(
        ((i, _snapshotter(params, i, steps[i].instance_name, now)) for i in need),
        params.max_concurrency,
    )
    pending: dict[str, str] = {}
    for instance_id, snap_result in created.items():
        outcome = outcomes[instance_id]
        if isinstance(snap_result, BaseException):
            _settle(
                outcome,
                ProtectionStatus.FAILED,
                f"snapshot failed ({describe_error(snap_result)}); not hibernated, so it can still "
                "be snapshotted",
            )
            ready.remove(instance_id)
        else:
            outcome.snapshot_id = snap_result.id
            pending[snap_result.id] = instance_id
    if pending:
        waited = await wait_for_snapshots(
            conn,
            list(pending),
            timeout_seconds=params.protection.snapshot_wait_minutes * 60,
            first_poll_seconds=params.poll_seconds,
            max_poll_seconds=params.max_poll_seconds,
        )
        for snapshot_id, instance_id in pending.items():
            snap = waited.snapshots.get(snapshot_id)
            if snap is None or not snap.status.is_ready:
                state = "disappeared" if snap is None else f"is {snap.status}"
                _settle(
                    outcomes[instance_id],
                    ProtectionStatus.FAILED,
                    f"snapshot {snapshot_id} {state}; not hibernated, so it can still be "
                    "snapshotted",
                )
                ready.remove(instance_id)

    # Act.
    results = await gather_bounded(
        ((i, _actor(params, i, steps[i].action)) for i in ready), params.max_concurrency
    )
    for instance_id, act_result in results.items():
        outcome = outcomes[instance_id]
        if isinstance(act_result, BaseException):
            failure = f"{outcome.action} failed: {describe_error(act_result)}"
            _settle(outcome, ProtectionStatus.FAILED, failure)
        else:
            done = f"now {act_result.status}; {steps[instance_id].reason}"
            _settle(outcome, ProtectionStatus.DONE, done)


def _settle(outcome: ProtectionOutcome, status: ProtectionStatus, reason: str) -> None:
    outcome.status = status
    outcome.reason = reason


def _reader(params: LowBalanceParams, instance_id: str) -> Callable[[], Awaitable[VMInstance]]:
    async def read() -> VMInstance:
        return await get_instance(params.connection, instance_id)

    return read


def _snapshotter(
    params: LowBalanceParams, instance_id: str, instance_name: str, now: datetime
) -> Callable[[], Awaitable[Snapshot]]:
    # Deterministic per instance and minute: a retried run adopts its own snapshot.
    name = f"lb-{instance_name}-{now:%Y%m%d%H%M}"

    async def make() -> Snapshot:
        return await create_snapshot(
            params.connection,
            instance_id=instance_id,
            name=name,
            description="barrack-ops low-balance: taken before hibernating at critical runway",
        )

    return make


def _actor(
    params: LowBalanceParams, instance_id: str, action: ProtectiveAction
) -> Callable[[], Awaitable[VMInstance]]:
    async def act() -> VMInstance:
        if action is ProtectiveAction.HIBERNATE:
            return await hibernate_instance(params.connection, instance_id)
        return await stop_instance(params.connection, instance_id)

    return act
