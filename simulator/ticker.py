"""Keep a manual simulator clock moving while a recipe runs (the demo and the tests).

A recipe that waits for snapshots or instances polls in real time; against a simulator
whose clock only moves by hand it would wait forever. A :class:`ClockTicker` advances the
simulated clock by ``step`` seconds every ``interval`` real seconds, through the
simulator's control route, until stopped.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Protocol, Self

__all__ = ["Advancer", "ClockTicker"]


class Advancer(Protocol):
    """Anything that moves a simulated clock (``SimControl.advance``)."""

    def advance(self, seconds: float | str) -> object: ...


class ClockTicker:
    """Advance a simulated clock in the background: ``with ClockTicker(sim, step=60): ...``.

    Args:
        sim: what advances the clock.
        step: simulated seconds per tick.
        interval: real seconds between ticks.
    """

    def __init__(self, sim: Advancer, *, step: float = 30.0, interval: float = 0.05) -> None:
        if step <= 0 or interval <= 0:
            raise ValueError("step and interval must be positive")
        self._sim = sim
        self._step = step
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-clock-ticker", daemon=True)
        self.ticks = 0
        self.error: BaseException | None = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._sim.advance(self._step)
            except Exception as exc:  # keep the failure for the caller; stop ticking
                self.error = exc
                return
            self.ticks += 1

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
