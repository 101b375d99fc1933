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

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Final

from flows.low_balance.history import MeasuredBurn

__all__ = ["Runway", "compute_runway", "runway_burn"]

NOISE_FRACTION: Final = Decimal("0.01")
HORIZON: Final = timedelta(days=3650)
"""Beyond ten years a depletion time means nothing; it is reported as none."""
_HORIZON_SECONDS: Final = Decimal(int(HORIZON.total_seconds()))


@dataclass(frozen=True, slots=True)
class Runway:
    """How long the balance lasts.

    Attributes:
        balance: the balance, exact.
        burn_per_hour: the burn the runway is computed at.
        basis: which reading that burn is, in words.
        hours: hours left (exact Decimal); None when nothing burns; 0 when depleted.
        depletion_at: when the balance reaches zero; None when never (or beyond ten years).
    """

    balance: Decimal
    burn_per_hour: Decimal
    basis: str
    hours: Decimal | None
    depletion_at: datetime | None

    @property
    def duration(self) -> timedelta | None:
        """The runway as a duration (whole seconds, rounded up), None when unbounded."""
        if self.hours is None:
            return None
        seconds = (self.hours * 3600).to_integral_value(rounding=ROUND_CEILING)
        if seconds >= _HORIZON_SECONDS:
            return HORIZON
        return timedelta(seconds=int(seconds))


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


def compute_runway(balance: Decimal, burn_per_hour: Decimal, now: datetime, basis: str) -> Runway:
    """The runway of ``balance`` at ``burn_per_hour`` from ``now``.

    Example:
        >>> from datetime import UTC
        >>> r = compute_runway(Decimal("100"), Decimal("4"), datetime(2025, 5, 1, tzinfo=UTC), "x")
        >>> r.hours, r.depletion_at.isoformat()
        (Decimal('25'), '2025-05-02T01:00:00+00:00')
    """
    if burn_per_hour < 0:
        raise ValueError(f"burn_per_hour: must not be negative, got {burn_per_hour}")
    if balance <= 0:
        return Runway(balance, burn_per_hour, basis, Decimal(0), now)
    if burn_per_hour == 0:
        return Runway(balance, burn_per_hour, basis, None, None)
    hours = balance / burn_per_hour
    runway = Runway(balance, burn_per_hour, basis, hours, None)
    duration = runway.duration
    assert duration is not None
    if duration >= HORIZON:
        return runway
    return Runway(balance, burn_per_hour, basis, hours, now + duration)
