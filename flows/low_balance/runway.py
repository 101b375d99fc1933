"""Runway: how long the balance lasts at the burn, and when it reaches zero.

The burn the runway uses is the *worse* of two readings:

* the fleet model (what is running now, priced), which follows a change of the fleet at
  once (an instance hibernated a minute ago no longer counts);
* the fleet model plus what the balance history shows it misses (``measured - modelled``
  over the measurement window: AI usage, a price the model does not know).

Taking the raw measured burn instead would lag: after a fleet change it keeps the old
rate for a whole window, so a hibernation would not lift the alert (or, worse, the
protective plan would act again on a burn that is already gone). A difference within
1 % of the burn is noise (posting steps, rounding) and is not added.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from flows.low_balance.history import MeasuredBurn

__all__ = ["NOISE_FRACTION", "runway_burn"]

NOISE_FRACTION: Final = Decimal("0.01")
"""A gap between measured and modelled burn under 1 % of the burn is noise."""


def runway_burn(fleet_per_hour: Decimal, measured: MeasuredBurn) -> tuple[Decimal, str]:
    """The burn the runway uses, and its basis in words (see the module docstring)."""
    unmodelled = measured.unmodelled_per_hour
    if unmodelled is None:
        return fleet_per_hour, "fleet model (no measured burn yet)"
    assert measured.per_hour is not None  # unmodelled implies a measurement
    scale = max(fleet_per_hour, measured.per_hour)
    if unmodelled <= scale * NOISE_FRACTION:
        return fleet_per_hour, "fleet model (it accounts for the measured burn)"
    return (
        fleet_per_hour + unmodelled,
        f"fleet model + {unmodelled.quantize(Decimal('0.0001'))}/h the balance history "
        "shows it misses",
    )
