"""Task-level retries: only transient Barrack failures are tried again.

The client already retries each HTTP call (up to 5 attempts, about 8 s of backoff); one
Prefect retry on top, 10 s later, covers a short outage and shows in the UI as
AwaitingRetry/Retrying. The layers multiply, so the task layer stays small: a call that
keeps failing on a reachable API gives up after 2 x (5 attempts + 8 s) + 10 s, about
26 s when the API answers with errors (each attempt logs a warning line), or about
5 minutes when every attempt runs into the 30 s timeout. Errors that another attempt
cannot fix (validation, 4xx) and an API that never answered
(:class:`~barrack.APIUnreachableError`) fail the task at once.
"""

from __future__ import annotations

from typing import Any, Final

from barrack import BarrackError, is_retryable

__all__ = ["TASK_RETRIES", "TASK_RETRY_DELAYS", "retry_if_transient"]

TASK_RETRIES: Final = 1
TASK_RETRY_DELAYS: Final = [10.0]


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
