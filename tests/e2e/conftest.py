"""One local stack (``make up``'s, on free ports, in a temporary folder) for the e2e tests.

Package scope: the browser test and the scale-out test share it, and it is stopped right
after them rather than idling through the rest of the suite. Teardown runs ``down`` even
when ``up`` or a test failed, and then checks that no process of the stack is left.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deployments.stack import RunningStack, StackConfig, down, up
from deployments.stack.processes import is_running
from simulator.control import SimControl


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> StackConfig:
    """``make up``'s configuration in a temporary folder: free ports, two workers of one
    flow run each, fast polling, schedules paused (only the tests' runs happen)."""
    base = tmp_path_factory.mktemp("stack")
    return StackConfig(
        run_dir=base / ".run",
        prefect_home=base / ".prefect",
        server_port=0,
        sim_port=0,
        receiver_port=0,
        clock="120",
        workers=2,
        worker_limit=1,
        worker_poll_seconds=2,
        schedules_active=False,
        concurrency_slot_wait_seconds=1,
        stop_timeout=5,
    )


@pytest.fixture(scope="package")
def local_stack(stack_config: StackConfig) -> Iterator[RunningStack]:
    """The running stack; stopped, children included, when the package's tests are done."""
    lines: list[str] = []
    stack: RunningStack | None = None
    try:
        stack = up(stack_config, echo=lines.append)
        yield stack
    finally:
        down(stack_config, echo=lines.append)
        if stack is not None:
            left = [p.name for p in stack.state.processes if is_running(p)]
            assert not left, f"still running after down: {left}"


@pytest.fixture
def sim(local_stack: RunningStack) -> Iterator[SimControl]:
    """The stack's simulator, its request log cleared."""
    assert local_stack.sim_api_key, "started by this session"
    assert local_stack.sim_admin_token, "started by this session"
    with SimControl(
        local_stack.state.sim_root_url,
        local_stack.sim_admin_token,
        local_stack.sim_api_key,
        timeout=10,
    ) as control:
        control.clear_requests()
        yield control
