"""The physical floor of a recipe run: the calls it cannot avoid, at the API's rate limit.

``floor = calls needed / rate limit + unavoidable wait``. "Calls needed" is the least a
correct run can make (every page of every listing it must read once, one call per action,
one status look per page of what it waits for), computed from the scenario, never from
what the measured run did, so a wasteful run cannot raise its own floor. The wait is the
part of the critical path no ordering of the calls can hide (for the nightly recipe: the
time the fastest of tonight's snapshots takes to become ready, at the clock speed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Floor", "pages"]

PER_PAGE = 100
"""The largest page the API serves; every listing in the product reads pages of 100."""


def pages(items: int, per_page: int = PER_PAGE) -> int:
    """Pages to read ``items`` items (an empty listing is still one call).

    >>> pages(0), pages(100), pages(101)
    (1, 1, 2)
    """
    if items < 0:
        raise ValueError(f"items: must not be negative, got {items}")
    return max(1, math.ceil(items / per_page))


@dataclass(frozen=True, slots=True)
class Floor:
    """The least time a run can take.

    Attributes:
        calls: the calls needed, by what they are for.
        rate_limit: the API's requests per second (0: unlimited).
        waits: the unavoidable waits on the critical path, real seconds, by what for.
        latency_s: the per-call latency; with no rate limit the calls cost at least one
            latency each on the critical path of dependent steps.
        serial_steps: dependent steps that cannot overlap (each at least one latency).
    """

    calls: dict[str, int] = field(default_factory=dict)
    rate_limit: float = 20.0
    waits: dict[str, float] = field(default_factory=dict)
    latency_s: float = 0.0
    serial_steps: int = 1

    @property
    def total_calls(self) -> int:
        """Every call needed."""
        return sum(self.calls.values())

    @property
    def wait_s(self) -> float:
        """Every unavoidable wait."""
        return sum(self.waits.values())

    @property
    def seconds(self) -> float:
        """``calls / rate + wait``, and never less than the serial steps' latency."""
        by_rate = self.total_calls / self.rate_limit if self.rate_limit > 0 else 0.0
        return max(by_rate, self.serial_steps * self.latency_s) + self.wait_s
