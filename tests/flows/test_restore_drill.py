"""Restore drills and SSH verification against the simulator and a real sshd on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from prefect.artifacts import Artifact
from prefect.client.schemas.objects import Artifact as ArtifactRecord

from barrack_ops.demo.receiver import NotificationReceiver
from flows.restore.drill import restore_drill
from flows.restore.drill_report import DrillReport
from flows.restore.flow import restore_to_region
from flows.restore.params import RestoreDrillParams, RestoreParams
from flows.restore.report import DRILL_HISTORY_KEY, RestoreOutcome
from simulator.scenarios.spec import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tests.helpers.restore_sim import SCENARIO, START, HookedTicker, instances_named, sim_instances
from tests.helpers.sshd import SSHServer, running_sshd, sshd_missing

pytestmark = pytest.mark.usefixtures("prefect_harness")

GPU_LINE = "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)"


@pytest.fixture(scope="module")
def module_sim() -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=START) as sim:
        yield sim


@pytest.fixture
def sim(module_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> SimHandle:
    module_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", module_sim.api_key)
    return module_sim


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    missing = sshd_missing()
    if missing:
        pytest.skip(missing)
    with running_sshd(tmp_path_factory.mktemp("restore-sshd")) as server:
        yield server


@pytest.fixture
def gpu(sshd: SSHServer) -> Iterator[SSHServer]:
    """The restored machine (posed by sshd on 127.0.0.1) has a working nvidia-smi."""
    sshd.set_gpu_script("127.0.0.1", f"echo '{GPU_LINE}'\n")
    yield sshd
    sshd.set_gpu_script("127.0.0.1", None)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as running:
        monkeypatch.setenv("BARRACK_NOTIFY_URLS", running.json_url("/ops"))
        monkeypatch.setenv("BARRACK_NOTIFY_STATE", "memory")
        yield running


def ssh_settings(server: SSHServer, **changes: object) -> dict[str, object]:
    settings: dict[str, object] = {
        "connect_host": "127.0.0.1",  # the simulator's addresses are not real hosts
        "port": server.port,
        "username": server.user,
        "private_key_path": str(server.key_file),
        "known_hosts_path": str(server.known_hosts_file),
        "timeout_minutes": 0.5,
        "retry_seconds": 0.1,
    }
    settings.update(changes)
    return settings


def common(sim: SimHandle) -> dict[str, object]:
    return {
        "connection": {"base_url": sim.base_url},
        "now": sim.now(),
        "poll_seconds": 0.02,
        "max_poll_seconds": 0.05,
        "wait_timeout_minutes": 1,
        "cleanup_timeout_minutes": 1,
        "notify": False,
    }


def drill(sim: SimHandle, **overrides: object) -> DrillReport:
    data = {**common(sim), **overrides}
    with HookedTicker(sim):
        return asyncio.run(restore_drill(RestoreDrillParams.model_validate(data)))


def drill_instances(sim: SimHandle) -> list[dict[str, Any]]:
    return [vm for vm in sim_instances(sim) if "-drill-" in vm["name"]]


def test_drill_restores_verifies_times_and_deletes(
    sim: SimHandle, gpu: SSHServer, receiver: NotificationReceiver
) -> None:
    before = {vm["id"] for vm in sim_instances(sim)}
    report = drill(
        sim,
        selection={"name_globs": ["train-h100", "notebook", "render-l40"]},
        ssh=ssh_settings(gpu),
        notify=True,
    )

    verdicts = {d.source_label: (d.outcome, d.ok) for d in report.drills}
    assert verdicts == {
        "notebook": (RestoreOutcome.RESTORED, True),
        "train-h100": (RestoreOutcome.RESTORED, True),
    }
    # render-l40 has no snapshot: nothing to drill, so left out, said so, and no failure.
    assert "render-l40: not drillable: no ready snapshot" in report.excluded
    assert report.ok
    for line in report.passed:
        assert line.instance_name == f"{line.source_label}-drill-1129"
        assert line.chosen_region == line.source_region  # targets default to 'source'
        assert line.verification is not None
        assert GPU_LINE in line.verification
        assert line.timeline.active_after_s is not None
        assert line.timeline.verified_after_s is not None
        assert line.timeline.verified_after_s >= line.timeline.active_after_s
        assert line.cleanup == "deleted (gone from the API)"
    # Every drill instance is gone; nothing else was touched.
    assert drill_instances(sim) == []
    assert {vm["id"] for vm in sim_instances(sim)} == before
    # Nothing failed: no critical alert (an instance with nothing to drill is not a
    # failed drill), only the all-passed message.
    assert [n.title for n in receiver.received] == ["Restore drill passed for 2 instance(s)"]
    # The history artifact: one row per instance, with the restore times.
    artifact = Artifact.get(DRILL_HISTORY_KEY)
    assert isinstance(artifact, ArtifactRecord)
    rows = json.loads(str(artifact.data))
    assert [(r["instance"], r["outcome"]) for r in rows] == [
        ("notebook", "passed"),
        ("train-h100", "passed"),
    ]
    assert all(r["to_active_s"] != "" for r in rows if r["outcome"] == "passed")


def test_a_failed_verification_fails_the_drill_and_still_deletes(
    sim: SimHandle, sshd: SSHServer
) -> None:
    sshd.set_gpu_script("127.0.0.1", None)  # nvidia-smi fails like a machine without driver
    report = drill(sim, selection={"name_globs": ["notebook"]}, ssh=ssh_settings(sshd))

    (line,) = report.drills
    assert line.outcome is RestoreOutcome.VERIFY_FAILED
    assert line.reason.startswith("'nvidia-smi' over SSH: 'nvidia-smi' exited 9")
    assert line.cleanup_done is True
    assert drill_instances(sim) == []
    assert not report.ok


def test_a_rerun_adopts_a_leftover_drill_instance(sim: SimHandle) -> None:
    # An interrupted drill of the same day left its instance behind.
    with sim.client() as client:
        snaps = client.get("/snapshots/", params={"per_page": 100}).json()["snapshots"]
        snap = next(s for s in snaps if s["name"] == "notebook-snap")
        client.post(
            f"/snapshots/{snap['id']}/restore/", json={"name": "notebook-drill-1129"}
        ).raise_for_status()
    report = drill(sim, selection={"name_globs": ["notebook", "notebook-drill-*"]})

    (line,) = report.drills  # the leftover itself is not drilled
    assert "notebook-drill-1129: a drill's own instance" in report.excluded
    assert line.ok
    assert [a.result for a in line.attempts] == ["adopted"]
    assert drill_instances(sim) == []
    restores = [r for r in sim.requests() if r["path"].endswith("/restore/")]
    assert len(restores) == 1  # only the one made above


def test_dry_run_drill_makes_nothing(sim: SimHandle) -> None:
    report = drill(sim, selection={"name_globs": ["train-h100"]}, dry_run=True)
    (line,) = report.drills
    assert line.outcome is RestoreOutcome.WOULD_RESTORE
    assert drill_instances(sim) == []
    # Nothing was drilled, so nothing passed or failed.
    assert report.summary_line() == "would drill 1 instance(s)"
    assert "passed" not in report.markdown()
    assert "failed" not in report.markdown()


def test_max_drills_defers_the_rest(sim: SimHandle) -> None:
    report = drill(sim, selection={"name_globs": ["train-h100", "notebook"]}, max_drills=1)
    assert len(report.drills) == 1
    assert len(report.deferred) == 1
    assert {report.drills[0].source_label, *report.deferred} == {"train-h100", "notebook"}


def test_restore_with_ssh_verification_keeps_the_machine(sim: SimHandle, gpu: SSHServer) -> None:
    params = RestoreParams.model_validate(
        {
            **common(sim),
            "instance_name": "train-h100",
            "targets": ["US-1"],
            "ssh": ssh_settings(gpu, expect_output="H100"),
        }
    )
    with HookedTicker(sim):
        report = asyncio.run(restore_to_region(params))

    assert report.outcome is RestoreOutcome.RESTORED, report.reason
    assert report.verified is True
    assert report.verification is not None
    assert report.verification.startswith("exit 0 after")
    assert [vm["status"] for vm in instances_named(sim, "train-h100-us1")] == ["ACTIVE"]


def test_restore_whose_verification_fails_is_kept_and_reported(
    sim: SimHandle, gpu: SSHServer
) -> None:
    params = RestoreParams.model_validate(
        {
            **common(sim),
            "instance_name": "train-h100",
            "targets": ["US-1"],
            "ssh": ssh_settings(gpu, expect_output="A100"),
        }
    )
    with HookedTicker(sim):
        report = asyncio.run(restore_to_region(params))

    assert report.outcome is RestoreOutcome.VERIFY_FAILED
    assert report.reason == "'nvidia-smi' over SSH: 'nvidia-smi' output does not contain 'A100'"
    assert report.cleanup is None  # a machine that is up is never deleted for this
    assert [vm["status"] for vm in instances_named(sim, "train-h100-us1")] == ["ACTIVE"]


def test_an_api_error_fails_one_drill_not_the_run(sim: SimHandle) -> None:
    # Every drill reads the stock first; each failure stays that instance's outcome.
    sim.set_faults({"method": "GET", "path": "/api/gpu-stocks*", "error_rate": 1.0, "status": 400})
    report = drill(sim, selection={"name_globs": ["train-h100", "notebook"]})

    assert [d.outcome for d in report.drills] == [RestoreOutcome.FAILED, RestoreOutcome.FAILED]
    assert all(d.reason.startswith("Barrack API error: VALIDATION_ERROR") for d in report.drills)
    assert drill_instances(sim) == []
