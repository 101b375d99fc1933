"""The hibernate-idle flow with SSH: the ssh probe over runs, and the pre-hibernate command.

A real OpenSSH server on loopback poses as the instances (127.0.0.1 and 127.0.0.2, via
``host_overrides``) with a stand-in ``nvidia-smi``; the API is the simulator's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.hibernate_idle.report import Action
from simulator.scenarios import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tests.helpers.hibernate import RUN_EVERY, SCENARIO, START, actions, ids, run, status, verdicts
from tests.helpers.sshd import SSHServer, running_sshd, sshd_missing

pytestmark = pytest.mark.usefixtures("prefect_harness")

WHO = "$(echo $SSH_CONNECTION | cut -d' ' -f3)"
"""In a remote command: the address the client connected to (which instance it poses as)."""


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    missing = sshd_missing()
    if missing:
        pytest.skip(missing)
    with running_sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=START) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimHandle, monkeypatch: pytest.MonkeyPatch) -> SimHandle:
    sim_server.reset()
    monkeypatch.setenv("BARRACK_API_KEY", sim_server.api_key)
    return sim_server


def ssh_settings(sshd: SSHServer, sim: SimHandle, **changes: Any) -> dict[str, Any]:
    names = ids(sim)
    return {
        "user": sshd.user,
        "port": sshd.port,
        "key_file": str(sshd.key_file),
        "known_hosts_file": str(sshd.known_hosts_file),
        "host_overrides": {names["idle-a40"]: "127.0.0.1", names["idle-h100"]: "127.0.0.2"},
        **changes,
    }


def test_the_ssh_probe_needs_idle_runs_covering_the_window(
    sim: SimHandle, sshd: SSHServer, tmp_path: Path
) -> None:
    sshd.set_gpus("127.0.0.1", (0, 300))
    sshd.set_gpus("127.0.0.2", (0, 280), (97, 65000))  # one of its GPUs trains

    def ssh_run() -> dict[str, Action]:
        report = run(
            sim,
            tmp_path,
            probe="ssh",
            ssh=ssh_settings(sshd, sim),
            selection={"name_globs": ["idle-a40", "idle-h100"]},
        )
        sim.advance(RUN_EVERY)
        return {name: v for name, v in verdicts(report).items()} | {
            f"{n}:action": a for n, a in actions(report).items()
        }

    seen = [ssh_run() for _ in range(6)]
    assert [s["idle-a40"] for s in seen] == [
        "not enough data",  # one observation is no window
        "not enough data",
        "not enough data",
        "warn",  # four idle runs, 15 minutes apart, cover the 60-minute window
        "waiting",
        "hibernate",  # warned 30 minutes ago
    ]
    assert {s["idle-h100"] for s in seen} == {"busy"}
    assert seen[-1]["idle-a40:action"] is Action.HIBERNATED
    assert status(sim, "idle-h100") == "ACTIVE"


def test_a_busy_ssh_observation_restarts_the_count(
    sim: SimHandle, sshd: SSHServer, tmp_path: Path
) -> None:
    sshd.set_gpus("127.0.0.1", (0, 300))
    overrides: dict[str, Any] = {
        "probe": "ssh",
        "ssh": ssh_settings(sshd, sim),
        "selection": {"name_globs": ["idle-a40"]},
    }
    for _ in range(4):
        report = run(sim, tmp_path, **overrides)
        sim.advance(RUN_EVERY)
    assert actions(report)["idle-a40"] is Action.WARNED
    sshd.set_gpus("127.0.0.1", (64, 9000))
    busy = run(sim, tmp_path, **overrides)
    assert verdicts(busy)["idle-a40"] == "busy"
    sshd.set_gpus("127.0.0.1", (0, 300))
    sim.advance(RUN_EVERY)
    after = run(sim, tmp_path, **overrides)
    assert verdicts(after)["idle-a40"] == "not enough data"


def _warned_and_due(sim: SimHandle, tmp_path: Path) -> None:
    run(sim, tmp_path)
    sim.advance(2 * RUN_EVERY)


def test_the_pre_hibernate_command_runs_first(
    sim: SimHandle, sshd: SSHServer, tmp_path: Path
) -> None:
    _warned_and_due(sim, tmp_path)
    marks = tmp_path / "checkpoints"
    marks.mkdir()
    report = run(
        sim,
        tmp_path,
        ssh=ssh_settings(sshd, sim),
        selection={"name_globs": ["idle-*"]},
        pre_hibernate_command=f"touch {marks}/{WHO}",
    )
    assert actions(report) == {"idle-a40": Action.HIBERNATED, "idle-h100": Action.HIBERNATED}
    assert sorted(p.name for p in marks.iterdir()) == ["127.0.0.1", "127.0.0.2"]


def test_a_failing_pre_hibernate_command_cancels_and_alerts(
    sim: SimHandle, sshd: SSHServer, tmp_path: Path
) -> None:
    _warned_and_due(sim, tmp_path)
    command = f'case {WHO} in 127.0.0.2) echo "checkpoint failed: disk full" >&2; exit 7;; esac'
    overrides: dict[str, Any] = {
        "ssh": ssh_settings(sshd, sim),
        "selection": {"name_globs": ["idle-*"]},
        "pre_hibernate_command": command,
    }
    report = run(sim, tmp_path, **overrides)
    h100 = next(i for i in report.instances if i.instance_name == "idle-h100")
    assert h100.action is Action.FAILED
    assert "pre-hibernate command failed, not hibernated" in h100.reason
    assert "exit status 7: checkpoint failed: disk full" in h100.reason
    assert actions(report)["idle-a40"] is Action.HIBERNATED
    assert status(sim, "idle-h100") == "ACTIVE"
    assert not report.ok

    from flows.hibernate_idle.report import hibernate_alerts

    alerts, _ = hibernate_alerts(report)
    failed = [a for a in alerts if a.kind.value == "hibernate-failed"]
    assert [a.subject.id for a in failed] == [ids(sim)["idle-h100"]]

    sim.advance(RUN_EVERY)  # the warning stands: the next run tries again
    again = run(sim, tmp_path, **overrides)
    assert actions(again)["idle-h100"] is Action.FAILED


def test_a_hanging_pre_hibernate_command_times_out(
    sim: SimHandle, sshd: SSHServer, tmp_path: Path
) -> None:
    _warned_and_due(sim, tmp_path)
    report = run(
        sim,
        tmp_path,
        ssh=ssh_settings(sshd, sim),
        selection={"name_globs": ["idle-a40"]},
        pre_hibernate_command="sleep 4",
        pre_hibernate_timeout_seconds=0.5,
    )
    a40 = report.instances[0]
    assert a40.action is Action.FAILED
    assert "no answer within 0.5 s" in a40.reason
    assert status(sim, "idle-a40") == "ACTIVE"
