"""Simulated time: real, accelerated, or moved only by hand.

Every duration and every bill in the simulator reads :meth:`SimClock.now`. The clock is
anchored at a simulated start time; in ``real`` and ``accelerated`` mode simulated time
runs at ``speed`` times an injectable monotonic source (tests pass a fake one instead of
sleeping), and in ``manual`` mode it moves only through :meth:`SimClock.advance`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

__all__ = ["ClockMode", "MonotonicSource", "SimClock", "parse_clock_spec"]

MonotonicSource = Callable[[], float]
"""Seconds from an arbitrary origin that never go backwards (``time.monotonic``)."""


class ClockMode(StrEnum):
    """How simulated time moves."""

    REAL = "real"
    ACCELERATED = "accelerated"
    MANUAL = "manual"


def parse_clock_spec(spec: str | float) -> tuple[ClockMode, float]:
    """Read a ``--clock`` value: ``"manual"``, ``"real"`` or a speed such as ``60``.

    Returns:
        The mode and its speed (simulated seconds per real second; 0 for manual).

    Raises:
        ValueError: the value is none of those, or the speed is not positive.

    Example:
        >>> parse_clock_spec("60")
        (<ClockMode.ACCELERATED: 'accelerated'>, 60.0)
    """
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text == ClockMode.MANUAL:
            return ClockMode.MANUAL, 0.0
        if text == ClockMode.REAL:
            return ClockMode.REAL, 1.0
        try:
            speed = float(text)
        except ValueError:
            raise ValueError(
                f"clock must be 'manual', 'real' or a positive speed such as 60, got {spec!r}"
            ) from None
    else:
        speed = float(spec)
    if not speed > 0 or speed == float("inf"):
        raise ValueError(f"clock speed must be a positive number, got {spec!r}")
    if speed == 1.0:
        return ClockMode.REAL, 1.0
    return ClockMode.ACCELERATED, speed


def _wall_start() -> datetime:
    """Now, truncated to the whole minute, so runs line up with the per-minute billing."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


class SimClock:
    """The simulator's single source of "now".

    Args:
        mode: how time moves.
        speed: simulated seconds per real second (ignored in manual mode).
        start: simulated time at creation; defaults to the wall clock at the whole minute.
        monotonic: the real-time source for real and accelerated modes.
    """

    def __init__(
        self,
        mode: ClockMode = ClockMode.MANUAL,
        speed: float = 1.0,
        *,
        start: datetime | None = None,
        monotonic: MonotonicSource = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self.mode = mode
        self.speed = 0.0 if mode is ClockMode.MANUAL else speed
        self._anchor_sim = (start or _wall_start()).astimezone(UTC)
        self._anchor_real = monotonic()
        self.start = self._anchor_sim

    @classmethod
    def from_spec(
        cls,
        spec: str | float,
        *,
        start: datetime | None = None,
        monotonic: MonotonicSource = time.monotonic,
    ) -> SimClock:
        """Build a clock from a ``--clock`` value (see :func:`parse_clock_spec`)."""
        mode, speed = parse_clock_spec(spec)
        return cls(mode, speed, start=start, monotonic=monotonic)

    def now(self) -> datetime:
        """The current simulated time (UTC)."""
        if self.mode is ClockMode.MANUAL:
            return self._anchor_sim
        elapsed = (self._monotonic() - self._anchor_real) * self.speed
        return self._anchor_sim + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> datetime:
        """Move simulated time on by ``seconds`` (in any mode) and return the new now.

        Raises:
            ValueError: ``seconds`` is negative (time never goes back).
        """
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds}")
        self._anchor_sim = self.now() + timedelta(seconds=seconds)
        self._anchor_real = self._monotonic()
        return self._anchor_sim

    def restart(self, start: datetime) -> None:
        """Put the clock back at ``start`` (a scenario reset), keeping mode and speed."""
        self._anchor_sim = start.astimezone(UTC)
        self._anchor_real = self._monotonic()
        self.start = self._anchor_sim
