"""Prefect retries a Barrack task on transient failures only, in its real engine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import cast

import pytest
from prefect import State, flow, task

from barrack import (
    APIConnectionError,
    APIUnreachableError,
    BarrackError,
    InternalServerError,
    NotFoundError,
)
from tasks._options import API_TASK
from tasks.retries import TASK_RETRIES

pytestmark = pytest.mark.usefixtures("prefect_harness")

QUICK = {**API_TASK, "retry_delay_seconds": 0}


def _server_error() -> BarrackError:
    return InternalServerError("boom", status=500, code="INTERNAL", method="GET", path="/api/x/")


def _not_found() -> BarrackError:
    return NotFoundError("gone", status=404, code="NOT_FOUND", method="GET", path="/api/x/")


@pytest.mark.parametrize(
    ("make_error", "attempts"),
    [
        (
            lambda: APIConnectionError("connection failed", method="GET", path="/api/x/"),
            1 + TASK_RETRIES,
        ),
        (_server_error, 1 + TASK_RETRIES),
        (_not_found, 1),
        # Nothing ever answered: another try meets the same closed port.
        (lambda: APIUnreachableError("refused", method="GET", path="/api/x/"), 1),
        (lambda: ValueError("a bug, not an outage"), 1),
    ],
    ids=["connection", "500", "404", "unreachable", "not-barrack"],
)
@pytest.mark.parametrize("kind", ["async", "sync"])
def test_only_transient_failures_are_retried(
    make_error: Callable[[], Exception], attempts: int, kind: str
) -> None:
    calls: list[int] = []

    def body() -> None:
        calls.append(1)
        raise make_error()

    if kind == "async":

        @task(**QUICK)
        async def failing() -> None:
            body()

        @flow
        async def async_runner() -> str:
            state = await cast("Awaitable[State[None]]", failing(return_state=True))
            return str(state.type.value)

        final = asyncio.run(async_runner())
    else:

        @task(**QUICK)
        def failing_sync() -> None:
            body()

        @flow
        def sync_runner() -> str:
            return str(failing_sync(return_state=True).type.value)

        final = sync_runner()
    assert final == "FAILED"
    assert len(calls) == attempts
