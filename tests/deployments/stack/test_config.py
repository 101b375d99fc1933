"""Configuration checks, ports, environments and command lines of the stack's processes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from deployments.stack import services
from deployments.stack.config import StackConfig, StackError
from deployments.stack.prefect_setup import deployments_in


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"workers": 0}, "workers: must be at least 1"),
        ({"worker_limit": 0}, "worker_limit: must be at least 1"),
        ({"server_port": 70000}, "server_port: 70000 is not a TCP port"),
        ({"clock": "fast"}, "clock: clock must be"),
        ({"clock": "manual"}, "clock: 'manual' never moves"),
        ({"prefect_file": Path("nope.yaml")}, "prefect_file: .*nope.yaml does not exist"),
    ],
)
def test_bad_settings_are_refused_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(StackError, match=message):
        StackConfig().with_changes(**changes)


def test_paths_default_to_the_repository(tmp_path: Path) -> None:
    config = StackConfig()
    assert config.state_file == config.root / ".run" / "stack.json"
    assert config.prefect_home_path == (config.root / ".prefect").resolve()
    moved = config.with_changes(run_dir=tmp_path / "r", prefect_home=tmp_path / "p")
    assert moved.logs_dir == tmp_path / "r" / "logs"
    assert moved.prefect_home_path == tmp_path / "p"


def test_a_busy_port_is_replaced_by_a_free_one() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        chosen = services.pick_port("127.0.0.1", port)
    assert chosen != port
    assert services.pick_port("127.0.0.1", 0) > 0


def test_children_do_not_inherit_the_callers_prefect_or_barrack_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "https://api.prefect.cloud/api/accounts/x")
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_real")
    monkeypatch.setenv("BARRACK_API_KEY", "real-key")
    monkeypatch.setenv("BARRACK_NOTIFY_URLS", "slack://real")
    env = services.child_env(StackConfig())
    assert not [name for name in env if name.startswith("BARRACK_")]
    assert env["PREFECT_HOME"] == str(StackConfig().prefect_home_path)
    assert "PREFECT_API_KEY" not in env
    assert "PREFECT_API_URL" not in env
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_the_simulators_secrets_never_reach_the_recorded_command_line() -> None:
    endpoints = services.Endpoints("127.0.0.1", 4200, 8642, 8765)
    argv = services.sim_argv(StackConfig(), endpoints, api_key="k-123", admin_token="t-456")
    assert "k-123" in argv
    shown = services.redact_argv(argv)
    assert "k-123" not in shown
    assert "t-456" not in shown
    assert shown[shown.index("--api-key") + 1] == "***"


def test_flow_runs_reach_the_simulator_and_the_receiver() -> None:
    endpoints = services.Endpoints("127.0.0.1", 4200, 8642, 8765)
    env = services.flow_run_env(StackConfig(), endpoints, api_key="k")
    assert env["BARRACK_BASE_URL"] == "http://127.0.0.1:8642/api"
    assert env["BARRACK_NOTIFY_URLS"] == "json://127.0.0.1:8765/ops"
    assert env["BARRACK_API_KEY"] == "k"
    assert endpoints.api_url == "http://127.0.0.1:4200/api"


def test_workers_poll_this_server() -> None:
    config = StackConfig(worker_limit=1, worker_poll_seconds=2)
    endpoints = services.Endpoints("127.0.0.1", 4300, 8642, 8765)
    argv = services.worker_argv(config, "barrack-ops", "worker-barrack-ops-1")
    assert argv[-2:] == ["--limit", "1"]
    assert argv[argv.index("--pool") : argv.index("--pool") + 2] == ["--pool", "barrack-ops"]
    env = services.worker_env(config, endpoints)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4300/api"
    assert float(env["PREFECT_WORKER_QUERY_SECONDS"]) == 2


def test_a_deployment_without_a_work_pool_is_refused(tmp_path: Path) -> None:
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text("deployments:\n  - name: x\n    entrypoint: a:b\n")
    with pytest.raises(StackError, match=r"deployments\[0\] needs a name and work_pool.name"):
        deployments_in(prefect_file)
    prefect_file.write_text("deployments: []\n")
    with pytest.raises(StackError, match="declares no deployments"):
        deployments_in(prefect_file)
