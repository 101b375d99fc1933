"""The command line, in-process, against the simulator and Prefect's test harness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from barrack_ops.cli import app
from simulator.testing import SimHandle, running_simulator

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


@pytest.fixture
def params_file(demo_sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    demo_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", demo_sim.api_key)
    path = tmp_path / "nightly.yaml"
    path.write_text(
        f"connection:\n  base_url: {demo_sim.base_url}\n"
        f"now: '{START.isoformat()}'\n"
        "retention:\n  keep_daily: 7\n"
        "max_deletions: 1000\n"
        "notify: false\n"
    )
    return path


def test_plan_retention_shows_every_decision(params_file: Path, demo_sim: SimHandle) -> None:
    demo_sim.clear_requests()
    result = runner.invoke(app, ["plan", "retention", "--params", str(params_file)])
    assert result.exit_code == 0, result.output
    assert "to delete" in result.output
    assert "newest" in result.output
    assert {r["method"] for r in demo_sim.requests()} == {"GET"}


@pytest.mark.usefixtures("prefect_harness")
def test_run_nightly_snapshots_dry_run(params_file: Path, demo_sim: SimHandle) -> None:
    demo_sim.clear_requests()
    result = runner.invoke(
        app, ["run", "nightly-snapshots", "--params", str(params_file), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "(dry run)" in result.output
    assert "would prune" in result.output
    assert {r["method"] for r in demo_sim.requests()} == {"GET"}


def test_a_bad_parameter_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("max_deletions: -3\n")
    result = runner.invoke(app, ["run", "nightly-snapshots", "--params", str(path)])
    assert result.exit_code == 2
    assert "max_deletions" in result.output


def test_missing_api_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BARRACK_API_KEY", raising=False)
    result = runner.invoke(app, ["plan", "retention"])
    assert result.exit_code == 2
    assert "BARRACK_API_KEY" in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_run_without_a_key_fails_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BARRACK_API_KEY", raising=False)
    result = runner.invoke(app, ["run", "nightly-snapshots", "--dry-run"])
    assert result.exit_code == 2
    assert "BARRACK_API_KEY" in result.output
    assert "Traceback" not in result.output
