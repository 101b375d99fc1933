"""Runway: how long the balance lasts at the burn, and when it reaches zero.

The burn the runway uses is the fleet model (what is running now, priced) plus the
*lasting* unmodelled burn of the balance history (:mod:`flows.low_balance.unmodelled`):

| the balance history shows                               | the runway's burn            |
|---------------------------------------------------------|------------------------------|
| nothing yet (too few samples or intervals)              | fleet model                  |
| what the model says, within 1 % (posting steps)         | fleet model                  |
| an unmodelled charge in each of the last 3 intervals    | fleet model + the smallest   |
| a burst in one or two intervals (spent once)            | fleet model; the burst is    |
|                                                         | reported as spent            |

Not the raw measured burn: it lags a fleet change by a whole window (a hibernation would
not lift the alert, and the protective plan would act again on money no longer being
spent), and a one-off spend between two samples would read as a lasting burn for hours.
"""

from __future__ import annotations

from decimal import Decimal

from flows.low_balance.history import MeasuredBurn
from flows.low_balance.unmodelled import NOISE_FRACTION, PERSISTENT_INTERVALS
from notifications.text import format_decimal

__all__ = ["NOISE_FRACTION", "runway_burn"]


def runway_burn(fleet_per_hour: Decimal, measured: MeasuredBurn) -> tuple[Decimal, str]:
    """The burn the runway uses, and its basis in words (see the module docstring)."""
    split = measured.unmodelled
    if split is None:
        return fleet_per_hour, "fleet model (no measured burn yet)"
    lasting = split.lasting_per_hour
    spent = (
        f"; {format_decimal(split.spent, places=2)} spent once between samples, not a burn"
        if split.spent_intervals
        else ""
    )
    if lasting is None:
        return fleet_per_hour, (
            f"fleet model (too few sample intervals ({split.intervals} of "
            f"{PERSISTENT_INTERVALS}) yet to tell a lasting unmodelled burn{spent})"
        )
    if lasting <= max(fleet_per_hour, lasting) * NOISE_FRACTION:
        return fleet_per_hour, f"fleet model (it accounts for the measured burn{spent})"
    return (
        fleet_per_hour + lasting,
        f"fleet model + {format_decimal(lasting, places=4)}/h the balance history "
        f"shows it misses in each of the last intervals{spent}",
    )
