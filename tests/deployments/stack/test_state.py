"""The state file round-trips, refuses garbage by name, and the lock keeps two runs apart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from deployments.stack.config import StackError
from deployments.stack.processes import ProcessRecord
from deployments.stack.state import (
    StackState,
    exclusive_lock,
    load_state,
    remove_state,
    save_state,
)


def _state() -> StackState:
    return StackState(
        started_at=datetime(2026, 11, 27, 12, tzinfo=UTC),
        root="/repo",
        ui_url="http://127.0.0.1:4200",
        processes=[
            ProcessRecord(name="prefect-server", pid=10, started="99", argv=("p",), log="l")
        ],
    )


def test_state_round_trips(tmp_path: Path) -> None:
    path = tmp_path / ".run" / "stack.json"
    save_state(path, _state())
    assert load_state(path) == _state()
    assert not path.with_suffix(".tmp").exists()


def test_no_state_file_means_no_state(tmp_path: Path) -> None:
    assert load_state(tmp_path / "stack.json") is None
    remove_state(tmp_path / "stack.json")  # removing twice is fine


def test_a_corrupt_state_file_is_named_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "stack.json"
    path.write_text('{"processes": "nope"}')
    with pytest.raises(StackError, match=r"stack\.json is not a stack state file.*delete it"):
        load_state(path)


def test_a_second_holder_of_the_lock_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "stack.lock"
    with (
        exclusive_lock(lock),
        pytest.raises(StackError, match="another `make up` or `make down`"),
        exclusive_lock(lock),
    ):
        pass
    with exclusive_lock(lock):  # released on exit
        pass
