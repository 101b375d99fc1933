"""The state file (``.run/stack.json``): what runs, where, and by which process ids.

It is written after every process start, so an ``up`` that fails half-way still leaves
behind enough for ``down`` to stop what did start. It holds no secret; the simulator's
throwaway API key goes to ``.run/stack.env`` (mode 0600) for shells that want it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deployments.stack.config import StackError
from deployments.stack.processes import ProcessRecord

__all__ = ["StackState", "exclusive_lock", "load_state", "remove_state", "save_state"]


class StackState(BaseModel):
    """The running stack as recorded on disk.

    Attributes:
        started_at: when ``up`` began.
        root: the repository the stack serves.
        ui_url: the Prefect UI.
        api_url: the Prefect API (``PREFECT_API_URL``).
        sim_base_url: the simulator's API base URL (``BARRACK_BASE_URL``).
        sim_root_url: the simulator's root (control routes, Prometheus).
        receiver_url: the notification receiver's root (``GET /_received``).
        database: the Prefect server's database (``sqlite`` or ``postgres``).
        database_url: where that database is (no password: there is none).
        work_pools: the work pools created.
        deployments: ``flow/deployment`` names deployed.
        processes: every long-running process started, in start order.
        ready: ``up`` finished (False while it works, or if it was killed half-way).
    """

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    started_at: datetime
    root: str
    ui_url: str = ""
    api_url: str = ""
    sim_base_url: str = ""
    sim_root_url: str = ""
    receiver_url: str = ""
    database: str = "sqlite"
    database_url: str = ""
    work_pools: list[str] = Field(default_factory=list)
    deployments: list[str] = Field(default_factory=list)
    processes: list[ProcessRecord] = Field(default_factory=list)
    ready: bool = False


def save_state(path: Path, state: StackState) -> None:
    """Write the state atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(state.model_dump_json(indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def load_state(path: Path) -> StackState | None:
    """The recorded state, or None when there is no state file.

    Raises:
        StackError: the file exists but is not a state file (named, with the fix).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return StackState.model_validate_json(text)
    except ValidationError as exc:
        raise StackError(
            f"{path} is not a stack state file ({exc.error_count()} problem(s)); "
            "stop leftover processes by hand and delete it"
        ) from None


def remove_state(path: Path) -> None:
    """Delete the state file (fine if it is already gone)."""
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` locked while ``up`` or ``down`` works, so two never interleave.

    The lock is released by the kernel when the process dies, so it can never go stale.

    Raises:
        StackError: another ``up`` or ``down`` holds it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackError(
                f"another `make up` or `make down` is working on this stack ({path} is locked)"
            ) from None
        yield
    finally:
        os.close(descriptor)
