"""The fleet's burn rate: what every instance, volume and snapshot costs per hour now.

A pure function of what the API lists (instances, volumes, snapshots, the price list),
exact in :class:`~decimal.Decimal`. A3's billing rules:

* ``ACTIVE`` and ``SHUTOFF`` instances pay the full rate (stopping saves nothing);
* ``HIBERNATED`` instances pay the hibernation rate;
* ``DELETED`` and transitional states (``CREATING``, ``STOPPING``, ...) pay nothing; A3
  names no rate for ``ERROR``, ``UNKNOWN`` or states added later, so the model counts
  them as unbilled and says so (the measured burn shows it if Barrack bills them);
* volumes pay by size, in every state; snapshots by stored size once ready (a snapshot
  still ``CREATING`` has no final size, one in ``ERROR`` stores nothing).

Where the rates come from is in :mod:`flows.low_balance.rates`. A billable resource
whose rate no source gives is listed as *unpriced* rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from barrack.models import Snapshot, VMInstance, VMStatus, VolumeResponse
from flows.low_balance.rates import (
    DEFAULT_SNAPSHOT_RATE_PER_GB_HOUR,
    GB_PER_TB,
    HIBERNATION_RATE_FALLBACK,
    PriceIndex,
)

__all__ = [
    "Category",
    "CategoryTotal",
    "Charge",
    "FleetBurn",
    "Priced",
    "Uncharged",
    "fleet_burn",
    "instance_rate",
    "snapshot_rate_for",
]


class Category(StrEnum):
    """The lines of the burn breakdown."""

    ACTIVE = "active instances"
    STOPPED = "stopped instances"
    HIBERNATED = "hibernated instances"
    VOLUMES = "volumes"
    SNAPSHOTS = "snapshots"


_INSTANCE_CATEGORY: Final[dict[VMStatus, Category]] = {
    VMStatus.ACTIVE: Category.ACTIVE,
    VMStatus.SHUTOFF: Category.STOPPED,
    VMStatus.HIBERNATED: Category.HIBERNATED,
}
_FULL_RATE: Final = frozenset({VMStatus.ACTIVE, VMStatus.SHUTOFF})


@dataclass(frozen=True, slots=True)
class Priced:
    """A rate per hour and where it came from (shown in the report)."""

    per_hour: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class Charge:
    """One resource's share of the burn."""

    kind: str
    resource_id: str
    name: str
    region: str
    status: str
    category: Category
    per_hour: Decimal
    source: str


@dataclass(frozen=True, slots=True)
class Uncharged:
    """A listed resource the model charges nothing for, and why.

    ``unpriced`` is True when it *is* billable but no rate is known: the model then
    under-estimates the burn, and the report says so.
    """

    kind: str
    resource_id: str
    name: str
    status: str
    reason: str
    unpriced: bool = False


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    """One line of the breakdown: the sum per hour and how many resources make it."""

    category: Category
    per_hour: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class FleetBurn:
    """The fleet model's burn: every charge, and every resource left uncharged."""

    currency: str
    charges: tuple[Charge, ...] = ()
    uncharged: tuple[Uncharged, ...] = ()

    @property
    def total(self) -> Decimal:
        """The burn per hour (exact)."""
        return sum((c.per_hour for c in self.charges), Decimal(0))

    @property
    def unpriced(self) -> tuple[Uncharged, ...]:
        """Billable resources without a known rate."""
        return tuple(u for u in self.uncharged if u.unpriced)

    def by_category(self) -> list[CategoryTotal]:
        """Every category in a fixed order, zero lines included (a report reads the same)."""
        return [
            CategoryTotal(
                category,
                sum((c.per_hour for c in self.charges if c.category is category), Decimal(0)),
                sum(1 for c in self.charges if c.category is category),
            )
            for category in Category
        ]

    def rate_of(self, resource_id: str) -> Decimal:
        """What one resource costs per hour in this model (0 when uncharged)."""
        return sum((c.per_hour for c in self.charges if c.resource_id == resource_id), Decimal(0))


def instance_rate(vm: VMInstance, status: VMStatus, index: PriceIndex) -> Priced | None:
    """The hourly rate ``vm`` pays in ``status`` (ACTIVE, SHUTOFF or HIBERNATED), or None.

    The instance's own ``hourly_price`` is what it pays in its *current* state, so it is
    used for ``status`` only when both bill alike (both full-rate, or both hibernated).

    Example:
        An ACTIVE instance quoted at 2.69/h, asked for HIBERNATED, gets the price list's
        hibernated rate (or A3's 0.01) rather than its own 2.69.
    """
    own = _own_price(vm, index.currency)
    model, region, count = str(vm.flavor.gpu_model), str(vm.region), int(vm.flavor.gpu_count)
    if status in _FULL_RATE:
        if own is not None and vm.status in _FULL_RATE:
            return Priced(own, "instance price")
        listed = index.full_rate(model, region, count)
        return Priced(listed, "price list") if listed is not None else None
    if status == VMStatus.HIBERNATED:
        if own is not None and vm.status == VMStatus.HIBERNATED:
            return Priced(own, "instance price")
        listed = index.hibernated_rate(model, region)
        if listed is not None:
            return Priced(listed, "price list (hibernated)")
        fallback = HIBERNATION_RATE_FALLBACK.get(index.currency)
        return Priced(fallback, "A3 hibernation rate") if fallback is not None else None
    raise ValueError(f"status: {status} has no rate; expected ACTIVE, SHUTOFF or HIBERNATED")


def _own_price(vm: VMInstance, currency: str) -> Decimal | None:
    if vm.hourly_price is None:
        return None
    if vm.currency is not None and str(vm.currency) != currency:
        return None
    return vm.hourly_price


def _unbilled_reason(status: VMStatus) -> str:
    if status == VMStatus.DELETED:
        return "DELETED: not billed (A3)"
    if status.is_transitional:
        return f"{status}: transitional, not billed (A3)"
    return f"{status}: A3 names no rate for it; counted as unbilled"


def snapshot_rate_for(currency: str, override: Decimal | None) -> Decimal | None:
    """The per-GB-hour snapshot rate in force: the override, else the default, else None."""
    if override is not None:
        return override
    return DEFAULT_SNAPSHOT_RATE_PER_GB_HOUR.get(currency)


def fleet_burn(
    *,
    index: PriceIndex,
    instances: Iterable[VMInstance],
    volumes: Iterable[VolumeResponse] = (),
    snapshots: Iterable[Snapshot] = (),
    snapshot_rate_per_gb_hour: Decimal | None = None,
) -> FleetBurn:
    """Charge every listed resource at its rate per hour (see the module docstring).

    Args:
        index: the price list and volume types in the account currency.
        instances: every instance of the account.
        volumes: every volume.
        snapshots: every snapshot.
        snapshot_rate_per_gb_hour: overrides the default snapshot storage rate.

    Returns:
        The charges and the resources left uncharged, with reasons.
    """
    charges: list[Charge] = []
    uncharged: list[Uncharged] = []
    for vm in instances:
        category = _INSTANCE_CATEGORY.get(vm.status)
        if category is None:
            uncharged.append(
                Uncharged("instance", vm.id, vm.name, str(vm.status), _unbilled_reason(vm.status))
            )
            continue
        priced = instance_rate(vm, vm.status, index)
        if priced is None:
            uncharged.append(
                Uncharged(
                    "instance",
                    vm.id,
                    vm.name,
                    str(vm.status),
                    f"no price for {vm.flavor.gpu_count}x {vm.flavor.gpu_model} in {vm.region}",
                    unpriced=True,
                )
            )
            continue
        charges.append(
            Charge(
                "instance",
                vm.id,
                vm.name,
                str(vm.region),
                str(vm.status),
                category,
                priced.per_hour,
                priced.source,
            )
        )
    for volume in volumes:
        priced_volume = _volume_rate(volume, index)
        if priced_volume is None:
            uncharged.append(
                Uncharged(
                    "volume",
                    volume.id,
                    volume.name,
                    str(volume.status),
                    f"no rate for {volume.volume_type} volumes",
                    unpriced=True,
                )
            )
            continue
        charges.append(
            Charge(
                "volume",
                volume.id,
                volume.name,
                str(volume.region),
                str(volume.status),
                Category.VOLUMES,
                priced_volume.per_hour,
                priced_volume.source,
            )
        )
    per_gb = snapshot_rate_for(index.currency, snapshot_rate_per_gb_hour)
    for snap in snapshots:
        status = str(snap.status)
        if not snap.status.is_ready:
            uncharged.append(
                Uncharged("snapshot", snap.id, snap.name, status, f"{status}: no stored size yet")
            )
            continue
        if per_gb is None or snap.size_gb is None:
            missing = "its stored size" if snap.size_gb is None else "a per-GB-hour rate"
            uncharged.append(
                Uncharged(
                    "snapshot", snap.id, snap.name, status, f"unknown: {missing}", unpriced=True
                )
            )
            continue
        charges.append(
            Charge(
                "snapshot",
                snap.id,
                snap.name,
                str(snap.region),
                status,
                Category.SNAPSHOTS,
                per_gb * snap.size_gb,
                f"{snap.size_gb} GB x {per_gb}/GB-h",
            )
        )
    return FleetBurn(index.currency, tuple(charges), tuple(uncharged))


def _volume_rate(volume: VolumeResponse, index: PriceIndex) -> Priced | None:
    same_currency = volume.currency is None or str(volume.currency) == index.currency
    if volume.hourly_price is not None and same_currency:
        return Priced(volume.hourly_price, "volume price")
    per_tb = index.volume_rate_per_tb_hour(str(volume.volume_type))
    if per_tb is None:
        return None
    return Priced(per_tb * volume.size_gb / GB_PER_TB, f"{volume.size_gb} GB x {per_tb}/TB-h")
