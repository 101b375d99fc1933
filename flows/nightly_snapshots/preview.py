"""A read-only retention plan for the current snapshots (``barrack-ops plan retention``)."""

from __future__ import annotations

from barrack import AsyncBarrack
from flows.common.pricing import PriceIndex
from flows.common.selection import select_instances
from flows.nightly_snapshots.cost import RetentionCost, retention_cost
from flows.nightly_snapshots.ownership import is_owned_by
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.retention import FleetPlan, SnapshotRecord, plan_fleet

__all__ = ["preview_retention", "price_plan"]


async def preview_retention(client: AsyncBarrack, params: NightlySnapshotsParams) -> FleetPlan:
    """What pruning would do now, for the selected instances; nothing is changed."""
    instances = await client.instances.list(per_page=100).to_list()
    chosen = select_instances(instances, params.selection).chosen
    names = {vm.id: vm.name for vm in chosen}
    records = [
        SnapshotRecord(
            id=snap.id,
            name=snap.name,
            instance_id=snap.instance_id or "",
            instance_name=names.get(snap.instance_id or "", snap.instance_name or ""),
            region=str(snap.region),
            status=str(snap.status),
            created_at=snap.created_at,
            owned=is_owned_by(snap.description, params.policy_name),
            backs_image=snap.has_image,
        )
        async for snap in client.snapshots.list()
        if snap.instance_id in names
    ]
    return plan_fleet(records, params.retention_policy(), max_deletions=params.max_deletions)


async def price_plan(client: AsyncBarrack, plan: FleetPlan) -> RetentionCost | None:
    """What the plan's kept snapshots cost and what its deletions save (read-only calls)."""
    balance = await client.balance.get()
    index = PriceIndex.from_pricing(str(balance.currency), await client.pricing.get())
    return retention_cost(index, kept=plan.keep_count, pruned=plan.delete_count)
