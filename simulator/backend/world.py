"""What every backend service shares: state, ledger, clock, events, ids, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from simulator.billing import Ledger
from simulator.clock import SimClock
from simulator.events import EventQueue
from simulator.ids import IdFactory
from simulator.settings import SimSettings
from simulator.stores import State

__all__ = ["World"]


@dataclass(slots=True)
class World:
    """The shared context of one simulated account.

    Attributes:
        seed: the run's seed (ids, durations, draws).
        clock: simulated time.
        state: the stores.
        ledger: meters and balance.
        events: what is due later.
        ids: the id stream.
        settings: behaviour switches.
        now: the simulated time being processed (an event's time while it runs).
    """

    seed: int
    clock: SimClock
    state: State
    ledger: Ledger
    ids: IdFactory
    settings: SimSettings
    events: EventQueue = field(default_factory=EventQueue)
    now: datetime = field(init=False)
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.now = self.clock.now()

    @property
    def currency(self) -> str:
        """The account currency."""
        return self.state.account.currency

    def next_number(self, name: str) -> int:
        """A per-run counter (IP addresses, device letters)."""
        value = self.counters.get(name, 0) + 1
        self.counters[name] = value
        return value

    def balance(self) -> Decimal:
        """The posted balance now."""
        return self.ledger.balance(self.now)
