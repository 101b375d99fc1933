"""Run one of the async stores' coroutines from synchronous code.

The notifier is synchronous (apprise is, and Prefect calls its hooks from wherever the
run is): it reaches the async store through :func:`run_sync`. The coroutine runs on one
event loop kept in a daemon thread for the process, so a call costs a hand-over between
threads, not a new event loop (``asyncio.run`` per call made a ledger read take
milliseconds), and it works the same from a thread with a running loop (a sync hook of
an async flow), which cannot wait for itself. Context variables (the flow run) go along:
``call_soon_threadsafe`` runs the task in a copy of the caller's context. A forked child
gets its own loop thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _bridge_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="barrack-ops-state", daemon=True
            )
            thread.start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of ``coroutine``, run to completion from synchronous code."""
    loop = _bridge_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise RuntimeError("run_sync called from the state bridge's own loop: await instead")
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()
