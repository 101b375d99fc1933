"""Carry out one restore plan: restore, fall through, wait, verify, clean up, time it.

Shared by the ``restore-to-region`` and ``restore-drill`` flows. Every API call is a task;
this module only decides what to do with their answers and writes the report.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from prefect.logging import get_run_logger

from barrack import (
    BarrackError,
    Layer2ValidationError,
    NotFoundError,
    OutOfStockError,
    RegionIncompatibleError,
    SnapshotDeletedError,
)
from barrack.models import Snapshot, VMInstance
from flows.common.pricing import PriceIndex
from flows.restore.candidates import Candidate, CandidateVerdict
from flows.restore.params import RestoreSettings, SSHVerification
from flows.restore.plan import Facts, RestorePlan
from flows.restore.report import Attempt, RestoreOutcome, RestoreReport
from notifications.text import describe_error
from tasks.account import get_balance, get_pricing, list_gpu_stock, list_regions
from tasks.connection import BarrackConnection
from tasks.fleet import list_volumes
from tasks.instances import list_instances
from tasks.restore import (
    ReadyOutcome,
    ReadyWait,
    delete_restored_instance,
    get_snapshot,
    restore_snapshot,
    wait_for_instance_ready,
)
from tasks.snapshots import list_snapshots
from tasks.ssh_verify import verify_over_ssh

__all__ = [
    "FALL_THROUGH_ERRORS",
    "CarryOutOptions",
    "carry_out",
    "fill_source",
    "idempotency_key",
    "read_facts",
    "run_scope",
]

FALL_THROUGH_ERRORS = (OutOfStockError, RegionIncompatibleError, Layer2ValidationError)
"""Refusals about the target region: the next candidate may still take the restore."""


@dataclass(frozen=True, slots=True)
class CarryOutOptions:
    """How a plan is carried out (built from either recipe's parameters).

    Attributes:
        settings: the shared parameters (connection, waits, verification, dry run).
        drill: delete the restored instance at the end, whatever happened.
        delete_failed: delete an instance whose restore ended in ERROR or timed out.
        scope: identifies this request across retries of the same flow run (the flow
            run id); part of every ``Idempotency-Key``.
    """

    settings: RestoreSettings
    drill: bool
    delete_failed: bool
    scope: str

    @property
    def connection(self) -> BarrackConnection:
        """How to reach Barrack."""
        return self.settings.connection


def run_scope() -> str:
    """The id of the current flow run (kept across its retries), or a fresh one outside."""
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4())


def idempotency_key(scope: str, snapshot_id: str, region: str, name: str) -> str:
    """The ``Idempotency-Key`` of one restore request: the same for every retry of it.

    The flow run is part of it: the API replays refusals too (for 24 h), so a new run
    after, say, ``OUT_OF_STOCK`` must not get the old refusal back. A new run is kept
    from duplicating an earlier run's instance by the name instead.
    """
    digest = hashlib.sha256(f"{scope}|{snapshot_id}|{region}|{name}".encode()).hexdigest()
    return f"restore-{digest[:40]}"


async def read_facts(
    connection: BarrackConnection,
    gpu_model: str | None,
    *,
    instances: Sequence[VMInstance] | None = None,
) -> Facts:
    """Read regions, stock, prices, balance, instances, volumes and snapshots at once.

    Volumes and snapshots are read so the runway the restore guard warns on is the
    low-balance alert's (the same fleet model), not an instances-only guess.

    ``instances`` is a listing the caller has just read; given, it is used as is.
    """
    del gpu_model  # the price list is small and one shape: read it whole
    # Two gathers in one: typeshed types a gather of at most six awaitables.
    (regions, stock, pricing, balance, listed), (volumes, snapshots) = await asyncio.gather(
        asyncio.gather(
            list_regions(connection),
            list_gpu_stock(connection),
            get_pricing(connection),
            get_balance(connection),
            _listing(connection, instances),
        ),
        asyncio.gather(list_volumes(connection), list_snapshots(connection)),
    )
    prices = PriceIndex.from_pricing(str(balance.currency), pricing)
    return Facts(
        regions=regions,
        stock=stock,
        prices=prices,
        balance=balance,
        instances=listed,
        volumes=volumes,
        snapshots=snapshots,
    )


async def _listing(
    connection: BarrackConnection, instances: Sequence[VMInstance] | None
) -> list[VMInstance]:
    if instances is not None:
        return list(instances)
    return await list_instances(connection)


def fill_source(report: RestoreReport, snapshot: Snapshot) -> None:
    """Copy what the report says about the source from the snapshot."""
    report.snapshot_id = snapshot.id
    report.snapshot_name = snapshot.name
    report.snapshot_created_at = snapshot.created_at
    report.source_instance_id = snapshot.instance_id
    report.source_instance_name = snapshot.instance_name
    report.source_region = str(snapshot.region)
    if snapshot.flavor is not None:
        report.gpu_model = str(snapshot.flavor.gpu_model)
        report.gpu_count = int(snapshot.flavor.gpu_count)


def _choose(report: RestoreReport, candidate: Candidate, plan: RestorePlan) -> None:
    report.chosen_region = candidate.region
    refused = [a.region for a in report.attempts if a.result == "refused"]
    reason = candidate.reason or "an earlier attempt of this request restored it there"
    if refused:
        reason += f"; after {', '.join(refused)} refused"
    report.chosen_reason = reason
    report.instance_name = candidate.name
    report.hourly_price = candidate.hourly_price
    report.currency = candidate.currency or report.currency
    report.runway_hours = candidate.runway_hours
    warning = plan.runway_warning(candidate)
    if warning is not None:
        report.warnings.append(warning)


def _adopted_candidate(plan: RestorePlan) -> Candidate:
    """The candidate entry of the region an earlier attempt restored into."""
    adopt = plan.adopt
    assert adopt is not None
    for candidate in plan.candidates:
        if candidate.region == str(adopt.region):
            return candidate.model_copy(update={"name": adopt.name, "reason": ""})
    return Candidate(
        region=str(adopt.region), verdict=CandidateVerdict.VIABLE, reason="", name=adopt.name
    )


async def carry_out(
    snapshot: Snapshot, plan: RestorePlan, execution: CarryOutOptions, report: RestoreReport
) -> None:
    """Act on a plan and write everything that happened into ``report``.

    Blocked plans and dry runs stop before any change. Otherwise: restore into the
    first viable candidate (falling through on refusals about the region), wait for
    ``ACTIVE`` with an IP, verify over SSH when asked, and delete the instance when it
    failed (``delete_failed``) or when this is a drill.
    """
    settings = execution.settings
    report.candidates = plan.candidates
    report.balance = plan.balance
    report.currency = plan.currency
    report.fleet_burn = plan.fleet_burn
    if plan.blockers:
        report.outcome = RestoreOutcome.BLOCKED
        report.reason = "; ".join(plan.blockers)
        return
    if plan.adopt is None and not plan.viable:
        report.outcome = RestoreOutcome.BLOCKED
        report.reason = "no candidate region can take it: " + "; ".join(
            f"{c.region} {c.reason}" for c in plan.candidates
        )
        return
    if settings.dry_run:
        target = _adopted_candidate(plan) if plan.adopt is not None else plan.viable[0]
        _choose(report, target, plan)
        report.outcome = RestoreOutcome.WOULD_RESTORE
        if plan.adopt is not None:
            report.adopted = True
            report.instance_id = plan.adopt.id
            report.reason = f"dry run: would adopt {plan.adopt.name} ({plan.adopt.id})"
        else:
            report.reason = f"dry run: would restore into {target.region} as {target.name}"
        return
    await _restore_and_follow(snapshot, plan, execution, report)


async def _restore_and_follow(
    snapshot: Snapshot, plan: RestorePlan, execution: CarryOutOptions, report: RestoreReport
) -> None:
    requested = datetime.now(UTC)
    report.timeline.requested_at = requested
    instance_id = await _restore(snapshot, plan, execution, report)
    if instance_id is None:
        return
    settings = execution.settings
    try:
        wait = await wait_for_instance_ready(
            execution.connection,
            instance_id,
            timeout_seconds=settings.wait_timeout_minutes * 60,
            first_poll_seconds=settings.poll_seconds,
            max_poll_seconds=settings.max_poll_seconds,
        )
    except BarrackError as exc:
        # The API stopped answering (after the retries): the instance exists, its fate
        # is unknown. Say so, and still try to clean it up below.
        report.outcome = RestoreOutcome.FAILED
        report.reason = f"lost track of {instance_id}: {describe_error(exc)}"
        wait = None
    if wait is not None:
        _record_wait(report, wait, requested)
        if wait.outcome is ReadyOutcome.READY:
            await _verify(report, settings.ssh, requested)
        else:
            await _judge_failure(report, wait, execution)
    needs_cleanup = execution.drill or (
        report.outcome in (RestoreOutcome.FAILED, RestoreOutcome.TIMED_OUT)
        and (wait is None or wait.outcome is not ReadyOutcome.GONE)
    )
    if not needs_cleanup:
        return
    if not execution.drill and not execution.delete_failed:
        report.cleanup = "kept (delete_failed is off): it may still bill; delete it by hand"
        report.cleanup_done = False
        return
    await _clean_up(report, execution, instance_id)


async def _clean_up(report: RestoreReport, execution: CarryOutOptions, instance_id: str) -> None:
    settings = execution.settings
    try:
        cleaned = await delete_restored_instance(
            execution.connection,
            instance_id,
            timeout_seconds=settings.cleanup_timeout_minutes * 60,
            first_poll_seconds=settings.poll_seconds,
            max_poll_seconds=settings.max_poll_seconds,
        )
    except BarrackError as exc:
        problem = describe_error(exc)
        report.cleanup = f"could not delete {instance_id} ({problem}): delete it by hand"
        report.cleanup_done = False
        return
    report.cleanup = cleaned.detail or cleaned.outcome.value
    report.cleanup_done = cleaned.done


async def _restore(
    snapshot: Snapshot, plan: RestorePlan, execution: CarryOutOptions, report: RestoreReport
) -> str | None:
    """Ask for the restore, candidate by candidate; the new (or adopted) instance's id."""
    logger = get_run_logger()
    if plan.adopt is not None:
        candidate = _adopted_candidate(plan)
        report.attempts.append(
            Attempt(
                region=candidate.region,
                name=plan.adopt.name,
                result="adopted",
                reason=f"made by an earlier attempt ({plan.adopt.status})",
            )
        )
        _choose(report, candidate, plan)
        report.adopted = True
        report.instance_id = plan.adopt.id
        return plan.adopt.id
    for candidate in plan.viable:
        key = idempotency_key(execution.scope, snapshot.id, candidate.region, candidate.name)
        try:
            result = await restore_snapshot(
                execution.connection,
                snapshot.id,
                name=candidate.name,
                region=candidate.region,
                idempotency_key=key,
            )
        except FALL_THROUGH_ERRORS as exc:
            reason = describe_error(exc)
            logger.info(
                "%s refused the restore (%s); trying the next region", candidate.region, reason
            )
            report.attempts.append(
                Attempt(
                    region=candidate.region, name=candidate.name, result="refused", reason=reason
                )
            )
            continue
        except BarrackError as exc:
            # Account-wide or snapshot-wide refusals (credit, profile, name, a deleted
            # snapshot): another region would refuse the same way.
            reason = describe_error(exc)
            report.attempts.append(
                Attempt(
                    region=candidate.region, name=candidate.name, result="refused", reason=reason
                )
            )
            report.outcome = RestoreOutcome.FAILED
            report.reason = f"{candidate.region} refused: {reason}"
            return None
        report.attempts.append(
            Attempt(
                region=candidate.region,
                name=candidate.name,
                result="adopted" if result.adopted else "created",
                reason="found under its name after the answer was lost" if result.adopted else "",
            )
        )
        _choose(report, candidate, plan)
        report.adopted = result.adopted
        report.instance_id = result.instance.id
        return result.instance.id
    report.outcome = RestoreOutcome.FAILED
    report.reason = "every candidate region refused: " + "; ".join(
        f"{a.region} {a.reason}" for a in report.attempts
    )
    return None


def _seconds_since(start: datetime, moment: datetime | None) -> float | None:
    return None if moment is None else round((moment - start).total_seconds(), 3)


def _record_wait(report: RestoreReport, wait: ReadyWait, requested: datetime) -> None:
    report.timeline.active_after_s = _seconds_since(requested, wait.active_seen_at)
    report.timeline.address_after_s = _seconds_since(requested, wait.address_seen_at)
    if wait.instance is not None and wait.api_active_at is not None:
        report.timeline.api_active_after_s = _seconds_since(
            wait.instance.created_at, wait.api_active_at
        )
    report.address = wait.address


async def _verify(report: RestoreReport, ssh: SSHVerification | None, requested: datetime) -> None:
    report.outcome = RestoreOutcome.RESTORED
    if ssh is None or report.address is None:
        return
    checked = await verify_over_ssh(
        ssh.connect_host or report.address,
        port=ssh.port,
        username=ssh.username,
        command=ssh.command,
        timeout_seconds=ssh.timeout_minutes * 60,
        private_key_path=ssh.private_key_path,
        private_key_secret_block=ssh.private_key_secret_block,
        known_hosts_path=ssh.known_hosts_path,
        expect_output=ssh.expect_output,
        retry_seconds=ssh.retry_seconds,
    )
    report.verification = checked.summary()
    report.verified = checked.ok
    if checked.ok:
        report.timeline.verified_after_s = _seconds_since(requested, datetime.now(UTC))
    else:
        report.outcome = RestoreOutcome.VERIFY_FAILED
        report.reason = f"{ssh.command!r} over SSH: {checked.error}"


async def _judge_failure(
    report: RestoreReport, wait: ReadyWait, execution: CarryOutOptions
) -> None:
    if wait.outcome is ReadyOutcome.TIMED_OUT:
        report.outcome = RestoreOutcome.TIMED_OUT
        report.reason = wait.detail
        return
    report.outcome = RestoreOutcome.FAILED
    report.reason = wait.detail
    if wait.outcome is ReadyOutcome.ERROR and report.snapshot_id is not None:
        # A3 names "snapshot deleted during restore": say so when that is the cause.
        try:
            await get_snapshot(execution.connection, report.snapshot_id)
        except (NotFoundError, SnapshotDeletedError):
            report.reason = "the restore ended in ERROR: the snapshot was deleted while it ran"
        except BarrackError:
            pass  # the cause stays unknown; the ERROR itself is reported
