"""A read-only retention plan for the current snapshots (``barrack-ops plan retention``)."""

from __future__ import annotations

from datetime import UTC, datetime

from barrack import AsyncBarrack
from flows.common.pricing import PriceIndex
from flows.common.selection import select_instances
from flows.nightly_snapshots.cost import RetentionCost, retention_cost
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.records import (
    freshness_suspension,
    newest_owned_ready,
    snapshot_records,
    snapshots_in_use,
)
from flows.nightly_snapshots.retention import FleetPlan, plan_fleet
from flows.nightly_snapshots.schedule import freshness

__all__ = ["preview_retention", "price_plan"]


async def preview_retention(client: AsyncBarrack, params: NightlySnapshotsParams) -> FleetPlan:
    """What pruning would do now, for the selected instances; nothing is changed.

    It plans as the run does: the same records, readers and freshness suspensions (a
    failed snapshot of a run that has not happened cannot be foreseen).
    """
    instances = await client.instances.list(per_page=100).to_list()
    chosen = select_instances(instances, params.selection).chosen
    records = snapshot_records(
        [snap async for snap in client.snapshots.list()],
        instance_names={vm.id: vm.name for vm in chosen},
        policy_name=params.policy_name,
        in_use=snapshots_in_use(instances),
    )
    now = params.now or datetime.now(UTC)
    newest = newest_owned_ready(records)
    suspended: dict[str, str] = {}
    for vm in chosen:
        verdict = freshness(
            newest.get(vm.id), params.cron, params.timezone, now, params.freshness_grace
        )
        if (why := freshness_suspension(verdict)) is not None:
            suspended[vm.id] = why
    return plan_fleet(
        records,
        params.retention_policy(),
        max_deletions=params.max_deletions,
        suspended=suspended,
    )


async def price_plan(client: AsyncBarrack, plan: FleetPlan) -> RetentionCost | None:
    """What the plan's kept snapshots cost and what its deletions save (read-only calls)."""
    balance = await client.balance.get()
    index = PriceIndex.from_pricing(str(balance.currency), await client.pricing.get())
    return retention_cost(index, kept=plan.keep_count, pruned=plan.delete_count)
