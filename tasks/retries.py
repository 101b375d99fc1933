"""Task-level retries: only transient Barrack failures are tried again.

The client already retries each HTTP call; a Prefect retry on top covers a longer outage
and shows in the UI as AwaitingRetry/Retrying. Errors that another attempt cannot fix
(validation, 4xx) fail the task at once.
"""

from __future__ import annotations

from typing import Any, Final

from barrack import BarrackError, is_retryable

__all__ = ["TASK_RETRIES", "TASK_RETRY_DELAYS", "retry_if_transient"]

TASK_RETRIES: Final = 2
TASK_RETRY_DELAYS: Final = [10.0, 60.0]


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry connection errors, timeouts, 429 and 5xx.

    Prefect hands over a Failed state whose data is the task's exception. The state is
    read directly, never through ``state.result()``: inside the async engine that call
    returns an un-awaited coroutine, which is not an error, so no task would be retried.
    """
    error = state.data
    if not isinstance(error, BaseException):
        error = state.result(raise_on_failure=False, _sync=True)
    return isinstance(error, BarrackError) and is_retryable(error)
