"""``up`` and ``down`` decide from the state file: running, partly running, stale, absent.

Real processes stand in for the stack's (a parent and its child in another session; one
parent ignores SIGTERM, as a Prefect worker does); the full start-up is the e2e tests' job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from deployments.stack import StackConfig, StackError, down, lifecycle, status, up
from deployments.stack.processes import ProcessRecord, is_running, process_table
from deployments.stack.state import StackState, load_state, save_state
from tests.deployments.stack.conftest import SpawnTree


@pytest.fixture
def config(tmp_path: Path) -> StackConfig:
    return StackConfig(
        run_dir=tmp_path / ".run", prefect_home=tmp_path / ".prefect", stop_timeout=1
    )


def _record(config: StackConfig, *processes: ProcessRecord, ready: bool = True) -> None:
    save_state(
        config.state_file,
        StackState(
            started_at=datetime.now(UTC),
            root=str(config.root),
            ui_url="http://127.0.0.1:4200",
            processes=list(processes),
            ready=ready,
        ),
    )


def _dead(name: str) -> ProcessRecord:
    # A pid that cannot be running: beyond the kernel's maximum.
    return ProcessRecord(name=name, pid=2**22 + 1, started="1", argv=("x",), log="x.log")


def test_up_while_running_says_so_and_starts_nothing(
    config: StackConfig, spawn_tree: SpawnTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = spawn_tree("prefect-server")
    worker, _ = spawn_tree("worker-barrack-ops-1")
    _record(config, server, worker)

    def must_not_start(*_: object) -> None:
        raise AssertionError("a second up must not start anything")

    monkeypatch.setattr(lifecycle, "_start", must_not_start)
    lines: list[str] = []
    stack = up(config, echo=lines.append)
    assert stack.already_running
    assert stack.state.processes == [server, worker]
    assert "already running" in lines[0]
    assert "http://127.0.0.1:4200" in lines[0]
    assert not any("to switch" in line for line in lines)
    lines.clear()
    up(config.with_changes(database="postgres"), echo=lines.append)
    assert lines[1] == "It runs on sqlite, not postgres: to switch, make down, then make up again."


def test_up_over_a_stale_state_file_removes_it_and_starts(
    config: StackConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(config, _dead("prefect-server"), _dead("simulator"))
    seen: list[StackState | None] = []

    def fake_start(cfg: StackConfig, echo: object) -> str:
        seen.append(load_state(cfg.state_file))
        return "started"

    monkeypatch.setattr(lifecycle, "_start", fake_start)
    lines: list[str] = []
    assert up(config, echo=lines.append) == "started"  # type: ignore[comparison-overlap]
    assert seen == [None], "the stale file is gone before anything starts"
    assert "stale state file" in lines[0]


def test_up_over_a_partly_running_stack_refuses_with_the_fix(
    config: StackConfig, spawn_tree: SpawnTree
) -> None:
    server, _ = spawn_tree("prefect-server")
    _record(config, server, _dead("worker-barrack-ops-1"))
    with pytest.raises(
        StackError, match=r"only in part \(worker-barrack-ops-1 stopped\).*make down"
    ):
        up(config, echo=lambda _: None)
    assert is_running(server), "nothing was stopped behind the operator's back"


def test_up_after_an_up_that_was_killed_half_way_refuses_with_the_fix(
    config: StackConfig, spawn_tree: SpawnTree
) -> None:
    server, _ = spawn_tree("prefect-server")
    _record(config, server, ready=False)
    with pytest.raises(StackError, match=r"never finished starting; run `make down`"):
        up(config, echo=lambda _: None)
    assert not status(config).is_up


def test_down_stops_everything_children_included_workers_by_sigkill(
    config: StackConfig, spawn_tree: SpawnTree
) -> None:
    server, server_child = spawn_tree("prefect-server")
    worker, flow_run = spawn_tree("worker-barrack-ops-1", ignore_term=True)
    _record(config, server, worker, _dead("receiver"))
    config.env_file.write_text("BARRACK_API_KEY=x\n")
    lines: list[str] = []
    before = down(config, echo=lines.append)
    assert [p.name for p in before.running] == ["prefect-server", "worker-barrack-ops-1"]
    table = process_table()
    for pid in (server.pid, server_child, worker.pid, flow_run):
        assert pid not in table or table[pid].zombie, pid
    assert not config.state_file.exists()
    assert not config.env_file.exists()
    assert lines[0].startswith("Stopped the barrack-ops stack: 4 process(es), ")
    assert "with SIGKILL" in lines[0]  # the worker that ignores SIGTERM
    assert "1 had already exited" in lines[0]


def test_down_with_nothing_recorded_says_so(config: StackConfig) -> None:
    lines: list[str] = []
    assert down(config, echo=lines.append).state is None
    assert lines == [f"Nothing to stop: no state file at {config.state_file}."]


def test_status_tells_running_from_stopped(config: StackConfig, spawn_tree: SpawnTree) -> None:
    assert not status(config).is_up
    server, _ = spawn_tree("prefect-server")
    _record(config, server)
    assert status(config).is_up
    _record(config, server, _dead("simulator"))
    current = status(config)
    assert not current.is_up
    assert [p.name for p in current.stopped] == ["simulator"]
