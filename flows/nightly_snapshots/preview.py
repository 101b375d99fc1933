"""A read-only retention plan for the current snapshots (``barrack-ops plan retention``)."""

from __future__ import annotations

from datetime import UTC, datetime

from barrack import AsyncBarrack
from flows.common.pricing import PriceIndex
from flows.common.selection import select_instances
from flows.nightly_snapshots.cost import RetentionCost, retention_cost
from flows.nightly_snapshots.params import NightlySnapshotsParams
from flows.nightly_snapshots.records import RetentionPlanning, plan_retention
from flows.nightly_snapshots.retention import FleetPlan

__all__ = ["preview_planning", "preview_retention", "price_plan"]


async def preview_retention(client: AsyncBarrack, params: NightlySnapshotsParams) -> FleetPlan:
    """What pruning would do now, for the selected instances; nothing is changed."""
    return (await preview_planning(client, params)).plan


async def preview_planning(
    client: AsyncBarrack, params: NightlySnapshotsParams
) -> RetentionPlanning:
    """The plan with its freshness verdicts and suspensions; nothing is changed.

    It plans as the run does, through the same function (:func:`plan_retention`), at the
    moment the run would judge (``now`` when set, else the current time). A failed
    snapshot of a run that has not happened cannot be foreseen.
    """
    instances = await client.instances.list(per_page=100).to_list()
    chosen = select_instances(instances, params.selection).chosen
    return plan_retention(
        [snap async for snap in client.snapshots.list()],
        instances=instances,
        chosen={vm.id: vm.name for vm in chosen},
        params=params,
        now=params.evaluation_time(None, datetime.now(UTC)),
    )


async def price_plan(client: AsyncBarrack, plan: FleetPlan) -> RetentionCost | None:
    """What the plan's kept snapshots cost and what its deletions save (read-only calls)."""
    balance = await client.balance.get()
    index = PriceIndex.from_pricing(str(balance.currency), await client.pricing.get())
    return retention_cost(index, kept=plan.keep_count, pruned=plan.delete_count)
