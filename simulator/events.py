"""Timed events: what the backend has promised to do later (finish a deploy, post a bill).

Events run strictly in time order, ties in the order they were scheduled, whether time
moved in one big jump (``/_sim/clock/advance``) or in many small steps (a request every
second under a real clock), so a scenario plays out the same either way.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Event", "EventQueue"]

Action = Callable[[datetime], None]


@dataclass(order=True, slots=True)
class Event:
    """One scheduled action; cancel it by setting ``cancelled``."""

    when: datetime
    seq: int
    action: Action = field(compare=False)
    label: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        """Do not run this event."""
        self.cancelled = True


class EventQueue:
    """A heap of events, run up to a time with :meth:`run_until`."""

    def __init__(self) -> None:
        self._heap: list[Event] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, when: datetime, action: Action, label: str = "") -> Event:
        """Run ``action(when)`` once simulated time reaches ``when``."""
        event = Event(when, next(self._seq), action, label)
        heapq.heappush(self._heap, event)
        return event

    def next_time(self) -> datetime | None:
        """When the earliest pending event is due, or None."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    def pop_due(self, until: datetime) -> Event | None:
        """The earliest live event due at or before ``until``, removed from the queue."""
        heap = self._heap
        while heap and heap[0].when <= until:
            event = heapq.heappop(heap)
            if not event.cancelled:
                return event
        return None

    def clear(self) -> None:
        """Drop every pending event."""
        self._heap.clear()
