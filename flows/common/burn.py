"""The fleet's burn rate: what every instance, volume and snapshot costs per hour now.

A pure function of what the API lists (instances, volumes, snapshots, the price list),
exact in :class:`~decimal.Decimal`. A3's billing rules:

* ``ACTIVE`` and ``SHUTOFF`` instances pay the full rate (stopping saves nothing);
* ``HIBERNATED`` instances pay the hibernation rate;
* ``DELETED`` and transitional states (``CREATING``, ``STOPPING``, ...) pay nothing; A3
  names no rate for ``ERROR``, ``UNKNOWN`` or states added later, so the model counts
  them as unbilled and says so (the measured burn shows it if Barrack bills them);
* volumes pay by size and type, in every state; a ready snapshot pays a fixed rate per
  hour whatever its size (Part C: "fixed 100GB"); one still ``CREATING`` or in ``ERROR``
  is not billed.

Where the rates come from is :mod:`flows.common.pricing`, the index every recipe reads.
A billable resource whose rate no source gives is listed as *unpriced* rather than
guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from barrack.models import Snapshot, VMInstance, VMStatus, VolumeResponse
from flows.common.pricing import PriceIndex

__all__ = [
    "BurnShare",
    "Category",
    "CategoryTotal",
    "FleetBurn",
    "Priced",
    "Uncharged",
    "fleet_burn",
    "instance_rate",
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
class BurnShare:
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
    charges: tuple[BurnShare, ...] = ()
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
        An ACTIVE instance quoted at 2.49/h, asked for HIBERNATED, gets A3's hibernation
        rate (0.01) rather than its own 2.49.
    """
    own = _own_price(vm, index.currency)
    model, count = str(vm.flavor.gpu_model), int(vm.flavor.gpu_count)
    if status in _FULL_RATE:
        if own is not None and vm.status in _FULL_RATE:
            return Priced(own, "instance price")
        listed = index.gpu_rate(model, count)
        return Priced(listed, "price list") if listed is not None else None
    if status == VMStatus.HIBERNATED:
        if own is not None and vm.status == VMStatus.HIBERNATED:
            return Priced(own, "instance price")
        fallback = index.hibernated_rate()
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


def fleet_burn(
    *,
    index: PriceIndex,
    instances: Iterable[VMInstance],
    volumes: Iterable[VolumeResponse] = (),
    snapshots: Iterable[Snapshot] = (),
    snapshot_rate_per_hour: Decimal | None = None,
) -> FleetBurn:
    """BurnShare every listed resource at its rate per hour (see the module docstring).

    Args:
        index: the price list in the account currency.
        instances: every instance of the account.
        volumes: every volume.
        snapshots: every snapshot.
        snapshot_rate_per_hour: overrides the price list's fixed rate per snapshot-hour.

    Returns:
        The charges and the resources left uncharged, with reasons.
    """
    charges: list[BurnShare] = []
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
                    f"no price for {vm.flavor.gpu_count}x {vm.flavor.gpu_model}",
                    unpriced=True,
                )
            )
            continue
        charges.append(
            BurnShare(
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
            BurnShare(
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
    per_snapshot = (
        snapshot_rate_per_hour if snapshot_rate_per_hour is not None else index.snapshot_rate()
    )
    for snap in snapshots:
        status = str(snap.status)
        if not snap.status.is_ready:
            uncharged.append(
                Uncharged("snapshot", snap.id, snap.name, status, f"{status}: not billed yet")
            )
            continue
        if per_snapshot is None:
            uncharged.append(
                Uncharged(
                    "snapshot",
                    snap.id,
                    snap.name,
                    status,
                    "unknown: the price list has no snapshot rate",
                    unpriced=True,
                )
            )
            continue
        charges.append(
            BurnShare(
                "snapshot",
                snap.id,
                snap.name,
                str(snap.region),
                status,
                Category.SNAPSHOTS,
                per_snapshot,
                "fixed rate per snapshot",
            )
        )
    return FleetBurn(index.currency, tuple(charges), tuple(uncharged))


def _volume_rate(volume: VolumeResponse, index: PriceIndex) -> Priced | None:
    same_currency = volume.currency is None or str(volume.currency) == index.currency
    if volume.hourly_price is not None and same_currency:
        return Priced(volume.hourly_price, "volume price")
    per_hour = index.volume_rate(str(volume.volume_type), volume.size_gb)
    if per_hour is None:
        return None
    per_tb = index.volume_rate_per_tb_hour(str(volume.volume_type))
    return Priced(per_hour, f"{volume.size_gb} GB x {per_tb}/TB-h")
