"""Runway: how long a balance lasts at a burn, and when it reaches zero.

One rule for every recipe: the low-balance alert and the restore credit guard both ask
:func:`compute_runway`, with a burn from the shared fleet model (:mod:`flows.common.burn`),
so they cannot disagree about one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Final

__all__ = ["HORIZON", "Runway", "compute_runway"]

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
