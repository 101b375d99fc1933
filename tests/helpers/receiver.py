"""A notification receiver whose destinations can break: refuse posts, or answer slowly.

The demo's :class:`~barrack_ops.demo.receiver.NotificationReceiver` records every post;
the tests also need destinations that are up but broken (a 5xx) and ones that are slow
but never silent (a byte every few seconds), to hold delivery timeouts and failure
reports.
"""

from __future__ import annotations

import time
from http import HTTPStatus
from pathlib import Path

from barrack_ops.demo.receiver import NotificationReceiver, ReceiverHandler

__all__ = ["FaultyReceiver"]


class FaultyReceiver(NotificationReceiver):
    """A :class:`NotificationReceiver` with broken and trickling paths."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, jsonl_path: Path | None = None
    ) -> None:
        super().__init__(host, port, jsonl_path=jsonl_path)
        self._failing: dict[str, int] = {}
        self._trickling: dict[str, tuple[float, int]] = {}

    def fail_path(self, path: str, status: int = 500) -> None:
        """Answer posts to ``path`` with ``status`` (a destination that is up but broken)."""
        self._failing["/" + path.lstrip("/")] = status

    def trickle_path(self, path: str, *, every: float = 2.0, size: int = 85) -> None:
        """Record posts to ``path``, then answer ``size`` bytes, one every ``every`` seconds.

        A destination that is slow but never silent: each read gets a byte in time, so a
        per-read socket timeout never fires (85 bytes at 2 s: almost three minutes).
        """
        self._trickling["/" + path.lstrip("/")] = (every, size)

    def _refusal(self, path: str) -> int | None:
        return self._failing.get(path)

    def _reply(self, handler: ReceiverHandler, path: str) -> None:
        trickle = self._trickling.get(path)
        if trickle is None:
            super()._reply(handler, path)
            return
        every, size = trickle
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        try:
            for _ in range(size):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(every)
        except OSError:  # the sender gave up and closed the connection
            return
