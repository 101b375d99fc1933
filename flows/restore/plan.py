"""The restore plan: every candidate region judged, the name, and whether anything blocks.

Pure: :func:`plan_restore` takes what the API said (read once by the flow) and decides,
with a reason for each decision, where the restore would go and under which name. The
flow then acts on the plan; a dry run reports it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from barrack.models import (
    Balance,
    GPUStockItem,
    Money,
    Region,
    Snapshot,
    VMInstance,
    VMStatus,
    VolumeResponse,
)
from flows.common.pricing import PriceIndex
from flows.restore.candidates import Candidate, assess_candidates, expand_targets
from flows.restore.guards import (
    balance_problem,
    find_adoptable,
    fleet_burn,
    name_holder,
    runway_hours,
    snapshot_problem,
)
from flows.restore.naming import derive_drill_name, derive_restore_name
from notifications.text import describe_duration, format_money

__all__ = ["Facts", "RestorePlan", "plan_restore", "source_name"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What the API said right before planning.

    Attributes:
        regions: the region list.
        stock: GPU stock of every region.
        prices: the shared price index, in the account currency.
        balance: the prepaid balance.
        instances: every instance of the account.
        volumes: every volume (they count in the burn the runway uses).
        snapshots: every snapshot (each ready one bills a fixed rate per hour).
    """

    regions: Sequence[Region]
    stock: Sequence[GPUStockItem]
    prices: PriceIndex
    balance: Balance
    instances: Sequence[VMInstance]
    volumes: Sequence[VolumeResponse] = ()
    snapshots: Sequence[Snapshot] = ()


class RestorePlan(BaseModel):
    """Where and as what a snapshot would be restored, and what stands in the way.

    Attributes:
        candidates: every region considered, viable ones first in the order to try.
        blockers: problems that stop the restore before it starts.
        adopt: an instance an earlier attempt of this request already made.
        balance: the prepaid balance when planning.
        currency: the account currency.
        fleet_burn: what the account costs per hour now (the low-balance fleet model).
        min_runway_hours: the runway below which a warning is given.
    """

    model_config = ConfigDict(extra="forbid")

    candidates: list[Candidate] = Field(default_factory=list)
    blockers: list[str] = Field(default_factory=list)
    adopt: VMInstance | None = None
    balance: Money | None = None
    currency: str | None = None
    fleet_burn: Money = Decimal(0)
    min_runway_hours: float = 0

    @property
    def viable(self) -> list[Candidate]:
        """The candidates to try, in order."""
        return [c for c in self.candidates if c.viable]

    @property
    def first(self) -> Candidate | None:
        """The region the restore goes to first, if any."""
        viable = self.viable
        return viable[0] if viable else None

    def runway_warning(self, candidate: Candidate) -> str | None:
        """A warning when the balance would last under ``min_runway_hours`` there."""
        hours = candidate.runway_hours
        if hours is None or hours >= self.min_runway_hours:
            return None
        price = (
            "price unknown"
            if candidate.hourly_price is None
            else f"{format_money(candidate.hourly_price, candidate.currency)}/h"
        )
        return (
            f"with {candidate.name} running in {candidate.region} "
            f"({price}) the balance lasts "
            f"about {describe_duration(timedelta(hours=hours))} "
            f"(under {self.min_runway_hours:g} h): top up soon"
        )


def source_name(snapshot: Snapshot) -> str:
    """What a restored instance is named after: the source instance, else the snapshot."""
    return snapshot.instance_name or snapshot.name


def _names(
    regions: Sequence[str], snapshot: Snapshot, name: str | None, drill_day: datetime | None
) -> dict[str, str]:
    if name is not None:
        return dict.fromkeys(regions, name)
    if drill_day is not None:
        return dict.fromkeys(regions, derive_drill_name(source_name(snapshot), drill_day))
    return {r: derive_restore_name(source_name(snapshot), r) for r in regions}


def _conflict(holder: VMInstance, snapshot_id: str) -> str:
    if holder.status == VMStatus.DELETING and holder.restored_from(snapshot_id):
        return (
            f"name {holder.name} is held by an earlier restore of this snapshot that is "
            "being deleted; run again once it is gone"
        )
    return f"name {holder.name} is taken by instance {holder.id} ({holder.status})"


def plan_restore(
    *,
    snapshot: Snapshot,
    facts: Facts,
    targets: Sequence[str],
    exclude_source_region: bool = False,
    name: str | None = None,
    drill_day: datetime | None = None,
    min_runway_hours: float = 24,
) -> RestorePlan:
    """Judge where ``snapshot`` can be restored, under which name, and what blocks it.

    Args:
        snapshot: the snapshot to restore.
        facts: regions, stock, prices, balance and instances, as the API gave them.
        targets: ``["auto"]``, or regions (and ``"source"``) in order of preference.
        exclude_source_region: never restore into the snapshot's region.
        name: the new instance's name; None derives one per region from the source.
        drill_day: set for a drill: the name is ``<source>-drill-MMDD`` in every region.
        min_runway_hours: warn below this runway (see :meth:`RestorePlan.runway_warning`).

    Returns:
        The plan. An instance an earlier attempt made under one of the names (from this
        snapshot) is adopted: then nothing blocks, since nothing new will be created.
    """
    source_region = str(snapshot.region)
    regions = expand_targets(targets, source_region, facts.regions)
    names = _names(regions, snapshot, name, drill_day)
    adopt = find_adoptable(facts.instances, snapshot.id, names.values())
    conflicts: dict[str, str] = {}
    if adopt is None:
        for region, wanted in names.items():
            holder = name_holder(facts.instances, wanted)
            if holder is not None:
                conflicts[region] = _conflict(holder, snapshot.id)
    gpu_model = str(snapshot.flavor.gpu_model) if snapshot.flavor else ""
    gpu_count = int(snapshot.flavor.gpu_count) if snapshot.flavor else 1
    burn = fleet_burn(
        facts.prices,
        facts.instances,
        volumes=facts.volumes,
        snapshots=facts.snapshots,
        leave_out=[adopt.id] if adopt else [],
    )
    candidates = assess_candidates(
        targets=targets,
        source_region=source_region,
        gpu_model=gpu_model,
        gpu_count=gpu_count,
        exclude_source_region=exclude_source_region,
        regions=facts.regions,
        stock=facts.stock,
        prices=facts.prices,
        currency=str(facts.balance.currency),
        names=names,
        name_conflicts=conflicts,
    )
    candidates = [
        c.model_copy(
            update={"runway_hours": runway_hours(facts.balance.balance, burn, c.hourly_price)}
        )
        for c in candidates
    ]
    blockers: list[str] = []
    if adopt is None:
        if snapshot.flavor is None:
            blockers.append(f"snapshot {snapshot.id} does not say which GPUs it needs")
        for problem in (snapshot_problem(snapshot), balance_problem(facts.balance)):
            if problem is not None:
                blockers.append(problem)
        if name is not None and conflicts:
            blockers.append(next(iter(conflicts.values())) + "; choose another name")
    return RestorePlan(
        candidates=candidates,
        blockers=blockers,
        adopt=adopt,
        balance=facts.balance.balance,
        currency=str(facts.balance.currency),
        fleet_burn=burn,
        min_runway_hours=min_runway_hours,
    )
