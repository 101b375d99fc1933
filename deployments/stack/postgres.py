"""PostgreSQL for the local stack's Prefect server (``make up DB=postgres``).

Debian's ``postgresql`` package provides the programs; the stack runs its own server, as
one more recorded process, with everything under ``.run/postgres/``: the cluster in
``data/`` (``initdb`` once, kept by ``make down``, so run history survives restarts), the
server's log in ``.run/logs/postgres.log`` and its socket in ``socket/``. No system
service is used or touched.

The server listens on its Unix socket only (``listen_addresses=''``): nothing else on the
machine can reach it over TCP, and the socket directory is its owner's alone (0700), so
the cluster's ``trust`` authentication lets in only that user and root. The port number
(5432 unless told otherwise) only names the socket file, so it never collides with another
PostgreSQL. From a shell: ``psql -h .run/postgres/socket -p 5432 -U prefect prefect``.

``initdb`` and ``postgres`` refuse to run as root. When ``make up`` runs as root, the
cluster belongs to, and the server runs as, the ``postgres`` user that Debian's package
creates (``nobody`` where it does not exist); that user must be able to enter every folder
above ``.run/postgres`` (the error says which one it cannot). Otherwise it runs as the
user running ``make up``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from deployments.stack.config import StackError
from deployments.stack.processes import (
    POLL_SECONDS,
    ProcessRecord,
    StopResult,
    is_running,
    stop_processes,
)

__all__ = [
    "DATABASE",
    "DB_USER",
    "Binaries",
    "PostgresCluster",
    "find_binaries",
    "service_user",
    "stop_postgres",
]

DB_USER = "prefect"
"""The cluster's superuser, which Prefect connects as."""

DATABASE = "prefect"
"""The database Prefect keeps its tables in."""

SEARCH_DIRS = Path("/usr/lib/postgresql")
"""Where Debian installs each PostgreSQL version's programs (``<version>/bin``)."""

SOCKET_PATH_MAX = 107
"""The longest Unix socket path Linux accepts (``sun_path`` less its final NUL)."""

INSTALL_HINT = (
    "install Debian's postgresql package (`make system-deps` as root does it), "
    "or put initdb and postgres on PATH"
)


@dataclass(frozen=True, slots=True)
class Binaries:
    """The PostgreSQL programs the stack runs."""

    initdb: Path
    postgres: Path


def find_binaries(search_dirs: Path = SEARCH_DIRS) -> Binaries:
    """``initdb`` and ``postgres`` from PATH, else from the newest Debian version installed.

    Raises:
        StackError: neither place has them (with how to install them).
    """
    initdb, postgres = shutil.which("initdb"), shutil.which("postgres")
    if initdb and postgres:
        return Binaries(initdb=Path(initdb), postgres=Path(postgres))
    versions = sorted(
        (int(entry.name), entry / "bin")
        for entry in (search_dirs.iterdir() if search_dirs.is_dir() else ())
        if entry.name.isdigit() and (entry / "bin" / "postgres").is_file()
    )
    if not versions:
        raise StackError(f"PostgreSQL is not installed: {INSTALL_HINT}")
    bin_dir = versions[-1][1]
    return Binaries(initdb=bin_dir / "initdb", postgres=bin_dir / "postgres")


def service_user() -> pwd.struct_passwd | None:
    """The user the cluster runs as when ``make up`` runs as root, else None (the caller).

    Raises:
        StackError: running as root and neither ``postgres`` nor ``nobody`` exists.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise StackError(
        "PostgreSQL refuses to run as root and there is no `postgres` or `nobody` user "
        "to run it as; create one (useradd --system postgres)"
    )


@dataclass(frozen=True, slots=True)
class PostgresCluster:
    """The stack's PostgreSQL cluster under ``root`` (``.run/postgres``).

    Attributes:
        root: the folder holding ``data/`` and ``socket/``.
        port: names the socket file (``.s.PGSQL.<port>``); no TCP port is opened.
        user: the account the cluster runs as (None: the current one).
    """

    root: Path
    port: int = 5432
    user: pwd.struct_passwd | None = None

    @property
    def data_dir(self) -> Path:
        """The cluster (``initdb``'s output), kept across ``make down``."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """Where the server's Unix socket lives."""
        return self.root / "socket"

    @property
    def user_name(self) -> str:
        """Who the cluster runs as."""
        return self.user.pw_name if self.user is not None else pwd.getpwuid(os.getuid()).pw_name

    @property
    def connection_url(self) -> str:
        """``PREFECT_API_DATABASE_CONNECTION_URL``: asyncpg over the Unix socket (no password:
        only the socket's owner and root can open it)."""
        return f"postgresql+asyncpg://{DB_USER}@/{DATABASE}?host={self.socket_dir}&port={self.port}"

    @property
    def display_url(self) -> str:
        """Where it is, for people (the banner, the state file)."""
        return f"postgresql://{DB_USER}@/{DATABASE}?host={self.socket_dir}&port={self.port}"

    def is_initialised(self) -> bool:
        """``initdb`` has run here (it writes ``PG_VERSION`` last but one)."""
        return (self.data_dir / "PG_VERSION").is_file()

    def prepare(self, binaries: Binaries, log: Path) -> bool:
        """Create the folders and run ``initdb`` unless the cluster exists.

        Returns:
            True when the cluster was created now.

        Raises:
            StackError: the socket path is too long, the service user cannot reach the
                folder, or ``initdb`` failed (with the end of its output).
        """
        socket_file = self.socket_dir / f".s.PGSQL.{self.port}"
        if len(str(socket_file)) > SOCKET_PATH_MAX:
            raise StackError(
                f"the PostgreSQL socket path {socket_file} is longer than {SOCKET_PATH_MAX} "
                "characters (the system's limit); run the stack from a shorter path"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _check_reachable(self.root.parent, self.user)
        for folder in (self.root, self.socket_dir):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o700)
            if self.user is not None:
                os.chown(folder, self.user.pw_uid, self.user.pw_gid)
        if self.is_initialised():
            return False
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise StackError(
                f"{self.data_dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); "
                "move it away, then run `make up DB=postgres` again"
            )
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            str(binaries.initdb),
            "--pgdata",
            str(self.data_dir),
            "--username",
            DB_USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            # A fresh, empty cluster: nothing to lose if the machine fails in these seconds.
            "--no-sync",
        ]
        with log.open("ab") as output:
            result = subprocess.run(  # noqa: S603 - argv built here, no shell
                argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
                user=self.user.pw_uid if self.user is not None else None,
                group=self.user.pw_gid if self.user is not None else None,
                extra_groups=[] if self.user is not None else None,
            )
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise StackError(f"initdb failed (status {result.returncode}); see {log}")
        return True

    def server_argv(self, binaries: Binaries) -> list[str]:
        """``postgres`` on the Unix socket only, logging to its standard error."""
        return [
            str(binaries.postgres),
            "-D",
            str(self.data_dir),
            "-k",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=",
        ]

    def wait_ready(
        self, *, timeout: float, check_processes: Callable[[], None] = lambda: None
    ) -> None:
        """Wait until the server accepts connections; create the ``prefect`` database if
        it is missing (on the first start, or after a first start that failed half-way).

        Raises:
            StackError: it did not accept connections within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            check_processes()
            try:
                asyncio.run(self._ensure_database())
            except (OSError, asyncpg.CannotConnectNowError, asyncpg.PostgresConnectionError):
                if time.monotonic() >= deadline:
                    raise StackError(
                        f"PostgreSQL did not accept connections on {self.socket_dir} "
                        f"within {timeout:g} s"
                    ) from None
                time.sleep(0.25)
            else:
                return

    async def _ensure_database(self) -> None:
        connection = await asyncpg.connect(
            host=str(self.socket_dir), port=self.port, user=DB_USER, database="postgres"
        )
        try:
            exists = await connection.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE
            )
            if not exists:
                await connection.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await connection.close()


def _check_reachable(folder: Path, user: pwd.struct_passwd) -> None:
    """Raise unless ``user`` may enter ``folder`` and every folder above it."""
    for current in (folder.resolve(), *folder.resolve().parents):
        mode = current.stat()
        if mode.st_uid == user.pw_uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid == user.pw_gid:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            raise StackError(
                f"PostgreSQL refuses to run as root, so it runs as user {user.pw_name!r}, "
                f"who cannot enter {current} (mode {stat.filemode(mode.st_mode)}); "
                f"give others access (chmod o+x {current}) or run the stack from elsewhere"
            )


def stop_postgres(record: ProcessRecord, *, timeout: float) -> StopResult:
    """Stop the server the clean way: SIGINT to the postmaster alone is PostgreSQL's "fast
    shutdown" (it ends the sessions, writes a checkpoint and takes its helpers down); whatever
    is still there after ``timeout`` seconds gets the usual SIGTERM-then-SIGKILL of the tree.
    """
    if not is_running(record):
        return StopResult((), (), ())
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(record.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(record.pid, os.WNOHANG)
        if not is_running(record):
            return StopResult(terminated=(record.pid,), killed=(), survivors=())
        time.sleep(POLL_SECONDS)
    return stop_processes([record], timeout=1.0)
