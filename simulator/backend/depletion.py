"""Credit depletion (B6): stop at zero, delete after a day at or below zero.

The ledger says when the posted balance will reach zero at the current burn; this service
keeps one event at that minute and moves it whenever a rate or the balance changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from simulator.backend._service import Service
from simulator.events import Event

if TYPE_CHECKING:
    from simulator.backend import Backend

__all__ = ["DepletionService"]


class DepletionService(Service):
    """Watches the balance and applies B6 when it runs out."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.depleted_since: datetime | None = None
        self.paused = False
        self._crossing: Event | None = None
        self._deadline: Event | None = None

    def reset(self) -> None:
        """Forget depletion (a new world)."""
        self.depleted_since = None
        self._crossing = None
        self._deadline = None

    def blocks_running(self) -> bool:
        """True while instances must not run (depleted and stopping is on)."""
        return self.depleted_since is not None and self.w.settings.depletion_stop

    def rates_changed(self) -> None:
        """Re-plan the zero crossing after a rate or the balance changed."""
        if self.paused:
            return
        if self._crossing is not None:
            self._crossing.cancel()
            self._crossing = None
        ledger = self.w.ledger
        if self.depleted_since is not None:
            if not ledger.depleted():
                self._recover()
            else:
                return
        if ledger.depleted():
            self._on_crossing(self.w.now)
            return
        when = ledger.zero_crossing()
        if when is not None:
            self._crossing = self.w.events.schedule(when, self._on_crossing, "balance zero")

    def _on_crossing(self, at: datetime) -> None:
        ledger = self.w.ledger
        ledger.post(at)
        if not ledger.depleted():
            self.rates_changed()
            return
        if self.depleted_since is not None:
            return
        self.depleted_since = at
        settings = self.w.settings
        if settings.depletion_stop:
            instances = self.backend.instances
            for instance in list(self.w.state.instances.select(status="ACTIVE")):
                instances.set_status(instance, "SHUTOFF", at)
        hours = settings.depletion_delete_after_hours
        if hours is not None:
            self._deadline = self.w.events.schedule(
                at + timedelta(hours=hours), self._on_deadline, "depletion deadline"
            )

    def _on_deadline(self, at: datetime) -> None:
        self._deadline = None
        ledger = self.w.ledger
        ledger.post(at)
        if self.depleted_since is None or not ledger.depleted():
            return
        instances = self.backend.instances
        for instance in list(self.w.state.instances.select()):
            instances.set_status(instance, "DELETED", at)

    def _recover(self) -> None:
        self.depleted_since = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
