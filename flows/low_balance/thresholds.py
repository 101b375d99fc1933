"""Alert thresholds on the balance (money) and on the runway (hours), and the level they give.

A threshold fires when the value is strictly *below* it; the run's level is the worst
severity among those that fire (a balance at or below zero is always critical: B6 stops
every instance then). Left out, each list takes the defaults for the account currency:

========  =======================  =======================
currency  balance warning below    balance critical below
========  =======================  =======================
USD       50                       10
EUR       50                       10
INR       5000                     1000
========  =======================  =======================

and, for every currency, runway warning below 72 h and critical below 24 h.

Why these figures:

* The runway is the signal that scales with the fleet: 72 h is a weekend (an alert on
  Friday evening still leaves Monday), 24 h is a working day to top up before B6 stops
  everything at zero.
* The balance floor catches what the runway cannot: a small or idle fleet whose runway is
  long, but whose balance nears the A3 minimum needed to create or restore anything
  (USD/EUR 1.00, INR 100). USD 10 is ten times that minimum and about four hours of one
  H100; USD 50 is ten minimum top-ups. EUR prices and minimums are within 10 % of USD,
  so the same figures serve.
* INR figures are 100x: Barrack scales its INR amounts about 100x (minimum balance 1.00 ->
  100.00, hibernation 0.01 -> 1.00 per hour, GPU prices 89-100x), so 100x keeps the
  thresholds at the same hours of GPU time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from itertools import pairwise
from typing import Final

from pydantic import Field, field_validator

from barrack.models import RequestModel
from notifications.alerts import Severity

__all__ = [
    "DEFAULT_BALANCE_THRESHOLDS",
    "DEFAULT_RUNWAY_THRESHOLDS",
    "Assessment",
    "BalanceThreshold",
    "Crossing",
    "RunwayThreshold",
    "Thresholds",
    "assess",
    "top_up_to_clear",
]


class BalanceThreshold(RequestModel):
    """Fire at ``severity`` when the balance is below ``below`` (account currency)."""

    below: Decimal = Field(gt=0, description="Balance in the account currency, e.g. 50.")
    severity: Severity = Field(description="info, warning or critical.")


class RunwayThreshold(RequestModel):
    """Fire at ``severity`` when the runway is below ``below_hours``."""

    below_hours: Decimal = Field(gt=0, description="Runway in hours, e.g. 24.")
    severity: Severity = Field(description="info, warning or critical.")


DEFAULT_BALANCE_THRESHOLDS: Final[dict[str, tuple[BalanceThreshold, ...]]] = {
    currency: (
        BalanceThreshold(below=Decimal(warning), severity=Severity.WARNING),
        BalanceThreshold(below=Decimal(critical), severity=Severity.CRITICAL),
    )
    for currency, warning, critical in (
        ("USD", "50", "10"),
        ("EUR", "50", "10"),
        ("INR", "5000", "1000"),
    )
}
"""Balance thresholds per currency (the module docstring says why)."""

DEFAULT_RUNWAY_THRESHOLDS: Final[tuple[RunwayThreshold, ...]] = (
    RunwayThreshold(below_hours=Decimal(72), severity=Severity.WARNING),
    RunwayThreshold(below_hours=Decimal(24), severity=Severity.CRITICAL),
)
"""Runway thresholds, the same in every currency."""

TOP_UP_MARGIN_HOURS: Final = Decimal(24)
"""A suggested top-up keeps every threshold clear for this long at the current burn."""


def _check_monotone(values: Sequence[tuple[Decimal, Severity]], field: str) -> None:
    """A lower threshold must not be milder than a higher one, and no value twice."""
    ordered = sorted(values, key=lambda pair: pair[0], reverse=True)
    for (high, high_severity), (low, low_severity) in pairwise(ordered):
        if high == low:
            raise ValueError(f"{field}: {low} appears twice")
        if low_severity < high_severity:
            raise ValueError(
                f"{field}: below {low} is {low_severity.value} but below {high} is "
                f"{high_severity.value}; a lower value must not be milder"
            )


class Thresholds(RequestModel):
    """The thresholds of a run; a list left empty (None) takes the currency's defaults.

    An explicit empty list switches that kind of threshold off.
    """

    balance: list[BalanceThreshold] | None = Field(
        default=None,
        description="Balance thresholds; empty means the defaults for the account currency.",
    )
    runway: list[RunwayThreshold] | None = Field(
        default=None, description="Runway thresholds; empty means 72 h warning, 24 h critical."
    )

    @field_validator("balance")
    @classmethod
    def _balance_ordered(
        cls, value: list[BalanceThreshold] | None
    ) -> list[BalanceThreshold] | None:
        if value is not None:
            _check_monotone([(t.below, t.severity) for t in value], "thresholds.balance")
        return value

    @field_validator("runway")
    @classmethod
    def _runway_ordered(cls, value: list[RunwayThreshold] | None) -> list[RunwayThreshold] | None:
        if value is not None:
            _check_monotone([(t.below_hours, t.severity) for t in value], "thresholds.runway")
        return value

    def balance_for(self, currency: str) -> tuple[BalanceThreshold, ...]:
        """The balance thresholds in force for ``currency`` (none for an unknown currency)."""
        if self.balance is not None:
            return tuple(self.balance)
        return DEFAULT_BALANCE_THRESHOLDS.get(currency, ())

    def runway_for(self) -> tuple[RunwayThreshold, ...]:
        """The runway thresholds in force."""
        return tuple(self.runway) if self.runway is not None else DEFAULT_RUNWAY_THRESHOLDS

    def describe(self, currency: str) -> list[str]:
        """One line per threshold in force, e.g. ``runway below 24 h: critical``."""
        lines = [
            f"balance below {currency} {t.below}: {t.severity.value}"
            for t in sorted(self.balance_for(currency), key=lambda t: t.below, reverse=True)
        ]
        lines += [
            f"runway below {t.below_hours} h: {t.severity.value}"
            for t in sorted(self.runway_for(), key=lambda t: t.below_hours, reverse=True)
        ]
        if not self.balance_for(currency) and self.balance is None:
            lines.append(f"no default balance thresholds for {currency}: set them explicitly")
        return lines


@dataclass(frozen=True, slots=True)
class Crossing:
    """One threshold that fired."""

    measure: str
    severity: Severity
    text: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """The thresholds that fired and the level they give (None: all clear)."""

    crossings: tuple[Crossing, ...]

    @property
    def severity(self) -> Severity | None:
        """The worst severity that fired, or None."""
        return max((c.severity for c in self.crossings), default=None)

    def severity_of(self, measure: str) -> Severity | None:
        """The worst severity among the crossings of one measure (balance or runway)."""
        return max((c.severity for c in self.crossings if c.measure == measure), default=None)


def assess(
    *, balance: Decimal, runway_hours: Decimal | None, currency: str, thresholds: Thresholds
) -> Assessment:
    """Which thresholds fire for this balance and runway.

    Args:
        balance: the balance, exact.
        runway_hours: hours left at the burn the runway uses; None when nothing burns.
        currency: the account currency (picks the default balance thresholds).
        thresholds: the thresholds of the run.

    Example:
        >>> assess(balance=Decimal("8"), runway_hours=Decimal("30"), currency="USD",
        ...        thresholds=Thresholds()).severity
        <Severity.CRITICAL: 'critical'>
    """
    crossings: list[Crossing] = []
    if balance <= 0:
        crossings.append(
            Crossing("balance", Severity.CRITICAL, "balance exhausted: instances are stopped")
        )
    for bt in thresholds.balance_for(currency):
        if balance < bt.below:
            crossings.append(
                Crossing("balance", bt.severity, f"balance below {currency} {bt.below}")
            )
    if runway_hours is not None:
        for rt in thresholds.runway_for():
            if runway_hours < rt.below_hours:
                crossings.append(
                    Crossing("runway", rt.severity, f"runway below {rt.below_hours} h")
                )
    return Assessment(tuple(crossings))


def top_up_to_clear(
    *,
    balance: Decimal,
    burn_per_hour: Decimal,
    currency: str,
    thresholds: Thresholds,
    margin_hours: Decimal = TOP_UP_MARGIN_HOURS,
) -> Decimal:
    """The smallest whole-unit top-up after which no threshold fires for ``margin_hours``.

    Clearing a threshold only just would resolve the alert and raise it again within
    the hour; the margin keeps it clear for a day at this burn.

    Example:
        >>> top_up_to_clear(balance=Decimal("30"), burn_per_hour=Decimal("2"),
        ...                 currency="USD", thresholds=Thresholds())
        Decimal('162')
    """
    spent = burn_per_hour * margin_hours
    needed = Decimal(0)
    for bt in thresholds.balance_for(currency):
        needed = max(needed, bt.below + spent - balance)
    if burn_per_hour > 0:
        for rt in thresholds.runway_for():
            needed = max(needed, burn_per_hour * (rt.below_hours + margin_hours) - balance)
    if balance + needed <= 0:
        # Exactly zero still counts as exhausted: the smallest unit above it.
        needed = -balance + 1
    return needed.to_integral_value(rounding=ROUND_CEILING)
