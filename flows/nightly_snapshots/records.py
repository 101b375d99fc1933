"""From API snapshots to planner records: ownership, image backing and who is using one.

The run and the ``plan retention`` preview both build their records here, so the preview
never shows a plan the run would not carry out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from barrack.models import Snapshot, VMInstance
from flows.nightly_snapshots.ownership import is_owned_by
from flows.nightly_snapshots.retention import SnapshotRecord
from flows.nightly_snapshots.schedule import Freshness, FreshnessLevel

__all__ = [
    "freshness_suspension",
    "newest_owned_ready",
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
