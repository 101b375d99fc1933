"""The nightly recipe starts the snapshots that take longest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from barrack.models import Snapshot, VMInstance
from flows.nightly_snapshots.flow import _longest_first
from flows.nightly_snapshots.report import InstanceOutcome, SnapshotStatusOutcome

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def vm(name: str, disk_gb: int) -> VMInstance:
    return VMInstance.model_validate(
        {
            "id": f"BRK-{name.upper():0<7}"[:11],
            "name": name,
            "status": "ACTIVE",
            "region": "US-1",
            "flavor": {
                "name": "1x-A40",
                "gpu_model": "A40",
                "gpu_count": 1,
                "vcpus": 8,
                "ram_gb": 48,
                "disk_gb": disk_gb,
            },
            "created_at": T0 - timedelta(days=30),
        }
    )


def snap(instance: VMInstance, size_gb: int | None, days_ago: int) -> Snapshot:
    return Snapshot(
        id=f"snap-{instance.name}-{days_ago}",
        name=f"{instance.name}-{days_ago}",
        status="SUCCESS",
        region="US-1",
        instance_id=instance.id,
        size_gb=size_gb,
        created_at=T0 - timedelta(days=days_ago),
    )


def outcome(instance: VMInstance) -> InstanceOutcome:
    return InstanceOutcome(
        instance_id=instance.id,
        instance_name=instance.name,
        region="US-1",
        status="ACTIVE",
        outcome=SnapshotStatusOutcome.WOULD_CREATE,
    )


def test_the_newest_earlier_snapshot_size_decides_else_the_disk() -> None:
    small_disk_big_data = vm("a", disk_gb=100)
    big_disk_little_data = vm("b", disk_gb=3000)
    never_snapshotted = vm("c", disk_gb=500)
    unknown_size = vm("d", disk_gb=50)
    instances = (small_disk_big_data, big_disk_little_data, never_snapshotted, unknown_size)
    snapshots = [
        snap(small_disk_big_data, 10, days_ago=3),
        snap(small_disk_big_data, 900, days_ago=1),  # the newest one counts
        snap(big_disk_little_data, 40, days_ago=1),
        snap(unknown_size, None, days_ago=1),  # no size: the disk stands in
    ]
    ordered = _longest_first([outcome(v) for v in instances], instances, snapshots)
    assert [o.instance_name for o in ordered] == ["a", "c", "d", "b"]


def test_nothing_is_lost_or_added() -> None:
    instances = tuple(vm(f"n{i}", disk_gb=100 * (i % 4 + 1)) for i in range(9))
    todo = [outcome(v) for v in instances]
    ordered = _longest_first(todo, instances, [])
    assert sorted(o.instance_id for o in ordered) == sorted(o.instance_id for o in todo)
    disks = {v.id: v.flavor.disk_gb for v in instances}
    sizes = [disks[o.instance_id] for o in ordered]
    assert sizes == sorted(sizes, reverse=True)
