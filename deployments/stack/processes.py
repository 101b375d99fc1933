"""Start long-running processes, recognise them later by id, stop them with their children.

A process id alone is not proof: after a reboot, or long after a crash, the same number may
belong to something else. Each process is recorded with its start time as the process table
reports it, and is only treated as ours (alive, to be signalled) while both still match.

Stopping sends SIGTERM to the process and to every descendant found in the process table,
waits, then sends SIGKILL to whatever is left. Descendants matter: a Prefect process worker
starts each flow run in a session of its own, so signalling the worker's process group would
miss them. A Prefect worker also survives SIGTERM (it says "stopped" and hangs on exit),
which is why the SIGKILL after a timeout is part of the plan, not an accident.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict

__all__ = [
    "ProcessInfo",
    "ProcessRecord",
    "StopResult",
    "descendants",
    "is_running",
    "process_table",
    "spawn",
    "stop_processes",
]

POLL_SECONDS = 0.1


class ProcessRecord(BaseModel):
    """One process the stack started, as written to the state file.

    Attributes:
        name: what it is (``prefect-server``, ``worker-1``...).
        pid: its process id.
        started: its start time from the process table, to tell it from a later process
            that reuses the id (None when the table could not be read).
        argv: the command line it was started with.
        log: the file its output goes to.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    pid: int
    started: str | None
    argv: tuple[str, ...]
    log: str


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One row of the process table: parent, start time, and whether it is a zombie."""

    ppid: int
    started: str
    zombie: bool


@dataclass(frozen=True, slots=True)
class StopResult:
    """What :func:`stop_processes` had to do.

    Attributes:
        terminated: process ids that exited after SIGTERM.
        killed: process ids that needed SIGKILL.
        survivors: process ids still there at the end (should stay empty).
    """

    terminated: tuple[int, ...]
    killed: tuple[int, ...]
    survivors: tuple[int, ...]


def process_table() -> dict[int, ProcessInfo]:
    """Every process of the machine: parent, start time, zombie or not (from psutil, which
    reads ``/proc`` on Linux and asks the kernel elsewhere)."""
    table: dict[int, ProcessInfo] = {}
    for process in psutil.process_iter(["ppid", "create_time", "status"]):
        info = process.info
        if info["ppid"] is None or info["create_time"] is None:  # it exited while we looked
            continue
        table[process.pid] = ProcessInfo(
            ppid=info["ppid"],
            started=_started(info["create_time"]),
            zombie=info["status"] in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD),
        )
    return table


def _started(create_time: float) -> str:
    """A process's start time as recorded: seconds since the epoch, to the hundredth."""
    return f"{create_time:.2f}"


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    user: pwd.struct_passwd | None = None,
) -> tuple[subprocess.Popen[bytes], ProcessRecord]:
    """Start ``argv`` in a session of its own, its output appended to ``log_path``; as
    ``user`` (its own group, no other) when given, which needs root.

    A session of its own keeps it out of the terminal's process group: Ctrl-C in the shell
    that ran ``make up`` must not reach the stack, only ``make down`` stops it.

    Returns:
        The Popen object (to reap it, when the caller is its parent) and its record.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 - argv is built by the stack, no shell
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user.pw_uid if user is not None else None,
            group=user.pw_gid if user is not None else None,
            extra_groups=[] if user is not None else None,
        )
    info = process_table().get(process.pid)
    record = ProcessRecord(
        name=name,
        pid=process.pid,
        started=info.started if info else None,
        argv=tuple(argv),
        log=str(log_path),
    )
    return process, record


def is_running(record: ProcessRecord, table: Mapping[int, ProcessInfo] | None = None) -> bool:
    """True while the recorded process exists, is not a zombie, and started when recorded."""
    info = (process_table() if table is None else table).get(record.pid)
    if info is None or info.zombie:
        return False
    return record.started is None or info.started == record.started


def descendants(pid: int, table: Mapping[int, ProcessInfo]) -> list[int]:
    """Every live process below ``pid`` in the tree (children, their children...)."""
    children: dict[int, list[int]] = {}
    for child, info in table.items():
        children.setdefault(info.ppid, []).append(child)
    found: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        current = stack.pop()
        if current in found or table[current].zombie:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def stop_processes(
    records: Iterable[ProcessRecord],
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StopResult:
    """SIGTERM each recorded process that is still ours and all its descendants; SIGKILL
    whatever is left after ``timeout`` seconds.

    Records whose process is gone (or whose id now belongs to another process) are skipped.
    """
    table = process_table()
    targets: dict[int, str | None] = {}
    for record in records:
        if not is_running(record, table):
            continue
        targets[record.pid] = record.started
        for child in descendants(record.pid, table):
            targets.setdefault(child, table[child].started)
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    alive = _wait_gone(targets, timeout, clock, sleep)
    terminated = tuple(pid for pid in targets if pid not in alive)
    if not alive:
        return StopResult(terminated=terminated, killed=(), survivors=())
    # Children born during the wait belong to the same tree: take them down too.
    table = process_table()
    for pid in list(alive):
        for child in descendants(pid, table):
            alive.setdefault(child, table[child].started)
    for pid in alive:
        _signal(pid, signal.SIGKILL)
    survivors = _wait_gone(dict(alive), 5.0, clock, sleep)
    killed = tuple(pid for pid in alive if pid not in survivors)
    return StopResult(terminated=terminated, killed=killed, survivors=tuple(survivors))


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    """Collect the exit status if ``pid`` is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(
    targets: dict[int, str | None],
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[int, str | None]:
    """Wait until every target exited (or its id was reused); returns those still alive."""
    deadline = clock() + timeout
    while True:
        for pid in targets:
            _reap(pid)
        table = process_table()
        alive = {
            pid: started
            for pid, started in targets.items()
            if pid in table
            and not table[pid].zombie
            and (started is None or table[pid].started == started)
        }
        if not alive or clock() >= deadline:
            return alive
        sleep(POLL_SECONDS)
