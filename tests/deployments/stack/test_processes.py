"""Processes recorded by id and start time, stopped with their children, SIGKILL as last resort."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from deployments.stack.processes import (
    ProcessInfo,
    StopResult,
    descendants,
    is_running,
    process_table,
    spawn,
    stop_processes,
)
from tests.deployments.stack.conftest import SpawnTree


def test_a_spawned_process_is_recorded_with_its_start_time(spawn_tree: SpawnTree) -> None:
    record, child = spawn_tree("worker-test")
    assert record.started is not None
    assert is_running(record)
    assert child in descendants(record.pid, process_table())


def test_stop_takes_down_children_in_other_sessions(spawn_tree: SpawnTree) -> None:
    record, child = spawn_tree("worker-test")
    result = stop_processes([record], timeout=5)
    assert set(result.terminated) == {record.pid, child}
    assert result.killed == ()
    assert result.survivors == ()
    table = process_table()
    assert not is_running(record, table)
    assert child not in table or table[child].zombie


def test_a_process_ignoring_sigterm_gets_sigkill_after_the_timeout(
    spawn_tree: SpawnTree,
) -> None:
    record, child = spawn_tree("worker-test", ignore_term=True)
    result = stop_processes([record], timeout=2)
    assert record.pid in result.killed
    assert child in result.terminated + result.killed
    assert result.survivors == ()
    assert not is_running(record)


def test_a_reused_pid_is_not_ours_and_is_left_alone(spawn_tree: SpawnTree) -> None:
    record, _ = spawn_tree("worker-test")
    impostor = record.model_copy(update={"started": "1"})  # same pid, another start time
    assert not is_running(impostor)
    assert stop_processes([impostor], timeout=0.5) == StopResult((), (), ())
    assert is_running(record)


def test_a_process_that_is_gone_counts_as_stopped(tmp_path: Path) -> None:
    process, record = spawn(
        "quick",
        [sys.executable, "-c", "pass"],
        env=dict(os.environ),
        cwd=tmp_path,
        log_path=tmp_path / "quick.log",
    )
    process.wait(timeout=30)
    assert not is_running(record)
    assert stop_processes([record], timeout=0.5) == StopResult((), (), ())


@pytest.mark.parametrize(
    ("tree", "root", "expected"),
    [
        ({2: 1, 3: 2, 4: 3, 5: 1}, 2, {3, 4}),
        ({2: 1, 3: 2}, 3, set()),
        ({2: 1, 3: 2, 4: 2}, 1, {2, 3, 4}),
    ],
)
def test_descendants_walk_the_whole_subtree(
    tree: dict[int, int], root: int, expected: set[int]
) -> None:
    table = {pid: ProcessInfo(ppid=ppid, started="0", zombie=False) for pid, ppid in tree.items()}
    assert set(descendants(root, table)) == expected


def test_zombies_are_not_descendants_to_signal() -> None:
    table = {
        2: ProcessInfo(ppid=1, started="0", zombie=False),
        3: ProcessInfo(ppid=2, started="0", zombie=True),
    }
    assert descendants(2, table) == []
