"""Whether a critical runway is evidence enough to act on: the protective plan's second look.

Hibernating production on a misreading is costly, so the plan acts only on evidence that
survives a second look. The fleet model is that evidence on its own (it prices what is
running now, so it cannot be fooled by money already spent); a runway that is critical
only because of the balance history must have been critical at the previous run too,
recomputed from the stored samples as that run saw them:

| runway critical | on the fleet model alone | at the previous run | the plan       |
|-----------------|--------------------------|---------------------|----------------|
| no              |                          |                     | not made       |
| yes             | yes                      | (any)               | may act        |
| yes             | no                       | yes                 | may act        |
| yes             | no                       | no, or no such run  | held, reported |

A held plan is reported with its steps; the next run acts if its reading confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from flows.common.runway import compute_runway
from flows.low_balance.history import BalanceSample, MeasuredBurn
from flows.low_balance.runway import runway_burn
from flows.low_balance.thresholds import Thresholds, assess
from notifications.alerts import Severity

__all__ = ["ProtectionEvidence", "protection_evidence", "runway_critical"]

_ANY_TIME: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""Only the runway's hours are read here, never its depletion time."""


@dataclass(frozen=True, slots=True)
class ProtectionEvidence:
    """Whether the protective plan may act, and why in words."""

    confirmed: bool
    reason: str


def runway_critical(
    *, balance: Decimal, burn_per_hour: Decimal, currency: str, thresholds: Thresholds
) -> bool:
    """True when a critical runway threshold fires for this balance and burn."""
    hours = compute_runway(balance, burn_per_hour, _ANY_TIME, "").hours
    result = assess(balance=balance, runway_hours=hours, currency=currency, thresholds=thresholds)
    return result.severity_of("runway") is Severity.CRITICAL


def protection_evidence(
    *,
    critical: bool,
    fleet_critical: bool,
    previous: tuple[BalanceSample, MeasuredBurn] | None,
    currency: str,
    thresholds: Thresholds,
) -> ProtectionEvidence:
    """The second look (see the module docstring).

    Args:
        critical: whether the runway of this run is critical.
        fleet_critical: whether it is critical at the fleet model's burn alone.
        previous: the previous run's sample and the burn measured as of it.
        currency: the account currency (for the thresholds).
        thresholds: the thresholds of this run, applied to the previous reading too.
    """
    if not critical:
        return ProtectionEvidence(False, "runway not critical")
    if fleet_critical:
        return ProtectionEvidence(True, "critical on the fleet model alone")
    if previous is not None:
        sample, measured = previous
        burn, _ = runway_burn(sample.modelled_burn, measured)
        if runway_critical(
            balance=sample.balance, burn_per_hour=burn, currency=currency, thresholds=thresholds
        ):
            return ProtectionEvidence(
                True,
                "critical on the measured burn at this run and at the previous one "
                f"({sample.at:%Y-%m-%d %H:%M} UTC)",
            )
    return ProtectionEvidence(
        False,
        "critical only with the measured burn, and only at this run: held for a second "
        "look at the next run",
    )
