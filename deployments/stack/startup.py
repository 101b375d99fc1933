"""Start the stack's processes in order, record each at once, undo everything on failure.

The order: the Barrack simulator with an accelerated clock and the notification receiver;
with ``database="postgres"``, the stack's PostgreSQL cluster (``initdb`` the first time),
ready before the Prefect server starts on it (else the server uses SQLite under
``PREFECT_HOME``); the Prefect server; wait until each answers;
create the work pool(s) with the flow runs' environment; drop runs that fell due while the
stack was down; run ``prefect deploy`` on every deployment of ``prefect.yaml`` while the
workers start (both spend seconds importing); point the parameters at the simulator; wait
until the workers report. Every process id goes to the state file as soon as the process
exists, so a failure half-way is undone here, or by ``make down`` if this process was killed.
"""

from __future__ import annotations

import pwd
import secrets
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from deployments.stack import postgres, prefect_setup, services
from deployments.stack.config import StackConfig, StackError
from deployments.stack.overrides import STACK_PARAMETER_OVERRIDES
from deployments.stack.processes import ProcessRecord, StopResult, spawn, stop_processes
from deployments.stack.state import StackState, remove_state, save_state

__all__ = ["POSTGRES", "WORKER_PREFIX", "Echo", "Started", "start_stack", "stop_stack"]

Echo = Callable[[str], None]

WORKER_PREFIX = "worker-"
"""Names of worker processes start with it: they are stopped first."""

POSTGRES = "postgres"
"""The name of the PostgreSQL server's record: it is stopped last, after the Prefect server."""


@dataclass(frozen=True)
class Started:
    """What :func:`start_stack` brought up, with the simulator's credentials."""

    state: StackState
    endpoints: services.Endpoints
    api_key: str = field(repr=False)
    admin_token: str = field(repr=False)


def stop_stack(config: StackConfig, records: list[ProcessRecord]) -> StopResult:
    """Stop recorded processes: workers first (their flow runs go with them), then the
    services they talk to, then PostgreSQL (a fast shutdown, once nothing uses it)."""
    workers = [r for r in records if r.name.startswith(WORKER_PREFIX)]
    databases = [r for r in records if r.name == POSTGRES]
    others = [r for r in records if r not in workers and r not in databases]
    results = [
        stop_processes(workers, timeout=config.stop_timeout),
        stop_processes(others, timeout=config.stop_timeout),
        *(postgres.stop_postgres(r, timeout=config.stop_timeout) for r in databases),
    ]
    return StopResult(
        terminated=tuple(pid for r in results for pid in r.terminated),
        killed=tuple(pid for r in results for pid in r.killed),
        survivors=tuple(pid for r in results for pid in r.survivors),
    )


class _Launcher:
    """Starts processes, records each at once, and notices when one dies."""

    def __init__(self, config: StackConfig, state: StackState) -> None:
        self.config = config
        self.state = state
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.transient: list[subprocess.Popen[bytes]] = []

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        user: pwd.struct_passwd | None = None,
    ) -> None:
        """Start a long-running process and record it (secrets in its argv masked)."""
        process, record = spawn(
            name,
            argv,
            env=env,
            cwd=self.config.root,
            log_path=self.config.logs_dir / f"{name}.log",
            user=user,
        )
        self.children[name] = process
        self.state.processes.append(record.model_copy(update={"argv": services.redact_argv(argv)}))
        save_state(self.config.state_file, self.state)

    def check(self) -> None:
        """Raise if a process started here has exited (with the end of its log)."""
        for name, process in self.children.items():
            code = process.poll()
            if code is not None:
                log = self.config.logs_dir / f"{name}.log"
                raise StackError(
                    f"{name} exited with status {code}; {log} ends with:\n"
                    + prefect_setup.tail(log)
                )

    def kill_transient(self) -> None:
        """Kill the short-lived helpers (``prefect deploy``) still running."""
        for process in self.transient:
            if process.poll() is None:
                process.kill()
                process.wait()


def start_stack(config: StackConfig, echo: Echo) -> Started:
    """Bring everything up; on any failure (or Ctrl-C) stop what started and re-raise.

    Raises:
        StackError: a process exited, a service did not answer in time, or ``prefect
            deploy`` failed.
    """
    config.run_path.mkdir(parents=True, exist_ok=True)
    config.recipe_state_dir.mkdir(parents=True, exist_ok=True)
    endpoints = _endpoints(config, echo)
    state = StackState(
        started_at=datetime.now(UTC),
        root=str(config.root),
        ui_url=endpoints.ui_url,
        api_url=endpoints.api_url,
        sim_base_url=endpoints.sim_base_url,
        sim_root_url=endpoints.sim_root_url,
        receiver_url=endpoints.receiver_url,
    )
    started = Started(
        state=state,
        endpoints=endpoints,
        api_key="sim-" + secrets.token_urlsafe(18),
        admin_token="admin-" + secrets.token_urlsafe(18),
    )
    launcher = _Launcher(config, state)
    try:
        _start_services(config, started, launcher, echo)
        _deploy_and_start_workers(config, started, launcher, echo)
        _write_env_file(config.env_file, started)
        state.ready = True
        save_state(config.state_file, state)
    except BaseException:
        echo("Start-up failed: stopping what was started.")
        launcher.kill_transient()
        stop_stack(config, state.processes)
        remove_state(config.state_file)
        raise
    return started


def _endpoints(config: StackConfig, echo: Echo) -> services.Endpoints:
    """The ports to use: the wanted ones where free, others where not (said aloud)."""
    endpoints = services.Endpoints(
        host=config.host,
        server_port=services.pick_port(config.host, config.server_port),
        sim_port=services.pick_port(config.host, config.sim_port),
        receiver_port=services.pick_port(config.host, config.receiver_port),
    )
    for label, wanted, chosen in (
        ("Prefect server", config.server_port, endpoints.server_port),
        ("simulator", config.sim_port, endpoints.sim_port),
        ("receiver", config.receiver_port, endpoints.receiver_port),
    ):
        if wanted and wanted != chosen:
            echo(f"Port {wanted} is busy: the {label} listens on {chosen} instead.")
    return endpoints


def _start_services(config: StackConfig, started: Started, launcher: _Launcher, echo: Echo) -> None:
    """The simulator, the receiver, PostgreSQL if chosen, and the Prefect server; wait until
    they answer."""
    endpoints = started.endpoints
    launcher.start(
        "simulator",
        services.sim_argv(
            config, endpoints, api_key=started.api_key, admin_token=started.admin_token
        ),
        services.child_env(config),
    )
    launcher.start(
        "receiver", services.receiver_argv(config, endpoints), services.child_env(config)
    )
    database_url = None
    if config.database == "postgres":
        database_url = _start_postgres(config, started.state, launcher, echo)
    else:
        echo(f"Starting the Prefect server (SQLite under {config.prefect_home_path})...")
    launcher.start(
        "prefect-server",
        services.server_argv(config, endpoints),
        services.server_env(config, endpoints, database_url=database_url),
    )
    for name, url, headers in (
        (
            "the simulator",
            f"{endpoints.sim_root_url}/_sim/clock",
            {"Authorization": f"Bearer {started.admin_token}"},
        ),
        ("the receiver", f"{endpoints.receiver_url}/_received", {}),
        ("the Prefect server", f"{endpoints.api_url}/health", {}),
    ):
        services.wait_until_ready(
            name,
            url,
            timeout=config.startup_timeout,
            check_processes=launcher.check,
            headers=headers,
        )


def _start_postgres(config: StackConfig, state: StackState, launcher: _Launcher, echo: Echo) -> str:
    """The stack's PostgreSQL cluster (``initdb`` the first time), ready for Prefect.

    Returns:
        The Prefect server's database connection URL.
    """
    binaries = postgres.find_binaries()
    cluster = postgres.PostgresCluster(config.postgres_dir, user=postgres.service_user())
    if not cluster.is_initialised():
        echo(f"Creating the PostgreSQL cluster in {cluster.data_dir} (once)...")
    cluster.prepare(binaries, log=config.logs_dir / "initdb.log")
    owner = f" as user {cluster.user_name}" if cluster.user is not None else ""
    echo(f"Starting PostgreSQL{owner} ({cluster.data_dir}), then the Prefect server on it...")
    state.database = "postgres"
    state.database_url = cluster.display_url
    launcher.start(
        POSTGRES, cluster.server_argv(binaries), services.child_env(config), cluster.user
    )
    cluster.wait_ready(timeout=config.startup_timeout, check_processes=launcher.check)
    return cluster.connection_url


def _deploy_and_start_workers(
    config: StackConfig, started: Started, launcher: _Launcher, echo: Echo
) -> None:
    """Work pools, ``prefect deploy`` (while the workers start), overrides, workers online."""
    endpoints, state = started.endpoints, started.state
    specs = prefect_setup.deployments_in(config.root / config.prefect_file)
    pools = sorted({spec.work_pool for spec in specs})
    state.work_pools = pools
    echo(f"Creating work pool(s) {', '.join(pools)}; deploying {len(specs)} deployment(s)...")
    prefect_setup.configure_work_pools(
        endpoints.api_url,
        pools,
        services.flow_run_env(config, endpoints, api_key=started.api_key),
    )
    missed = prefect_setup.drop_missed_runs(endpoints.api_url, specs)
    if missed:
        echo(f"Dropped {missed} scheduled run(s) that fell due while the stack was down.")
    deploy_log = config.logs_dir / "deploy.log"
    deploy = prefect_setup.start_prefect_deploy(
        services.prefect_command(config),
        config.prefect_file,
        cwd=config.root,
        env=services.child_env(config) | {"PREFECT_API_URL": endpoints.api_url},
        log=deploy_log,
    )
    launcher.transient.append(deploy)
    workers = {
        pool: [f"{WORKER_PREFIX}{pool}-{n}" for n in range(1, config.workers + 1)] for pool in pools
    }
    for pool, names in workers.items():
        for name in names:
            launcher.start(
                name,
                services.worker_argv(config, pool, name),
                services.worker_env(config, endpoints),
            )
    prefect_setup.finish_prefect_deploy(deploy, deploy_log, timeout=config.startup_timeout)
    state.deployments = prefect_setup.finish_deployments(
        endpoints.api_url,
        specs,
        overrides=STACK_PARAMETER_OVERRIDES,
        placeholders={
            "sim_root_url": endpoints.sim_root_url,
            "sim_base_url": endpoints.sim_base_url,
        },
        schedules_active=config.schedules_active,
    )
    save_state(config.state_file, state)
    for pool, names in workers.items():
        prefect_setup.wait_for_workers(
            endpoints.api_url,
            pool,
            names,
            timeout=config.startup_timeout,
            check_processes=launcher.check,
        )


def _write_env_file(path: Path, started: Started) -> None:
    """Shell assignments for a terminal that wants to use the stack (owner-only: a key)."""
    values = {
        "PREFECT_API_URL": started.endpoints.api_url,
        "BARRACK_BASE_URL": started.endpoints.sim_base_url,
        "BARRACK_API_KEY": started.api_key,
        "BARRACK_NOTIFY_URLS": started.endpoints.notify_url,
        "SIM_ADMIN_TOKEN": started.admin_token,
    }
    lines = [
        "# The barrack-ops local stack (make up). In a shell: set -a; . .run/stack.env; set +a",
        *(f"{name}={shlex.quote(value)}" for name, value in values.items()),
    ]
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
