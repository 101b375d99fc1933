"""``Idempotency-Key`` replay (B1): a repeated POST gets the first response back."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["IdempotencyCache", "StoredResponse"]

IdempotencyKey = tuple[str, str, str, str]
"""(API key, method, path, Idempotency-Key)."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response kept for replay."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    stored_at: datetime


class IdempotencyCache:
    """First responses by key, for ``ttl`` of simulated time.

    A request whose twin is still running waits for it (:meth:`wait`), so two
    concurrent retries cannot both make the change.
    """

    def __init__(self) -> None:
        self._entries: dict[IdempotencyKey, StoredResponse] = {}
        self._running: dict[IdempotencyKey, asyncio.Event] = {}

    def clear(self) -> None:
        """Forget every key."""
        self._entries.clear()

    def lookup(self, key: IdempotencyKey, now: datetime, ttl: timedelta) -> StoredResponse | None:
        """The stored response of ``key``, if it is younger than ``ttl``."""
        stored = self._entries.get(key)
        if stored is None:
            return None
        if now - stored.stored_at > ttl:
            del self._entries[key]
            return None
        return stored

    def running(self, key: IdempotencyKey) -> asyncio.Event | None:
        """The event of a request with this key still in progress, if any."""
        return self._running.get(key)

    def begin(self, key: IdempotencyKey) -> None:
        """Mark a request with this key as in progress."""
        self._running[key] = asyncio.Event()

    def end(self, key: IdempotencyKey, response: StoredResponse | None) -> None:
        """Store the response (None: not replayable) and wake any waiting twin."""
        if response is not None:
            self._entries[key] = response
        event = self._running.pop(key, None)
        if event is not None:
            event.set()
