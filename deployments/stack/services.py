"""The stack's processes: their command lines, environments, ports and readiness checks."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from barrack.wire import API_PREFIX
from deployments.stack.config import StackConfig, StackError

__all__ = [
    "SECRET_OPTIONS",
    "Endpoints",
    "child_env",
    "flow_run_env",
    "pick_port",
    "prefect_command",
    "receiver_argv",
    "redact_argv",
    "server_argv",
    "server_env",
    "sim_argv",
    "wait_until_ready",
    "worker_argv",
    "worker_env",
]

SECRET_OPTIONS = frozenset({"--api-key", "--admin-token"})
"""Command-line options whose value is never written to the state file."""

NOTIFY_PATH = "ops"
"""The receiver path the flow runs' notifications are posted to."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where each service listens once started."""

    host: str
    server_port: int
    sim_port: int
    receiver_port: int

    @property
    def ui_url(self) -> str:
        """The Prefect UI."""
        return f"http://{self.host}:{self.server_port}"

    @property
    def api_url(self) -> str:
        """The Prefect API (``PREFECT_API_URL``)."""
        return f"{self.ui_url}/api"

    @property
    def sim_root_url(self) -> str:
        """The simulator's root: ``/_sim`` control routes, the Prometheus API."""
        return f"http://{self.host}:{self.sim_port}"

    @property
    def sim_base_url(self) -> str:
        """The simulator's API base URL (``BARRACK_BASE_URL``)."""
        return f"{self.sim_root_url}{API_PREFIX}"

    @property
    def receiver_url(self) -> str:
        """The receiver's root (``GET /_received`` lists what arrived)."""
        return f"http://{self.host}:{self.receiver_port}"

    @property
    def notify_url(self) -> str:
        """The apprise URL that posts to the receiver (``BARRACK_NOTIFY_URLS``)."""
        return f"json://{self.host}:{self.receiver_port}/{NOTIFY_PATH}"


def pick_port(host: str, wanted: int) -> int:
    """``wanted`` if it is free, else (or when it is 0) a free port the system chooses."""
    if wanted and _port_is_free(host, wanted):
        return wanted
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The servers set SO_REUSEADDR too: a port in TIME_WAIT is free for them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def child_env(config: StackConfig) -> dict[str, str]:
    """The environment every process of the stack starts from.

    The caller's ``PREFECT_*`` and ``BARRACK_*`` settings are left out: the stack must not
    talk to another Prefect server (or Prefect Cloud) nor hand a real Barrack key or real
    notification destinations to flow runs that act on a simulator.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "BARRACK_"))
    }
    env.update(
        PREFECT_HOME=str(config.prefect_home_path),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PYTHONUNBUFFERED="1",  # logs reach the log files as they happen
    )
    return env


def prefect_command(config: StackConfig) -> list[str]:
    """The ``prefect`` command of the venv."""
    return [str(config.python), "-m", "prefect"]


def server_argv(config: StackConfig, endpoints: Endpoints) -> list[str]:
    """``prefect server start`` on the chosen address."""
    return [
        *prefect_command(config),
        "server",
        "start",
        "--host",
        endpoints.host,
        "--port",
        str(endpoints.server_port),
    ]


def server_env(
    config: StackConfig, endpoints: Endpoints, *, database_url: str | None = None
) -> dict[str, str]:
    """The server's environment: the UI talks to this API, no promotions, offline; its
    database at ``database_url`` (SQLite under ``PREFECT_HOME`` when None)."""
    env = child_env(config)
    env.update(
        PREFECT_UI_API_URL=endpoints.api_url,
        PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT="false",
    )
    if database_url is not None:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    if config.concurrency_slot_wait_seconds is not None:
        env["PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"] = str(
            config.concurrency_slot_wait_seconds
        )
    return env


def sim_argv(
    config: StackConfig, endpoints: Endpoints, *, api_key: str, admin_token: str
) -> list[str]:
    """``barrack-ops sim`` with an accelerated clock and the given credentials."""
    return [
        str(config.python),
        "-m",
        "barrack_ops",
        "sim",
        "--host",
        endpoints.host,
        "--port",
        str(endpoints.sim_port),
        "--scenario",
        config.scenario,
        "--seed",
        str(config.seed),
        "--clock",
        config.clock,
        "--api-key",
        api_key,
        "--admin-token",
        admin_token,
    ]


def receiver_argv(config: StackConfig, endpoints: Endpoints) -> list[str]:
    """The local notification receiver, also appending to ``.run/notifications.jsonl``."""
    return [
        str(config.python),
        "-m",
        "barrack_ops.demo.receiver",
        "--host",
        endpoints.host,
        "--port",
        str(endpoints.receiver_port),
        "--jsonl",
        str(config.notifications_file),
    ]


def worker_argv(config: StackConfig, pool: str, name: str) -> list[str]:
    """``prefect worker start`` on ``pool``."""
    argv = [
        *prefect_command(config),
        "worker",
        "start",
        "--pool",
        pool,
        "--name",
        name,
        "--type",
        "process",
    ]
    if config.worker_limit is not None:
        argv += ["--limit", str(config.worker_limit)]
    return argv


def worker_env(config: StackConfig, endpoints: Endpoints) -> dict[str, str]:
    """A worker's environment: this server's API, the configured polling interval."""
    env = child_env(config)
    env.update(
        PREFECT_API_URL=endpoints.api_url,
        PREFECT_WORKER_QUERY_SECONDS=str(config.worker_poll_seconds),
    )
    return env


def flow_run_env(config: StackConfig, endpoints: Endpoints, *, api_key: str) -> dict[str, str]:
    """What every flow run of the stack gets (through the work pool's job template).

    The simulator's API key sits in the work pool's configuration, readable by anyone with
    access to this Prefect server: acceptable for a throwaway key on loopback, never for a
    real one (see docs/operations.md).
    """
    return {
        "BARRACK_BASE_URL": endpoints.sim_base_url,
        "BARRACK_API_KEY": api_key,
        "BARRACK_NOTIFY_URLS": endpoints.notify_url,
        "BARRACK_OPS_STATE_DIR": str(config.recipe_state_dir),
    }


def redact_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """``argv`` with the values of :data:`SECRET_OPTIONS` replaced by ``***``."""
    redacted = list(argv)
    for index, item in enumerate(redacted[:-1]):
        if item in SECRET_OPTIONS:
            redacted[index + 1] = "***"
    return tuple(redacted)


def wait_until_ready(
    name: str,
    url: str,
    *,
    timeout: float,
    check_processes: Callable[[], None],
    headers: Mapping[str, str] | None = None,
) -> None:
    """Poll ``url`` until it answers 200.

    Raises:
        StackError: it did not within ``timeout`` seconds (or a process of the stack died,
            which ``check_processes`` reports by raising).
    """
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0, headers=dict(headers or {})) as client:
        while True:
            check_processes()
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == httpx.codes.OK:
                    return
            if time.monotonic() >= deadline:
                raise StackError(f"{name} did not answer at {url} within {timeout:g} s")
            time.sleep(0.25)
