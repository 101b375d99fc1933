"""Real processes for the stack's tests: a parent that starts a child in its own session
(as a Prefect worker starts a flow run), stopped in teardown whatever the test did."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deployments.stack.processes import ProcessRecord, spawn, stop_processes

# Prints the child's pid, then waits; IGNORE_TERM makes the parent ignore SIGTERM.
PARENT = """
import os, signal, subprocess, sys, time
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(120)
"""

SpawnTree = Callable[..., tuple[ProcessRecord, int]]


@pytest.fixture
def spawn_tree(tmp_path: Path) -> Iterator[SpawnTree]:
    """``spawn_tree(name, ignore_term=False) -> (record of the parent, child pid)``."""
    started: list[ProcessRecord] = []

    def start(name: str, *, ignore_term: bool = False) -> tuple[ProcessRecord, int]:
        env = dict(os.environ)
        if ignore_term:
            env["IGNORE_TERM"] = "1"
        log = tmp_path / f"{name}.log"
        _, record = spawn(name, [sys.executable, "-c", PARENT], env=env, cwd=tmp_path, log_path=log)
        started.append(record)
        deadline = time.monotonic() + 30
        while not log.read_text().strip():
            assert time.monotonic() < deadline, "the parent never started its child"
            time.sleep(0.05)
        return record, int(log.read_text().split()[0])

    yield start
    stop_processes(started, timeout=1)
