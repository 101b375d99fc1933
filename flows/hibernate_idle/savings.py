"""What hibernating an instance saves, from the API's prices (never hard-coded ones).

The price list gives a GPU model's hourly price in a region for ``gpu_count`` GPUs and,
where the API says so, the hourly price of a hibernated instance. The instance's own
``hourly_price`` (its current rate) is the fallback when the list has no matching row.
Only when the API gives no hibernated rate at all is the documented rate used (A3:
0.01 an hour, INR 1.00), and the report says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from barrack.models import Price, VMInstance

__all__ = ["DOCUMENTED_HIBERNATED_RATE", "Rates", "hourly_rates"]

DOCUMENTED_HIBERNATED_RATE: Final[dict[str, Decimal]] = {
    "USD": Decimal("0.01"),
    "EUR": Decimal("0.01"),
    "INR": Decimal("1.00"),
}
"""Barrack's documented hibernated rate (A3), used only when the API omits it."""

_HOURS_PER_DAY: Final = Decimal(24)


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
        return max(Decimal(0), (self.active_per_hour - self.hibernated_per_hour) * _HOURS_PER_DAY)


def _matching_price(vm: VMInstance, prices: Sequence[Price]) -> Price | None:
    rows = [
        p
        for p in prices
        if str(p.gpu_model) == str(vm.flavor.gpu_model) and str(p.region) == str(vm.region)
    ]
    exact = [p for p in rows if int(p.gpu_count) == int(vm.flavor.gpu_count)]
    candidates = exact or rows
    return candidates[0] if candidates else None


def hourly_rates(vm: VMInstance, prices: Sequence[Price]) -> Rates | None:
    """The instance's running and hibernated hourly rates; None when the API gives neither.

    Example: an 8x H100 at 2.69 per GPU-hour, hibernated at 0.01 an hour, saves
    ``(21.52 - 0.01) * 24 = 516.24`` a day.
    """
    price = _matching_price(vm, prices)
    if price is not None:
        active = price.price_per_hour / int(price.gpu_count) * int(vm.flavor.gpu_count)
        currency = str(price.currency)
        source = "price list"
        hibernated = price.hibernated_price_per_hour
    elif vm.hourly_price is not None and vm.currency is not None and str(vm.status) == "ACTIVE":
        active = vm.hourly_price
        currency = str(vm.currency)
        source = "instance hourly_price"
        hibernated = None
    else:
        return None
    if hibernated is None:
        documented = DOCUMENTED_HIBERNATED_RATE.get(currency)
        if documented is None:
            return None
        hibernated = documented
        source += " + documented hibernated rate"
    return Rates(currency, active, hibernated, source)
