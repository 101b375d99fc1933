"""What a retention policy costs: every kept snapshot is billed every hour.

Barrack bills each ready snapshot as a fixed 100 GB, every hour, whatever its real size
(see :mod:`flows.common.pricing`), so a policy's price is simply how many snapshots it
keeps times that rate. ``keep_daily=7, keep_weekly=4, keep_monthly=6`` keeps up to 17
snapshots per instance: at USD 0.10 an hour that is USD 40.80 a day, USD 1,241 a month,
for one instance. A user choosing a policy should see that figure, so the nightly report
and ``barrack-ops plan retention`` both print it.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from flows.common.pricing import HOURS_PER_DAY, HOURS_PER_MONTH, PriceIndex
from notifications.text import format_money

__all__ = ["RetentionCost", "retention_cost"]


class RetentionCost(BaseModel):
    """What the kept snapshots cost, and what pruning saves.

    Attributes:
        currency: the account currency.
        rate_per_snapshot_hour: what one ready snapshot costs per hour.
        kept: snapshots kept after this run (or this plan).
        pruned: snapshots this run deletes (or would delete).
        per_day: what the kept snapshots cost per day.
        per_month: what they cost per month (730 hours).
        saved_per_month: what the pruned ones would have cost per month.
    """

    currency: str
    rate_per_snapshot_hour: Decimal
    kept: int
    pruned: int
    per_day: Decimal
    per_month: Decimal
    saved_per_month: Decimal

    def line(self, *, dry_run: bool = False) -> str:
        """One line for people: the retention's price and what tonight's pruning saves."""
        saves = "would save" if dry_run else "saves"
        return (
            f"retention cost: {self.kept} kept snapshot(s) at "
            f"{format_money(self.rate_per_snapshot_hour, self.currency)}/h each = "
            f"{format_money(self.per_day, self.currency, places=2)}/day, "
            f"{format_money(self.per_month, self.currency, places=2)}/month; "
            f"pruning {self.pruned} {saves} "
            f"{format_money(self.saved_per_month, self.currency, places=2)}/month"
        )


def retention_cost(index: PriceIndex, *, kept: int, pruned: int) -> RetentionCost | None:
    """The cost of keeping ``kept`` snapshots and the saving of pruning ``pruned``.

    None when the price list has no snapshot rate (the report then says so).

    Example:
        >>> index = PriceIndex("USD", snapshot=Decimal("0.1"))
        >>> retention_cost(index, kept=17, pruned=1).per_day
        Decimal('40.8')
    """
    if kept < 0 or pruned < 0:
        raise ValueError("kept and pruned are counts: they cannot be negative")
    rate = index.snapshot_rate()
    if rate is None:
        return None
    return RetentionCost(
        currency=index.currency,
        rate_per_snapshot_hour=rate,
        kept=kept,
        pruned=pruned,
        per_day=rate * kept * HOURS_PER_DAY,
        per_month=rate * kept * HOURS_PER_MONTH,
        saved_per_month=rate * pruned * HOURS_PER_MONTH,
    )
