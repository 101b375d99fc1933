"""The benchmark's view of the request log (the control client is
:class:`simulator.control.SimControl`).

The request log keeps the last 10,000 requests, fewer than a 5,000-instance nightly run
makes, so a :class:`RequestCollector` reads it every few seconds while a recipe runs and
keeps each request once (by its request id, a counter). A read that comes back full and
shares no request with the reads before may have missed some: the collector reports it
rather than hide it.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Self

from simulator.control import SimControl
from simulator.requestlog import MAX_ENTRIES

__all__ = ["RequestCollector", "Spans", "route_of"]

Spans = dict[str, tuple[float, float]]
"""Per route, its first and last request in real seconds after the run's first request."""

_ID_SEGMENT: Final = re.compile(r"^(BRK|snap|img|vol|fw|key|scr|rule|net|ai)-[A-Za-z0-9]+$")
"""Path segments that are resource ids (``simulator/ids.py``), folded into ``{id}``."""


def route_of(method: str, path: str) -> str:
    """A request's route with ids folded: ``DELETE /api/snapshots/{id}/``."""
    parts = ["{id}" if _ID_SEGMENT.match(part) else part for part in path.split("/")]
    return f"{method} {'/'.join(parts)}"


class RequestCollector:
    """Read the request log in the background and keep every request once.

    ``with RequestCollector(control) as log: ...`` clears the log first; after the block
    :attr:`by_route` counts the requests by route and status class.
    """

    def __init__(self, control: SimControl, *, interval: float = 5.0) -> None:
        self._control = control
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[int, dict[str, Any]] = {}
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)
        self.error: Exception | None = None
        self.overflowed = False

    def __enter__(self) -> Self:
        self._control.clear_requests()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._collect()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._collect()
            except Exception as error:  # a failed read is retried at the next tick
                self.error = error

    def _collect(self) -> None:
        entries = self._control.requests()
        with self._lock:
            ids = [int(e["request_id"].removeprefix("req-")) for e in entries]
            if len(entries) >= MAX_ENTRIES and not any(i in self._seen for i in ids):
                self.overflowed = True
            for entry in entries:
                self._seen[int(entry["request_id"].removeprefix("req-"))] = entry

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Every request seen, in order."""
        with self._lock:
            return [self._seen[k] for k in sorted(self._seen)]

    def spans(self, speed: float) -> Spans:
        """Per route, its first and last request in real seconds after the run's first.

        The log stamps simulated time; ``speed`` turns it back into real seconds.
        """
        entries = self.entries
        if not entries:
            return {}
        origin = datetime.fromisoformat(entries[0]["time"])
        spans: Spans = {}
        for entry in entries:
            at = (datetime.fromisoformat(entry["time"]) - origin).total_seconds() / speed
            route = _label(entry)
            first, _ = spans.get(route, (at, at))
            spans[route] = (first, at)
        return spans

    def by_route(self) -> Counter[str]:
        """Requests per route; answers other than 2xx are counted apart by status."""
        return Counter(_label(entry) for entry in self.entries)


def _label(entry: dict[str, Any]) -> str:
    route = route_of(entry["method"], entry["path"])
    status = int(entry["status"])
    return route if status < 400 else f"{route} -> {status}"
