"""The synchronous notifier reaches the async store through one bridge loop."""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar

import pytest

from state import MemoryStore
from state._sync import run_sync

RUN: ContextVar[str] = ContextVar("RUN", default="none")


async def which_run() -> tuple[str, str]:
    return RUN.get(), threading.current_thread().name


def test_context_variables_go_along() -> None:
    token = RUN.set("flow-run-1")
    try:
        assert run_sync(which_run()) == ("flow-run-1", "barrack-ops-state")
    finally:
        RUN.reset(token)
    assert run_sync(which_run())[0] == "none"


def test_it_works_from_a_thread_with_a_running_loop() -> None:
    """A sync hook of an async flow runs where a loop is running: no asyncio.run there."""
    store = MemoryStore()

    async def flow() -> object:
        run_sync(store.put("k", {"v": 1}))
        return run_sync(store.get("k"))

    assert asyncio.run(flow()) == {"v": 1}


def test_errors_reach_the_caller() -> None:
    with pytest.raises(ValueError, match="None is not a value"):
        run_sync(MemoryStore().put("k", None))
