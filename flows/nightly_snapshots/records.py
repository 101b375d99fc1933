"""From API snapshots to planner records: ownership, image backing and who is using one.

The run and the ``plan retention`` preview both plan through :func:`plan_retention`: the
same records, readers, freshness verdicts and suspensions, so the preview never shows a
plan other than the one the run would carry out for the same fleet at the same time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from barrack.models import Snapshot, VMInstance
from flows.nightly_snapshots.ownership import is_owned_by
from flows.nightly_snapshots.retention import FleetPlan, SnapshotRecord, plan_fleet
from flows.nightly_snapshots.schedule import Freshness, FreshnessLevel, freshness

if TYPE_CHECKING:
    from flows.nightly_snapshots.params import NightlySnapshotsParams

__all__ = [
    "RetentionPlanning",
    "freshness_suspension",
    "newest_owned_ready",
    "plan_retention",
    "snapshot_records",
    "snapshots_in_use",
]


def newest_owned_ready(records: Iterable[SnapshotRecord]) -> dict[str, datetime]:
    """Instance id -> when the newest ready snapshot THIS policy made was taken.

    Freshness is judged on it: another policy's snapshot (a daily's, judged by a weekly)
    or a person's says nothing about whether this policy is doing its job.
    """
    # One pass over the listing (a per-instance scan of it was quadratic in the fleet).
    newest: dict[str, datetime] = {}
    for record in records:
        if record.is_ready and record.owned:
            known = newest.get(record.instance_id)
            if known is None or record.created_at > known:
                newest[record.instance_id] = record.created_at
    return newest


def freshness_suspension(verdict: Freshness) -> str | None:
    """Why pruning is suspended for an instance with this freshness, or None.

    A critical instance (no ready snapshot for two periods plus grace) keeps everything:
    while its history is not being renewed, every old snapshot may be the last good one.
    """
    if verdict.level is FreshnessLevel.CRITICAL:
        return f"freshness critical: {verdict.message}"
    return None


def snapshots_in_use(instances: Iterable[VMInstance]) -> dict[str, str]:
    """Snapshot id -> what is reading from it right now.

    A restore creates a new instance from a snapshot and copies its disk while that
    instance is ``CREATING``; deleting the snapshot then fails the restore and loses
    that point in time. Any instance restored from a snapshot (``snapshot_id``) whose
    status has not settled (``CREATING``, other transitions, or a status this client
    does not know) counts as a reader.

    Example:
        >>> snapshots_in_use([])
        {}
    """
    readers: dict[str, list[str]] = {}
    for vm in instances:
        if vm.snapshot_id and not vm.status.is_settled:
            readers.setdefault(vm.snapshot_id, []).append(
                f"instance {vm.name} ({vm.id}) is {vm.status} from it"
            )
    return {snapshot_id: ", ".join(who) for snapshot_id, who in readers.items()}


def snapshot_records(
    snapshots: Iterable[Snapshot],
    *,
    instance_names: Mapping[str, str],
    policy_name: str,
    in_use: Mapping[str, str],
) -> list[SnapshotRecord]:
    """The planner's records for the snapshots of the given instances.

    Args:
        snapshots: the listing; snapshots of other instances are left out.
        instance_names: instance id -> name, for the instances being planned.
        policy_name: the policy whose ownership marker counts.
        in_use: snapshot id -> what is reading from it (see :func:`snapshots_in_use`).
    """
    return [
        SnapshotRecord(
            id=snap.id,
            name=snap.name,
            instance_id=snap.instance_id or "",
            instance_name=instance_names.get(snap.instance_id or "", snap.instance_name or ""),
            region=str(snap.region),
            status=str(snap.status),
            created_at=snap.created_at,
            owned=is_owned_by(snap.description, policy_name),
            backs_image=snap.has_image,
            in_use_by=in_use.get(snap.id),
            description=snap.description or "",
        )
        for snap in snapshots
        if snap.instance_id in instance_names
    ]


@dataclass(frozen=True, slots=True)
class RetentionPlanning:
    """What :func:`plan_retention` worked out.

    Attributes:
        records: the planner's records of the chosen instances' snapshots.
        verdicts: instance id -> its freshness, judged on this policy's newest ready one.
        suspended: instance id -> why its pruning is suspended (the bare reason).
        plan: keep or delete, with reasons, for every record.
    """

    records: list[SnapshotRecord]
    verdicts: dict[str, Freshness]
    suspended: dict[str, str]
    plan: FleetPlan


def plan_retention(
    snapshots: Iterable[Snapshot],
    *,
    instances: Iterable[VMInstance],
    chosen: Mapping[str, str],
    params: NightlySnapshotsParams,
    now: datetime,
    failed: Mapping[str, str] | None = None,
) -> RetentionPlanning:
    """The one way to plan pruning, for the run and for ``plan retention``.

    Args:
        snapshots: the snapshot listing (others than the chosen instances' are left out).
        instances: the whole instance listing: restores still reading from a snapshot.
        chosen: instance id -> name, for the instances the policy covers.
        params: the recipe's parameters (policy, schedule, freshness grace, max_deletions).
        now: the moment the plan is judged at.
        failed: instance id -> why its snapshot failed in this run; its pruning is
            suspended (a preview has none: a failure cannot be foreseen).
    """
    records = snapshot_records(
        snapshots,
        instance_names=chosen,
        policy_name=params.policy_name,
        in_use=snapshots_in_use(instances),
    )
    newest = newest_owned_ready(records)
    verdicts = {
        instance_id: freshness(
            newest.get(instance_id), params.cron, params.timezone, now, params.freshness_grace
        )
        for instance_id in chosen
    }
    suspended = dict(failed or {})
    for instance_id, verdict in verdicts.items():
        why = freshness_suspension(verdict)
        if instance_id not in suspended and why is not None:
            suspended[instance_id] = why
    plan = plan_fleet(
        records,
        params.retention_policy(),
        max_deletions=params.max_deletions,
        suspended=suspended,
    )
    return RetentionPlanning(records=records, verdicts=verdicts, suspended=suspended, plan=plan)
