"""The request log behind ``GET /_sim/requests``."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Final

__all__ = ["LogEntry", "RequestLog"]

MAX_ENTRIES: Final = 10_000


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One API request as the simulator saw it.

    Attributes:
        request_id: the ``X-Request-Id`` it was given.
        method: HTTP method.
        path: path, without the query.
        query: the query string.
        status: the status sent (or that would have been sent, for a drop).
        time: simulated time when it was handled (RFC 3339).
        idempotency_key: its ``Idempotency-Key`` header, if any.
        replayed: answered from the idempotency cache.
        fault: the injected fault: ``error``, ``burst_429``, ``drop`` or None.
        latency_ms: injected latency.
        body_keys: the top-level keys of the JSON answer, in order (``success``,
            ``message``, ``request_id`` and the payload key, or the flat fields), so a
            test can see what each answer carried its payload under; empty when the body
            is not a JSON object.
    """

    request_id: str
    method: str
    path: str
    query: str
    status: int
    time: str
    idempotency_key: str | None = None
    replayed: bool = False
    fault: str | None = None
    latency_ms: float = 0.0
    body_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object."""
        return asdict(self)


class RequestLog:
    """The last :data:`MAX_ENTRIES` API requests, oldest first."""

    def __init__(self) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=MAX_ENTRIES)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, entry: LogEntry) -> None:
        """Record a request."""
        self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        """Every recorded request, oldest first."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget every request."""
        self._entries.clear()
