"""The benchmark's processes: a real Prefect server, the simulator, and their CPU time.

Both servers run as separate processes so the CPU each spends is measured apart from the
flow's. CPU time is read with psutil for a process and all its descendants,
since ``prefect server start`` serves from a child process.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx
import psutil

__all__ = [
    "ADMIN_TOKEN",
    "API_KEY",
    "ManagedProcess",
    "free_port",
    "machine_description",
    "prefect_environment",
    "start_postgres",
    "start_prefect_server",
    "start_simulator",
    "tree_cpu_seconds",
]

API_KEY: Final = "bench-api-key"
ADMIN_TOKEN: Final = "bench-admin-token"  # noqa: S105 - a local benchmark's throwaway token


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a live process and its live descendants."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in tree:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = process.cpu_times()
            total += times.user + times.system
    return total


@dataclass
class ManagedProcess:
    """A server process the benchmark started (and stops, by its own pid only)."""

    name: str
    process: subprocess.Popen[str]
    url: str
    log: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)
    companions: list[ManagedProcess] = field(default_factory=list)
    stop_signal: signal.Signals = signal.SIGTERM

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the process, its descendants and its companions (the
        Prefect server's PostgreSQL)."""
        return tree_cpu_seconds(self.pid) + sum(c.cpu_seconds() for c in self.companions)

    def stop(self) -> None:
        """Stop the process and its children (``stop_signal``, then SIGKILL after 10 s),
        then its companions."""
        self._stop()
        for companion in self.companions:
            companion.stop()

    def _stop(self) -> None:
        if self.process.poll() is not None:
            return
        descendants = _descendants(self.pid)
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        for pid in descendants:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _descendants(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def prefect_environment(home: Path, api_url: str | None) -> dict[str, str]:
    """The environment of every Prefect process of the benchmark (offline, quiet)."""
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    env.update(
        {
            "PREFECT_HOME": str(home.resolve()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
    )
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


def start_postgres(home: Path, *, timeout: float = 120.0) -> tuple[ManagedProcess, str]:
    """A PostgreSQL cluster of its own under ``home/postgres``, as ``make up DB=postgres``
    runs it (:mod:`deployments.stack.postgres`): ``initdb``, then ``postgres`` on a Unix
    socket only, as a non-root user when run as root.

    Returns:
        The server process (stopped with SIGINT: a fast shutdown) and Prefect's database URL.

    Raises:
        RuntimeError: PostgreSQL is missing or did not start (the reason says which).
    """
    from deployments.stack.config import StackError
    from deployments.stack.postgres import PostgresCluster, find_binaries, service_user

    log = home / "postgres.log"
    try:
        binaries = find_binaries()
        cluster = PostgresCluster(home / "postgres", user=service_user())
        cluster.prepare(binaries, log=home / "initdb.log")
    except StackError as exc:
        raise RuntimeError(str(exc)) from None
    user = cluster.user
    with log.open("w") as handle:
        process = subprocess.Popen(
            cluster.server_argv(binaries),
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
            user=user.pw_uid if user is not None else None,
            group=user.pw_gid if user is not None else None,
            extra_groups=[] if user is not None else None,
        )
    managed = ManagedProcess("postgres", process, cluster.display_url, log)
    managed.stop_signal = signal.SIGINT
    try:
        cluster.wait_ready(timeout=timeout, check_processes=lambda: _check_alive(managed))
    except (StackError, RuntimeError) as exc:
        managed.stop()
        raise RuntimeError(f"PostgreSQL did not start: {exc}; see {log}") from None
    return managed, cluster.connection_url


def _check_alive(managed: ManagedProcess) -> None:
    if managed.process.poll() is not None:
        raise RuntimeError(f"{managed.name} exited")


def start_prefect_server(
    home: Path, *, db: str = "sqlite", timeout: float = 600.0
) -> ManagedProcess:
    """``prefect server start`` on a free loopback port: on SQLite under ``home``, or on a
    PostgreSQL of its own (``db="postgres"``), whose CPU then counts as the server's.

    Raises:
        RuntimeError: it did not answer ``/api/health`` within ``timeout`` seconds.
    """
    companions: list[ManagedProcess] = []
    env = prefect_environment(home, None)
    if db == "postgres":
        database, url = start_postgres(home, timeout=timeout)
        companions.append(database)
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = url
    port = free_port()
    log = home / "prefect-server.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start",
         "--host", "127.0.0.1", "--port", str(port), "--analytics-off", "--no-ui"],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/api"
    managed = ManagedProcess("prefect server", process, url, log, companions=companions)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited; see {log}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return managed
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    managed.stop()
    raise RuntimeError(f"the Prefect server did not become healthy in {timeout:.0f} s; see {log}")


def start_simulator(clock: str, workdir: Path, *, timeout: float = 60.0) -> ManagedProcess:
    """The simulator (``python -m simulator``) on a free loopback port, scenario ``empty``.

    Raises:
        RuntimeError: it did not print its base URL within ``timeout`` seconds.
    """
    log = workdir / "simulator.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--scenario", "empty",
         "--clock", clock, "--api-key", API_KEY, "--admin-token", ADMIN_TOKEN],
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"base URL\s+(http://\S+)/api", log.read_text())
        if match:
            return ManagedProcess("simulator", process, match.group(1), log)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the simulator did not start; see {log}")


def machine_description() -> str:
    """Cores, CPU model, memory and Python version of this machine."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        # psutil does not name the CPU model: Linux says it in /proc/cpuinfo.
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 1024**3
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"
