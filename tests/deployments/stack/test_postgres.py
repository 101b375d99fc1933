"""The stack's PostgreSQL: its own cluster under ``.run/postgres``, created once, stopped by
``down`` without leaving a process, its data kept for the next start.

A Prefect server on it (``/api/health``, deployments, workers, two flow runs at once) is
the e2e tests' job: tests/e2e/conftest.py starts the whole stack on PostgreSQL and checks
that ``down`` leaves no process of it.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from deployments.stack import StackConfig, StackError, startup
from deployments.stack.__main__ import _database
from deployments.stack.postgres import (
    DATABASE,
    DB_USER,
    Binaries,
    PostgresCluster,
    _check_reachable,
    find_binaries,
    service_user,
)
from deployments.stack.processes import ProcessRecord, is_running, process_table, spawn
from deployments.stack.services import Endpoints, server_env


def _postgres_missing() -> str | None:
    try:
        find_binaries()
    except StackError as exc:
        return str(exc)
    return None


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder the ``postgres`` user can enter when the tests run as root (pytest's own
    temporary folders are root's alone)."""
    base = Path(tempfile.mkdtemp(prefix="barrack-pg-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


async def _query(cluster: PostgresCluster, *statements: str) -> list[str]:
    connection = await asyncpg.connect(
        host=str(cluster.socket_dir), port=cluster.port, user=DB_USER, database=DATABASE
    )
    try:
        for statement in statements[:-1]:
            await connection.execute(statement)
        return [str(row[0]) for row in await connection.fetch(statements[-1])]
    finally:
        await connection.close()


def _start(config: StackConfig, cluster: PostgresCluster) -> ProcessRecord:
    _, record = spawn(
        "postgres",
        cluster.server_argv(find_binaries()),
        env=dict(os.environ),
        cwd=config.root,
        log_path=config.logs_dir / "postgres.log",
        user=cluster.user,
    )
    cluster.wait_ready(timeout=120)
    return record


@pytest.mark.skipif(_postgres_missing() is not None, reason=f"{_postgres_missing()}")
def test_the_cluster_is_created_once_stopped_cleanly_and_keeps_its_data(open_dir: Path) -> None:
    config = StackConfig(run_dir=open_dir / ".run", stop_timeout=30)
    cluster = PostgresCluster(config.postgres_dir, user=service_user())
    assert cluster.prepare(find_binaries(), log=config.logs_dir / "initdb.log") is True
    record = _start(config, cluster)
    try:
        if os.geteuid() == 0:
            owner = psutil.Process(record.pid).username()
            assert owner != "root", "PostgreSQL refuses root: it runs as another user"
        rows = asyncio.run(
            _query(cluster, "CREATE TABLE kept (name text)", "INSERT INTO kept VALUES ('x')",
                   "SELECT name FROM kept")
        )  # fmt: skip
        assert rows == ["x"]
        assert not list(cluster.socket_dir.parent.glob("*.s.PGSQL*")), "no socket outside"
        helpers = psutil.Process(record.pid).children(recursive=True)
        assert helpers, "the postmaster runs its checkpointer, writers..."
    finally:
        result = startup.stop_stack(config, [record])
    # down's path: a fast shutdown, every process of the cluster gone, nothing killed.
    assert result.survivors == ()
    assert result.killed == ()
    assert not is_running(record)
    table = process_table()
    assert not [p.pid for p in helpers if p.pid in table and not table[p.pid].zombie]
    assert not (cluster.data_dir / "postmaster.pid").exists(), "a clean shutdown"

    # The next start finds the cluster: no initdb, the data still there.
    assert cluster.prepare(find_binaries(), log=config.logs_dir / "initdb.log") is False
    record = _start(config, cluster)
    try:
        assert asyncio.run(_query(cluster, "SELECT name FROM kept")) == ["x"]
    finally:
        assert startup.stop_stack(config, [record]).survivors == ()


def test_only_the_postgres_stack_points_the_server_at_another_database() -> None:
    config = StackConfig()
    endpoints = Endpoints(host="127.0.0.1", server_port=1, sim_port=2, receiver_port=3)
    cluster = PostgresCluster(Path("/srv/stack/.run/postgres"))
    assert "PREFECT_API_DATABASE_CONNECTION_URL" not in server_env(config, endpoints)
    on_postgres = server_env(config, endpoints, database_url=cluster.connection_url)
    assert on_postgres["PREFECT_API_DATABASE_CONNECTION_URL"] == (
        "postgresql+asyncpg://prefect@/prefect?host=/srv/stack/.run/postgres/socket&port=5432"
    )


def test_a_cluster_folder_holding_something_else_is_not_overwritten(open_dir: Path) -> None:
    cluster = PostgresCluster(open_dir / "postgres", user=service_user())
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "notes.txt").write_text("mine")
    with pytest.raises(StackError, match=r"is not empty but holds no PostgreSQL cluster"):
        cluster.prepare(Binaries(Path("initdb"), Path("postgres")), log=open_dir / "initdb.log")
    assert (cluster.data_dir / "notes.txt").read_text() == "mine"


def test_a_folder_the_service_user_cannot_enter_is_named(open_dir: Path) -> None:
    locked = open_dir / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0o700)
    stranger = pwd.struct_passwd(("nobody", "x", 65534, 65534, "", "/", "/bin/false"))
    owner = os.stat(locked).st_uid
    if owner == stranger.pw_uid:
        pytest.skip("the folder belongs to the stranger")
    with pytest.raises(StackError, match=rf"cannot enter {locked} \(mode drwx------\)"):
        _check_reachable(locked / "inner", stranger)
    locked.chmod(0o711)
    _check_reachable(locked / "inner", stranger)


def test_binaries_come_from_the_newest_debian_version_when_not_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StackError, match="PostgreSQL is not installed: install Debian's"):
        find_binaries(tmp_path)
    for version in ("9", "13", "15", "notes"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        for program in ("initdb", "postgres"):
            (bin_dir / program).write_text("")
            (bin_dir / program).chmod(stat.S_IRWXU)
    found = find_binaries(tmp_path)
    assert found.postgres == tmp_path / "15" / "bin" / "postgres"
    assert found.initdb == tmp_path / "15" / "bin" / "initdb"


@pytest.mark.parametrize(
    ("flag", "variable", "expected"),
    [
        (None, None, "sqlite"),
        (None, "postgres", "postgres"),
        (None, " Postgres ", "postgres"),
        ("sqlite", "postgres", "sqlite"),
        ("postgres", None, "postgres"),
    ],
)
def test_the_database_comes_from_the_flag_then_the_environment(
    flag: str | None, variable: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if variable is None:
        monkeypatch.delenv("BARRACK_STACK_DB", raising=False)
    else:
        monkeypatch.setenv("BARRACK_STACK_DB", variable)
    assert _database(flag) == expected


def test_an_unknown_database_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BARRACK_STACK_DB", "mysql")
    with pytest.raises(StackError, match=r"BARRACK_STACK_DB: 'mysql' is not a database"):
        _database(None)
    with pytest.raises(StackError, match=r"database: 'mysql' is not one of sqlite, postgres"):
        StackConfig(database="mysql")  # type: ignore[arg-type]
