"""Run many awaitables with a bound on how many are in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

__all__ = ["gather_bounded"]

T = TypeVar("T")
K = TypeVar("K")


async def gather_bounded(
    jobs: Iterable[tuple[K, Callable[[], Awaitable[T]]]], limit: int
) -> dict[K, T | BaseException]:
    """Run every job, at most ``limit`` at once; a failure is returned, never raised.

    Args:
        jobs: ``(key, make_awaitable)`` pairs; the awaitable is created only when a slot
            is free, so a thousand jobs do not start a thousand task runs at once.
        limit: jobs in flight at once (>= 1).

    Returns:
        Each key with its result or the exception it raised (so one failing resource
        never aborts the others).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    gate = asyncio.Semaphore(limit)
    results: dict[K, T | BaseException] = {}

    async def run(key: K, make: Callable[[], Awaitable[T]]) -> None:
        async with gate:
            try:
                results[key] = await make()
            except Exception as exc:  # one resource's failure is its outcome, not the run's
                results[key] = exc

    await asyncio.gather(*(run(key, make) for key, make in jobs))
    return results
