"""The Prefect task options every Barrack task shares."""

from __future__ import annotations

from typing import Any, Final

from prefect.cache_policies import NO_CACHE

from tasks.retries import TASK_RETRIES, TASK_RETRY_DELAYS, retry_if_transient

__all__ = ["API_TASK"]

API_TASK: Final[dict[str, Any]] = {
    # Reads must be fresh and writes must never be skipped: no task result caching at all.
    "cache_policy": NO_CACHE,
    "retries": TASK_RETRIES,
    "retry_delay_seconds": TASK_RETRY_DELAYS,
    "retry_condition_fn": retry_if_transient,
    "persist_result": False,
}
