"""Run one of the async stores' coroutines from synchronous code.

The notifier is synchronous (apprise is, and Prefect calls its hooks from wherever the
run is): it reaches the async store through :func:`run_sync`. Without an event loop in
the calling thread the coroutine runs in a fresh loop there; inside one (a sync hook of
an async flow) it runs in a fresh loop on a helper thread, because a loop cannot wait for
itself. Context variables (the flow run) go along either way.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of ``coroutine``, run to completion from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="barrack-state") as pool:
        return pool.submit(context.run, asyncio.run, coroutine).result()
