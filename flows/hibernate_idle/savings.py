"""What hibernating an instance saves, from the API's prices (never hard-coded ones).

The shared price index (:mod:`flows.common.pricing`) gives a GPU model's price per GPU-hour;
the instance's running rate is that times its GPU count, and its hibernated rate is A3's
documented one (the price list has none). The instance's own ``hourly_price`` is the
fallback when the list has no row for its model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from barrack.models import VMInstance
from flows.common.pricing import HOURS_PER_DAY, PriceIndex

__all__ = ["Rates", "hourly_rates"]


@dataclass(frozen=True, slots=True)
class Rates:
    """An instance's hourly rates running and hibernated, and where they came from."""

    currency: str
    active_per_hour: Decimal
    hibernated_per_hour: Decimal
    source: str

    @property
    def saving_per_day(self) -> Decimal:
        """What a day hibernated saves against a day running (never negative)."""
        return max(Decimal(0), (self.active_per_hour - self.hibernated_per_hour) * HOURS_PER_DAY)


def hourly_rates(vm: VMInstance, index: PriceIndex) -> Rates | None:
    """The instance's running and hibernated hourly rates; None when nothing prices it.

    Example: an 8x H100-SXM5 at 2.49 per GPU-hour, hibernated at 0.01 an hour, saves
    ``(19.92 - 0.01) * 24 = 477.84`` a day.
    """
    hibernated = index.hibernated_rate()
    if hibernated is None:
        return None
    active = index.gpu_rate(str(vm.flavor.gpu_model), int(vm.flavor.gpu_count))
    source = "price list + documented hibernated rate"
    if active is None:
        own_currency = str(vm.currency) if vm.currency is not None else None
        if vm.hourly_price is None or own_currency != index.currency or str(vm.status) != "ACTIVE":
            return None
        active, source = vm.hourly_price, "instance hourly_price + documented hibernated rate"
    return Rates(index.currency, active, hibernated, source)
