"""The Prefect task options every Barrack task shares."""

from __future__ import annotations

from typing import Any, Final

from prefect.cache_policies import NO_CACHE

from tasks.retries import TASK_RETRIES, TASK_RETRY_DELAYS, retry_if_transient

__all__ = ["API_TASK", "PAGES_IN_FLIGHT"]

API_TASK: Final[dict[str, Any]] = {
    # Reads must be fresh and writes must never be skipped: no task result caching at all.
    "cache_policy": NO_CACHE,
    "retries": TASK_RETRIES,
    "retry_delay_seconds": TASK_RETRY_DELAYS,
    "retry_condition_fn": retry_if_transient,
    "persist_result": False,
}

PAGES_IN_FLIGHT: Final = 4
"""Pages of a long listing fetched at once. One page after another is bound by the
latency (measured: about 11 pages per second with 50 ms per call), not by the rate limit;
four in flight keep a 20 requests-per-second limit busy, and the rate limiter paces them."""
