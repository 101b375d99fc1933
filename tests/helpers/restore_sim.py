"""The restore recipe's simulator set-up: a scenario, and a clock ticker with a hook.

The hook runs before every tick, so a test can change the world at an exact point of an
instance's life (delete its snapshot while it is ``CREATING``; stop forcing errors once
it has failed) before the simulated clock moves on. Nothing depends on real timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

from simulator.testing import SimHandle

__all__ = ["SCENARIO", "START", "HookedTicker", "instances_named", "sim_instances"]

START: Final = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)

SCENARIO: Final = """
name: restore-tests
account: {currency: USD, balance: 500}
ssh_keys: [{name: ops}]
instances:
  - {name: train-h100, region: NORWAY-1, gpu_model: H100-SXM5-80GB, gpu_count: 2, age: 10d}
  - {name: notebook, region: CANADA-1, gpu_model: RTX-A6000, age: 5d}
  - {name: render-l40, region: US-1, gpu_model: L40, age: 3d}
  - {name: taken-name, region: US-1, gpu_model: A40, age: 2d}
  - {name: notebook-no1, region: NORWAY-1, gpu_model: L40, age: 1d}
snapshots:
  - {name: train-h100-old, instance: train-h100, age: 26h}
  - {name: train-h100-snap, instance: train-h100, age: 2h}
  - {name: train-h100-broken, instance: train-h100, age: 1h, status: ERROR}
  - {name: notebook-snap, instance: notebook, age: 1h}
"""
"""Two snapshotted instances (one H100 pair in NORWAY-1, one RTX-A6000 in CANADA-1), one
without snapshots, and two instances whose names collide with restore names."""


def sim_instances(sim: SimHandle) -> list[dict[str, Any]]:
    """Every instance the simulator lists (all pages)."""
    with sim.client() as client:
        return list(client.get("/instances/", params={"per_page": 100}).json()["instances"])


def instances_named(sim: SimHandle, name: str) -> list[dict[str, Any]]:
    """The listed instances called ``name`` (a duplicate would show as two)."""
    return [vm for vm in sim_instances(sim) if vm["name"] == name]


class HookedTicker:
    """Advance the simulated clock by ``step`` every ``interval``; call ``hook`` first.

    Args:
        sim: the simulator.
        hook: called before every tick (in the ticker thread); exceptions stop the ticker
            and are re-raised when the ``with`` block ends.
        step: simulated seconds per tick.
        interval: real seconds between ticks.
        limit: simulated seconds in all, at most. Generous: the ticker spends simulated
            time at a real-time pace, and late in a full suite Prefect's server (busy with
            the events of thousands of earlier task runs) is slow to start a run's tasks;
            with 6 hours the clock once stopped before a drill's restore began.
    """

    def __init__(
        self,
        sim: SimHandle,
        hook: Callable[[], None] | None = None,
        *,
        step: float = 30.0,
        interval: float = 0.01,
        limit: float = 48 * 3600,
    ) -> None:
        self._sim = sim
        self._hook = hook
        self._step = step
        self._interval = interval
        self._limit = limit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="restore-ticker", daemon=True)
        self.error: BaseException | None = None
        self.ticks = 0

    def _run(self) -> None:
        while not self._stop.wait(self._interval) and self.ticks * self._step < self._limit:
            try:
                if self._hook is not None:
                    self._hook()
                self._sim.advance(self._step)
            except Exception as exc:  # handed to the test when the block ends
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
        if self.error is not None and exc is None:
            raise self.error
