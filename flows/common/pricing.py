"""What things cost per hour: the one price index every recipe reads.

Built from the API's price list (``GET /pricing/``, Part C's ``pricing_data``), in one
account currency. Barrack's prices depend on the GPU model (its tier is the model's),
the volume type (its tier is the type's) and nothing regional, so every look-up here is
by model, type or kind only.

==================  ====================================================================
resource            rate per hour
==================  ====================================================================
instance, ACTIVE    ``pricing_data.gpus``: the per-GPU price x the instance's GPU count
or SHUTOFF          (the instance's own ``hourly_price`` wins where the recipe has it)
instance,           A3's documented hibernation rate (0.01, INR 1.00), whatever its size:
HIBERNATED          the price list has no figure for it
volume              ``pricing_data.volumes``: its tier and type's per-TB-hour price x size
                    (1 TB = 1000 GB)
snapshot (ready)    ``pricing_data.snapshots``: a fixed price per snapshot per hour
                    ("per hour (fixed 100GB)"), whatever its size
==================  ====================================================================

One guess is named here: Part C prints the snapshot price as ``0.1`` with the unit
"per hour (fixed 100GB)"; we read it as the price of one snapshot-hour. If Barrack meant
the legacy volume rate applied to 100 GB (a tenth of that), :meth:`PriceIndex.snapshot_rate`
is the one place to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from barrack.models import CurrencyEnum, PricingData, VMStatus

__all__ = [
    "GB_PER_TB",
    "HIBERNATED_RATE",
    "HOURS_PER_DAY",
    "HOURS_PER_MONTH",
    "PriceIndex",
]

HIBERNATED_RATE: Final[dict[str, Decimal]] = {
    "USD": Decimal("0.01"),
    "EUR": Decimal("0.01"),
    "INR": Decimal("1.00"),
}
"""A3: a HIBERNATED instance pays 0.01 per hour (INR 1.00), whatever its size."""

GB_PER_TB: Final = Decimal(1000)
HOURS_PER_DAY: Final = Decimal(24)
HOURS_PER_MONTH: Final = Decimal(730)
"""The average month (8,760 hours a year / 12), as cloud price sheets use it."""

_FULL_RATE_STATUSES: Final = frozenset({VMStatus.ACTIVE, VMStatus.SHUTOFF})


@dataclass(frozen=True, slots=True)
class GpuPrice:
    """One GPU model's per-GPU hourly price, its tier and the most GPUs per instance."""

    per_gpu_hour: Decimal
    tier: str
    max_count: int | None


@dataclass(frozen=True, slots=True)
class PriceIndex:
    """The price list in one currency, indexed for look-ups.

    Build it with :meth:`from_pricing`; prices in other currencies are left out. Every
    look-up answers None when the list has no figure (an unknown model or type): the
    caller says "unpriced" rather than guessing.

    Example:
        >>> index = PriceIndex(
        ...     "USD", gpus={"H100-SXM5-80GB": GpuPrice(Decimal("2.49"), "advanced", 8)}
        ... )
        >>> index.gpu_rate("H100-SXM5-80GB", 4)
        Decimal('9.96')
    """

    currency: str
    gpus: dict[str, GpuPrice] = field(default_factory=dict)
    volumes: dict[str, Decimal] = field(default_factory=dict)
    volume_tiers: dict[str, str] = field(default_factory=dict)
    snapshot: Decimal | None = None

    @classmethod
    def from_pricing(cls, currency: str, data: PricingData) -> PriceIndex:
        """Index Part C's ``pricing_data`` in ``currency``."""
        gpus: dict[str, GpuPrice] = {}
        if data.gpus is not None:
            for tier, by_model in data.gpus.pricing.items():
                for model, price in by_model.items():
                    amount = _in(price.prices, currency)
                    if amount is not None:
                        gpus[str(model)] = GpuPrice(amount, str(tier), price.max_count)
        volumes: dict[str, Decimal] = {}
        volume_tiers: dict[str, str] = {}
        if data.volumes is not None:
            for tier, by_type in data.volumes.pricing.items():
                for volume_type, price in by_type.items():
                    amount = _in(price.prices, currency)
                    if amount is not None:
                        volumes[str(volume_type)] = amount
                        volume_tiers[str(volume_type)] = str(tier)
        snapshot = None
        if data.snapshots is not None:
            # Snapshots are priced in the legacy tier only (Part C); take any tier given.
            for price in data.snapshots.pricing.values():
                snapshot = _in(price.prices, currency)
                if snapshot is not None:
                    break
        return cls(currency, gpus, volumes, volume_tiers, snapshot)

    def gpu_rate(self, gpu_model: str, gpu_count: int) -> Decimal | None:
        """The ACTIVE/SHUTOFF rate of ``gpu_count`` GPUs of a model: price per GPU x count."""
        price = self.gpus.get(gpu_model)
        return price.per_gpu_hour * gpu_count if price is not None else None

    def tier_of(self, gpu_model: str) -> str | None:
        """The tier a GPU model is offered in, or None when it is not in the list."""
        price = self.gpus.get(gpu_model)
        return price.tier if price is not None else None

    def hibernated_rate(self) -> Decimal | None:
        """What a HIBERNATED instance pays per hour in this currency (A3)."""
        return HIBERNATED_RATE.get(self.currency)

    def instance_rate(self, gpu_model: str, gpu_count: int, status: str) -> Decimal | None:
        """What an instance pays per hour in ``status``: full, hibernated, or nothing.

        ``ACTIVE`` and ``SHUTOFF`` pay the full rate, ``HIBERNATED`` the hibernation rate,
        every other state (transitional, deleted) nothing (A3).
        """
        if status in _FULL_RATE_STATUSES:
            return self.gpu_rate(gpu_model, gpu_count)
        if status == VMStatus.HIBERNATED:
            return self.hibernated_rate()
        return Decimal(0)

    def volume_rate_per_tb_hour(self, volume_type: str) -> Decimal | None:
        """A volume type's storage price per TB-hour, or None."""
        return self.volumes.get(volume_type)

    def volume_rate(self, volume_type: str, size_gb: int) -> Decimal | None:
        """What a volume of ``size_gb`` costs per hour, or None."""
        per_tb = self.volume_rate_per_tb_hour(volume_type)
        return per_tb * size_gb / GB_PER_TB if per_tb is not None else None

    def snapshot_rate(self) -> Decimal | None:
        """What one ready snapshot costs per hour, whatever its size (Part C), or None."""
        return self.snapshot

    def snapshots_cost(self, count: int, hours: Decimal) -> Decimal | None:
        """What ``count`` snapshots cost over ``hours``, or None when unpriced."""
        rate = self.snapshot_rate()
        return rate * count * hours if rate is not None else None


def _in(prices: Mapping[CurrencyEnum, Decimal], currency: str) -> Decimal | None:
    return prices.get(CurrencyEnum(currency))
