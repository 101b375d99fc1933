"""Days that spent more than their baseline, and the resources that made the difference. Pure.

The baseline of a day is, by default, the median daily spend of the ``weeks`` weeks before
the report period plus a margin (a percentage, an amount, or both); a fixed amount per day
can replace it. A day above its baseline is an anomaly; its contributors are the resources
whose spend that day exceeded their own median day the most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from statistics import median

from flows.spend_report.aggregate import Spend

__all__ = ["Anomaly", "Baseline", "Contributor", "baseline_of", "find_anomalies"]


@dataclass(frozen=True)
class Baseline:
    """A day's allowed spend.

    Attributes:
        limit: spend above this is an anomaly (None: no baseline: too little history).
        basis: how it was made, for people (``median of 28 days 41.20 + 25%``).
    """

    limit: Decimal | None
    basis: str


@dataclass(frozen=True)
class Contributor:
    """A resource's spend on the anomalous day against its usual day."""

    key: str
    name: str
    spent: Decimal
    usual: Decimal

    @property
    def extra(self) -> Decimal:
        """Spent above its usual day."""
        return self.spent - self.usual


@dataclass(frozen=True)
class Anomaly:
    """One day above its baseline."""

    day: date
    spent: Decimal
    baseline: Baseline
    contributors: list[Contributor]

    @property
    def excess(self) -> Decimal:
        """Spent above the limit."""
        assert self.baseline.limit is not None
        return self.spent - self.baseline.limit


def baseline_of(
    history: Spend | None,
    *,
    margin_pct: Decimal,
    margin_amount: Decimal,
    fixed: Decimal | None,
    min_days: int = 7,
) -> Baseline:
    """The baseline from the history's daily totals (or ``fixed``, when set)."""
    if fixed is not None:
        return Baseline(fixed, f"fixed {fixed}")
    days = list(history.day_totals().values()) if history is not None else []
    if len(days) < min_days or not any(days):
        return Baseline(None, f"not enough history ({len(days)} day(s) billed; {min_days} needed)")
    middle = Decimal(median(days))
    limit = middle * (1 + margin_pct / 100) + margin_amount
    return Baseline(
        limit, f"median of {len(days)} days {middle:.2f} + {margin_pct}% + {margin_amount}"
    )


def _usual(history: Spend | None) -> dict[str, Decimal]:
    if history is None:
        return {}
    keys = {k for day in history.daily_by_resource.values() for k in day}
    return {
        key: Decimal(
            median([day.get(key, Decimal(0)) for day in history.daily_by_resource.values()])
        )
        for key in keys
    }


def find_anomalies(
    spend: Spend,
    history: Spend | None,
    baseline: Baseline,
    *,
    names: Mapping[str, str],
    top: int = 3,
) -> list[Anomaly]:
    """The report period's days above ``baseline``, each with its top contributors."""
    if baseline.limit is None:
        return []
    usual = _usual(history)
    found: list[Anomaly] = []
    for day, total in spend.day_totals().items():
        if total <= baseline.limit:
            continue
        contributors = sorted(
            (
                Contributor(key, names.get(key, key), amount, usual.get(key, Decimal(0)))
                for key, amount in spend.daily_by_resource[day].items()
            ),
            key=lambda c: (-c.extra, c.name),
        )
        found.append(Anomaly(day, total, baseline, [c for c in contributors if c.extra > 0][:top]))
    return found
