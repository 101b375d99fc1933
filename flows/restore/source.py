"""Which snapshot a restore starts from: the one named, or an instance's newest ready one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from barrack.models import Snapshot, VMInstance, VMStatus

__all__ = ["describe_unready", "newest_ready_snapshot", "snapshots_of"]


def snapshots_of(
    snapshots: Iterable[Snapshot],
    *,
    instance_id: str | None = None,
    instance_name: str | None = None,
    instances: Sequence[VMInstance] = (),
) -> list[Snapshot]:
    """The snapshots of one instance, known by id or by name.

    By name, a snapshot matches when it records that instance name, or when it was taken
    from a live instance that has the name now (renamed since). The instance may be gone:
    its snapshots still name it, which is exactly the case a restore is for.
    """
    ids = {instance_id} if instance_id else set()
    if instance_name:
        ids |= {
            vm.id for vm in instances if vm.name == instance_name and vm.status != VMStatus.DELETED
        }
    return [
        s
        for s in snapshots
        if (s.instance_id is not None and s.instance_id in ids)
        or (instance_name is not None and s.instance_name == instance_name)
    ]


def newest_ready_snapshot(snapshots: Iterable[Snapshot]) -> Snapshot | None:
    """The newest ``SUCCESS`` (or legacy ``available``) snapshot; ties go to the larger id."""
    ready = [s for s in snapshots if s.status.is_ready]
    return max(ready, key=lambda s: (s.created_at, s.id), default=None)


def describe_unready(snapshots: Sequence[Snapshot], who: str) -> str:
    """Why there is nothing to restore: ``no SUCCESS snapshot of x (2 CREATING, 1 ERROR)``."""
    if not snapshots:
        return f"no snapshots of {who}"
    counts = Counter(str(s.status) for s in snapshots)
    states = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"no SUCCESS snapshot of {who} ({states})"
