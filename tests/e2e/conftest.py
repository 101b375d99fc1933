"""One local stack (``make up``'s, on free ports, in a temporary folder) for the e2e tests.

Package scope: the browser test and the scale-out test share it, and it is stopped right
after them rather than idling through the rest of the suite. Teardown runs ``down`` even
when ``up`` or a test failed, and then checks that no process of the stack is left.

The stack runs on PostgreSQL (``make up DB=postgres``): the SQLite default is what every
other Prefect test of the suite uses, so running this one stack on PostgreSQL covers both
without starting a second one. Where PostgreSQL is not installed (``make system-deps``
installs it as root), the stack falls back to SQLite and says so in the test report.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments.stack import RunningStack, StackConfig, StackError, down, up
from deployments.stack.config import Database
from deployments.stack.postgres import find_binaries
from deployments.stack.processes import is_running
from simulator.control import SimControl


def _database() -> Database:
    try:
        find_binaries()
    except StackError as exc:
        warnings.warn(f"the e2e stack runs on SQLite: {exc}", stacklevel=1)
        return "sqlite"
    return "postgres"


@pytest.fixture(scope="package")
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    """``make up``'s configuration in a temporary folder: PostgreSQL, free ports, two workers
    of one flow run each, fast polling, schedules paused (only the tests' runs happen)."""
    base = tmp_path_factory.mktemp("stack")
    # As root, PostgreSQL runs as another user, who cannot enter pytest's folders (0700).
    run_dir = Path(tempfile.mkdtemp(prefix="barrack-e2e-"))
    run_dir.chmod(0o755)
    yield StackConfig(
        database=_database(),
        run_dir=run_dir / ".run",
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
        # A shared CI machine may take minutes to start Prefect; this only waits longer.
        startup_timeout=420,
    )
    shutil.rmtree(run_dir, ignore_errors=True)


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
            if stack_config.database == "postgres":
                data = stack_config.postgres_dir / "data"
                assert (data / "PG_VERSION").is_file(), "down keeps PostgreSQL's data"
                assert not (data / "postmaster.pid").exists(), "PostgreSQL shut down cleanly"


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
