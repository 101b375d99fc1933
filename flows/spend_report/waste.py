"""Waste, named: each line says what it cost, why it is waste, and what to do. Pure.

* idle GPU hours: the hibernate-idle recipe's own evidence (when it judged an instance
  idle, from its persisted state), priced from the instance's billing in those hours;
* instances ``SHUTOFF`` for more than a day (they pay the full rate);
* snapshots whose instance no longer exists (each billed as a fixed 100 GB, every hour);
* volumes attached to an instance that no longer exists, and unattached volumes;
* what hibernation saved (a credit, not waste: the full rate it did not pay).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from barrack.models import Snapshot, VMInstance, VolumeResponse
from flows.spend_report.charges import Charge, clip
from flows.spend_report.periods import Period

__all__ = ["HOURS_PER_MONTH", "IdleWindow", "Waste", "WasteLine", "find_waste"]

HOURS_PER_MONTH: Final = Decimal(730)
"""Hours in an average month (8760 / 12): how a per-hour rate reads as a monthly cost."""
SHUTOFF_GRACE: Final = timedelta(days=1)


@dataclass(frozen=True)
class IdleWindow:
    """When the hibernate-idle recipe judged an instance idle: ``[since, until]``."""

    instance_id: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class WasteLine:
    """One finding.

    Attributes:
        category: ``idle-gpu``, ``shutoff``, ``orphan-snapshot``, ``orphan-volume``,
            ``unattached-volume``.
        resource_id, name: what it is about.
        detail: the evidence (hours idle, stopped since...).
        cost: what it cost in the period.
        monthly: what it goes on costing per month if left (None: not a standing cost).
        action: what to do, and which recipe or command does it.
    """

    category: str
    resource_id: str
    name: str
    detail: str
    cost: Decimal
    monthly: Decimal | None
    action: str


@dataclass(frozen=True)
class Waste:
    """The period's waste lines and what hibernation saved."""

    lines: list[WasteLine]
    hibernation_saved: Decimal
    hibernated_hours: Decimal

    @property
    def total(self) -> Decimal:
        """What the waste lines cost in the period."""
        return sum((line.cost for line in self.lines), Decimal(0))


def _hours(delta: timedelta) -> Decimal:
    return (
        Decimal(delta.days * 86400 + delta.seconds) / 3600
        + Decimal(delta.microseconds).scaleb(-6) / 3600
    )


def _stopped_since(own: Sequence[Charge]) -> datetime | None:
    """The start of the instance's last unbroken ``SHUTOFF`` run (None: not stopped)."""
    since = None
    for charge in sorted(own, key=lambda c: c.start, reverse=True):
        if charge.status != "SHUTOFF" or (since is not None and charge.end < since):
            break
        since = charge.start
    return since


def find_waste(
    *,
    charges: Sequence[Charge],
    period: Period,
    now: datetime,
    instances: Sequence[VMInstance],
    volumes: Sequence[VolumeResponse],
    snapshots: Sequence[Snapshot],
    idle: Sequence[IdleWindow],
    full_rates: Mapping[str, Decimal],
) -> Waste:
    """Find the period's waste.

    Args:
        charges: every charge from the period's start on (clipped here).
        period: the report period.
        now: the evaluation time (stopped-for-how-long counts to it).
        instances, volumes, snapshots: what exists now.
        idle: the hibernate-idle recipe's idle judgements.
        full_rates: each instance's full rate per hour (what hibernation avoided paying).
    """
    live = {vm.id: vm for vm in instances}
    in_period = [c for c in (clip(c, period.start, period.end) for c in charges) if c is not None]
    lines: list[WasteLine] = []

    for window in idle:
        cost, hours = Decimal(0), Decimal(0)
        for charge in in_period:
            if charge.kind != "gpu" or charge.resource_id != window.instance_id:
                continue
            if charge.status not in {"ACTIVE", "SHUTOFF"}:
                continue
            piece = clip(charge, window.since, window.until)
            if piece is not None:
                cost += piece.amount
                hours += _hours(piece.end - piece.start)
        if not cost:
            continue
        vm = live.get(window.instance_id)
        name = vm.name if vm is not None else window.instance_id
        lines.append(
            WasteLine(
                category="idle-gpu",
                resource_id=window.instance_id,
                name=name,
                detail=f"judged idle by hibernate-idle for {hours:.1f} h "
                f"({window.since:%a %H:%M} to {window.until:%a %H:%M} UTC)",
                cost=cost,
                monthly=None,
                action="let the hibernate-idle recipe hibernate it (turn dry_run off), "
                "or delete it if the work is done",
            )
        )

    for vm in instances:
        if str(vm.status) != "SHUTOFF":
            continue
        since = _stopped_since([c for c in charges if c.resource_id == vm.id])
        if since is None or now - since <= SHUTOFF_GRACE:
            continue
        cost = sum(
            (c.amount for c in in_period if c.resource_id == vm.id and c.status == "SHUTOFF"),
            Decimal(0),
        )
        lines.append(
            WasteLine(
                category="shutoff",
                resource_id=vm.id,
                name=vm.name,
                detail=f"SHUTOFF since {since:%Y-%m-%d %H:%M} UTC "
                f"({_hours(now - since) / 24:.1f} days), billed at the full rate",
                cost=cost,
                monthly=vm.hourly_price * HOURS_PER_MONTH if vm.hourly_price is not None else None,
                action="hibernate it (barrack-ops hibernate, or the hibernate-idle recipe) to pay "
                "the hibernated rate, or snapshot and delete it",
            )
        )

    for snap in snapshots:
        if snap.instance_id is None or snap.instance_id in live:
            continue
        own = [c for c in charges if c.resource_id == snap.id]
        rate = max(own, key=lambda c: c.end).rate_per_hour if own else None
        cost = sum((c.amount for c in in_period if c.resource_id == snap.id), Decimal(0))
        lines.append(
            WasteLine(
                category="orphan-snapshot",
                resource_id=snap.id,
                name=snap.name,
                detail=f"its instance {snap.instance_name or snap.instance_id} no longer exists",
                cost=cost,
                monthly=rate * HOURS_PER_MONTH if rate is not None else None,
                action="delete it if nobody will restore it (the nightly-snapshots recipe only "
                "prunes its own), or restore it with the restore recipe",
            )
        )

    for vol in volumes:
        attached = vol.instance_id is not None
        if attached and vol.instance_id in live:
            continue
        cost = sum((c.amount for c in in_period if c.resource_id == vol.id), Decimal(0))
        monthly = vol.hourly_price * HOURS_PER_MONTH if vol.hourly_price is not None else None
        lines.append(
            WasteLine(
                category="orphan-volume" if attached else "unattached-volume",
                resource_id=vol.id,
                name=vol.name,
                detail=(
                    f"attached to {vol.instance_id}, which no longer exists"
                    if attached
                    else f"{vol.size_gb} GB, attached to no instance"
                ),
                cost=cost,
                monthly=monthly,
                action="attach it where it is used, or copy what matters and delete it",
            )
        )

    saved, hibernated_hours = Decimal(0), Decimal(0)
    for charge in in_period:
        if charge.kind != "hibernated":
            continue
        hours = _hours(charge.end - charge.start)
        full = full_rates.get(charge.resource_id)
        hibernated_hours += hours
        if full is not None and full > charge.rate_per_hour:
            saved += (full - charge.rate_per_hour) * hours
    lines.sort(key=lambda line: (-line.cost, line.category, line.name))
    return Waste(lines=lines, hibernation_saved=saved, hibernated_hours=hibernated_hours)
