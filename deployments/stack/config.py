"""What the local stack runs, where it keeps its files, and on which ports."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Self, get_args

from simulator.clock import ClockMode, parse_clock_spec

__all__ = ["DATABASES", "DEFAULT_PORTS", "Database", "StackConfig", "StackError", "repo_root"]

Database = Literal["sqlite", "postgres"]
DATABASES: tuple[str, ...] = get_args(Database)
"""The Prefect server's databases: SQLite under ``PREFECT_HOME`` (the default), or the
stack's own PostgreSQL cluster under ``.run/postgres`` (:mod:`deployments.stack.postgres`)."""

DEFAULT_PORTS = {"server": 4200, "sim": 8642, "receiver": 8765}
"""The ports ``make up`` asks for first (Prefect's, the simulator's and the receiver's usual
ones); a busy port is replaced by a free one, and the banner says which."""


class StackError(RuntimeError):
    """The stack could not be started or stopped; the message says what to do."""


def repo_root() -> Path:
    """The checkout this package lives in (the folder holding ``deployments/prefect.yaml``)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class StackConfig:
    """Everything ``make up`` decides; tests change the paths, ports and timings.

    Attributes:
        root: the repository root; processes run there and ``prefect deploy`` reads
            ``prefect_file`` relative to it.
        run_dir: pid/state file, lock, logs, stack.env and the recipes' state (``.run``).
        prefect_home: ``PREFECT_HOME`` of every process (SQLite database, UI build).
        prefect_file: the deployments to deploy.
        database: the Prefect server's database: ``sqlite`` (under ``prefect_home``) or
            ``postgres`` (the stack's own cluster under ``<run_dir>/postgres``).
        host: the loopback address everything binds to.
        server_port, sim_port, receiver_port: wanted ports; 0 picks a free one.
        clock: the simulator's clock: a speed (``10`` = ten simulated minutes per minute).
        scenario: the simulator's scenario.
        seed: the simulator's seed.
        workers: how many process workers to start on the pool.
        worker_limit: flow runs a worker runs at once (None: no limit).
        worker_poll_seconds: how often workers ask for scheduled runs.
        schedules_active: False deploys with every schedule paused (runs only on demand).
        concurrency_slot_wait_seconds: how long a run that found its deployment busy waits
            before asking again (None: Prefect's default, 30 s).
        startup_timeout: seconds to wait for each service to answer.
        stop_timeout: seconds between SIGTERM and SIGKILL.
        python: the interpreter of the venv (children run ``python -m ...`` with it).
    """

    root: Path = field(default_factory=repo_root)
    run_dir: Path | None = None
    prefect_home: Path | None = None
    prefect_file: Path = Path("deployments/prefect.yaml")
    database: Database = "sqlite"
    host: str = "127.0.0.1"
    server_port: int = DEFAULT_PORTS["server"]
    sim_port: int = DEFAULT_PORTS["sim"]
    receiver_port: int = DEFAULT_PORTS["receiver"]
    clock: str = "10"
    scenario: str = "demo"
    seed: int = 1
    workers: int = 1
    worker_limit: int | None = None
    worker_poll_seconds: float = 5.0
    schedules_active: bool = True
    concurrency_slot_wait_seconds: float | None = None
    startup_timeout: float = 180.0
    stop_timeout: float = 10.0
    python: Path = field(default_factory=lambda: Path(sys.executable))

    def __post_init__(self) -> None:
        problems = []
        if self.database not in DATABASES:
            problems.append(f"database: {self.database!r} is not one of {', '.join(DATABASES)}")
        if self.workers < 1:
            problems.append(f"workers: must be at least 1, got {self.workers}")
        if self.worker_limit is not None and self.worker_limit < 1:
            problems.append(f"worker_limit: must be at least 1, got {self.worker_limit}")
        if self.worker_poll_seconds <= 0:
            problems.append("worker_poll_seconds: must be positive")
        for name in ("server_port", "sim_port", "receiver_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                problems.append(f"{name}: {port} is not a TCP port")
        try:
            mode, _ = parse_clock_spec(self.clock)
        except ValueError as exc:
            problems.append(f"clock: {exc}")
        else:
            if mode is ClockMode.MANUAL:
                # Nothing would move it: snapshots would never finish.
                problems.append("clock: 'manual' never moves by itself; give a speed")
        if not (self.root / self.prefect_file).is_file():
            problems.append(f"prefect_file: {self.root / self.prefect_file} does not exist")
        if problems:
            raise StackError("; ".join(problems))

    def with_changes(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def run_path(self) -> Path:
        """The run directory (``<root>/.run`` unless set)."""
        return self.run_dir if self.run_dir is not None else self.root / ".run"

    @property
    def prefect_home_path(self) -> Path:
        """``PREFECT_HOME`` (``<root>/.prefect`` unless set), always absolute."""
        home = self.prefect_home if self.prefect_home is not None else self.root / ".prefect"
        return home.resolve()

    @property
    def state_file(self) -> Path:
        """The pid/state file."""
        return self.run_path / "stack.json"

    @property
    def lock_file(self) -> Path:
        """Held while ``up`` or ``down`` runs, so two of them never interleave."""
        return self.run_path / "stack.lock"

    @property
    def env_file(self) -> Path:
        """Shell assignments to use the stack from a terminal (holds the simulator's key)."""
        return self.run_path / "stack.env"

    @property
    def logs_dir(self) -> Path:
        """One log file per process, plus the deploy output."""
        return self.run_path / "logs"

    @property
    def recipe_state_dir(self) -> Path:
        """``BARRACK_OPS_STATE_DIR`` of the flow runs (hibernation warnings, balance history)."""
        return self.run_path / "state"

    @property
    def postgres_dir(self) -> Path:
        """The PostgreSQL cluster's data and socket (``database="postgres"``), kept by ``down``."""
        return self.run_path / "postgres"

    @property
    def notifications_file(self) -> Path:
        """Every notification the receiver got, one JSON object a line."""
        return self.run_path / "notifications.jsonl"
