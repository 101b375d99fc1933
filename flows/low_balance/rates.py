"""What each resource costs per hour, read from the API wherever the API says it.

Order of sources, most specific first (every figure in the account currency):

==================  =================================================================
resource            rate per hour
==================  =================================================================
instance, ACTIVE    ``VMInstance.hourly_price``, else the price list
or SHUTOFF          (``Price.price_per_hour`` scaled to the instance's GPU count)
instance,           ``VMInstance.hourly_price``, else ``Price.hibernated_price_per_hour``,
HIBERNATED          else A3's documented hibernation rate (the one hard-coded figure)
volume              ``VolumeResponse.hourly_price``, else the volume type's
                    ``price_per_tb_hour`` x size (1 TB = 1000 GB)
snapshot (ready)    stored ``size_gb`` x a per-GB-hour rate: Barrack publishes none, so
                    it is a parameter whose default is the simulator's figure
==================  =================================================================

A figure in another currency than the account's is ignored (it cannot be deducted
from this balance as it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from barrack.models import Price, VolumeType

__all__ = [
    "DEFAULT_SNAPSHOT_RATE_PER_GB_HOUR",
    "GB_PER_TB",
    "HIBERNATION_RATE_FALLBACK",
    "PriceIndex",
]

HIBERNATION_RATE_FALLBACK: Final[dict[str, Decimal]] = {
    "USD": Decimal("0.01"),
    "EUR": Decimal("0.01"),
    "INR": Decimal("1.00"),
}
"""A3: a HIBERNATED instance pays 0.01 per hour (INR 1.00), whatever its size. Used only
when neither the instance nor the price list gives the hibernated rate."""

DEFAULT_SNAPSHOT_RATE_PER_GB_HOUR: Final[dict[str, Decimal]] = {
    "USD": Decimal("0.00005"),
    "EUR": Decimal("0.00005"),
    "INR": Decimal("0.005"),
}
"""A3 says snapshots are billed hourly on their stored size but publishes no rate. These
are the simulator's figures (``simulator/seed_data.py``: 0.05 per TB-hour, half the volume
rate; INR 100x); set ``snapshot_rate_per_gb_hour`` when Barrack's real rate is known."""

GB_PER_TB: Final = Decimal(1000)


@dataclass(frozen=True, slots=True)
class PriceIndex:
    """The price list and volume types of one account currency, indexed for look-ups.

    Build it with :meth:`build`; prices in another currency are left out.
    """

    currency: str
    prices: dict[tuple[str, str], tuple[Price, ...]]
    volume_rates: dict[str, Decimal]

    @classmethod
    def build(
        cls, currency: str, prices: Iterable[Price], volume_types: Iterable[VolumeType] = ()
    ) -> PriceIndex:
        """Index ``prices`` by (GPU model, region) and volume types by name."""
        by_key: dict[tuple[str, str], list[Price]] = {}
        for price in prices:
            if str(price.currency) == currency:
                by_key.setdefault((str(price.gpu_model), str(price.region)), []).append(price)
        rates = {
            str(vt.name): vt.price_per_tb_hour
            for vt in volume_types
            if vt.price_per_tb_hour is not None and str(vt.currency or currency) == currency
        }
        return cls(currency, {k: tuple(v) for k, v in by_key.items()}, rates)

    def full_rate(self, gpu_model: str, region: str, gpu_count: int) -> Decimal | None:
        """The ACTIVE/SHUTOFF rate of ``gpu_count`` GPUs of a model in a region, or None.

        A price quoted for exactly this count wins; otherwise a price is scaled by
        ``gpu_count / price.gpu_count`` (counts are 1, 2, 4, 8: the division is exact).
        """
        candidates = self.prices.get((gpu_model, region), ())
        for price in candidates:
            if int(price.gpu_count) == gpu_count:
                return price.price_per_hour
        for price in candidates:
            if int(price.gpu_count) > 0:
                return price.price_per_hour * gpu_count / int(price.gpu_count)
        return None

    def hibernated_rate(self, gpu_model: str, region: str) -> Decimal | None:
        """The price list's HIBERNATED rate for a model in a region, or None."""
        for price in self.prices.get((gpu_model, region), ()):
            if price.hibernated_price_per_hour is not None:
                return price.hibernated_price_per_hour
        return None

    def volume_rate_per_tb_hour(self, volume_type: str) -> Decimal | None:
        """The volume type's storage rate per TB-hour, or None."""
        return self.volume_rates.get(volume_type)
