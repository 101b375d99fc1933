"""The simulated Barrack account: every rule, all state, driven by the clock.

The HTTP layer parses requests, calls these services and serialises what they return;
it decides nothing. Before each request it calls :meth:`Backend.sync`, which runs every
transition and bill due up to the clock's now, in time order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from simulator.backend.account import AccountService, CatalogService
from simulator.backend.ai import AIService
from simulator.backend.depletion import DepletionService
from simulator.backend.firewalls import FirewallService
from simulator.backend.images import ImageService
from simulator.backend.instances import InstanceService
from simulator.backend.keys_scripts import ScriptService, SSHKeyService
from simulator.backend.snapshots import SnapshotService
from simulator.backend.volumes import VolumeService
from simulator.backend.world import World
from simulator.billing import Ledger
from simulator.clock import SimClock
from simulator.ids import IdFactory
from simulator.scenarios.loader import load_scenario
from simulator.scenarios.spec import ScenarioError, ScenarioSpec
from simulator.settings import SimSettings
from simulator.stores import State

__all__ = ["Backend", "World"]


class Backend:
    """One simulated account, loaded from a scenario.

    Args:
        scenario: the starting state.
        seed: fixes ids, durations and every random draw.
        clock: simulated time; its start is where every scenario (re)starts.
        settings: behaviour switches (copied; ``reset`` goes back to them).
    """

    def __init__(
        self,
        scenario: ScenarioSpec,
        seed: int,
        clock: SimClock,
        settings: SimSettings | None = None,
    ) -> None:
        self.clock = clock
        self.start = clock.start
        self.initial_settings = (settings or SimSettings()).model_copy(deep=True)
        self.account = AccountService(self)
        self.catalog = CatalogService(self)
        self.instances = InstanceService(self)
        self.snapshots = SnapshotService(self)
        self.images = ImageService(self)
        self.volumes = VolumeService(self)
        self.firewalls = FirewallService(self)
        self.ssh_keys = SSHKeyService(self)
        self.scripts = ScriptService(self)
        self.ai = AIService(self)
        self.depletion = DepletionService(self)
        self.scenario = scenario
        self.seed = seed
        self.world = self._new_world(seed)
        self._load(scenario, seed)

    def _new_world(self, seed: int) -> World:
        self.clock.restart(self.start)
        return World(
            seed=seed,
            clock=self.clock,
            state=State(),
            ledger=Ledger(balance=Decimal(0), start=self.start),
            ids=IdFactory(seed),
            settings=self.initial_settings.model_copy(deep=True),
        )

    def load(self, scenario: ScenarioSpec, seed: int) -> None:
        """Start over from ``scenario`` with ``seed``, the clock back at the start.

        Raises:
            ScenarioError: the scenario contradicts itself; the previous scenario is
                reloaded from its start.
        """
        try:
            self._load(scenario, seed)
        except ValueError as exc:
            if scenario is not self.scenario:
                self._load(self.scenario, self.seed)
            raise ScenarioError(str(exc)) from None
        self.scenario, self.seed = scenario, seed

    def _load(self, scenario: ScenarioSpec, seed: int) -> None:
        self.world = self._new_world(seed)
        self.depletion.reset()
        # The opening balance is set last, so depletion waits until the world is whole.
        self.depletion.paused = True
        try:
            load_scenario(self, scenario)
        finally:
            self.depletion.paused = False
        self.depletion.rates_changed()

    def reset(self) -> None:
        """Back to the loaded scenario's initial state (same seed, same ids)."""
        self.load(self.scenario, self.seed)

    def sync(self) -> datetime:
        """Run every transition and bill due up to now, in time order; return now."""
        world = self.world
        now = self.clock.now()
        if now < world.now:
            now = world.now
        events = world.events
        while (event := events.pop_due(now)) is not None:
            world.now = event.when
            event.action(event.when)
        world.now = now
        return now

    def advance(self, seconds: float) -> datetime:
        """Move simulated time on and run everything due on the way."""
        self.sync()
        self.clock.advance(seconds)
        return self.sync()

    @property
    def settings(self) -> SimSettings:
        """The behaviour switches in force."""
        return self.world.settings
