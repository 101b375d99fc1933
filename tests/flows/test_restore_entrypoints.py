"""The restore recipe's command-line functions and its demo part, against the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from barrack_ops.commands.restore import run_restore_drill, run_restore_to_region
from barrack_ops.demo.restore import demo_restore
from simulator.scenarios.spec import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from simulator.ticker import ClockTicker
from tests.helpers.restore_sim import SCENARIO, START, instances_named
from tests.helpers.screen import assert_no_repeated_run

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def module_sim() -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=START) as sim:
        yield sim


@pytest.fixture
def sim(module_sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> SimHandle:
    module_sim.reset()
    monkeypatch.setenv("BARRACK_API_KEY", module_sim.api_key)
    monkeypatch.setenv("BARRACK_BASE_URL", module_sim.base_url)
    return module_sim


def flat(text: str) -> str:
    """Output without the line breaks rich puts in at the terminal width."""
    return " ".join(text.split())


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("restore-to-region")(run_restore_to_region)
    app.command("restore-drill")(run_restore_drill)
    return app


def test_a_malformed_name_is_a_usage_error(cli: typer.Typer) -> None:
    result = CliRunner().invoke(
        cli, ["restore-to-region", "--instance", "train-h100", "--name", "x"]
    )
    assert result.exit_code == 2
    assert "name: instance name must be 2-30 characters long, got 1" in flat(result.output)


def test_two_sources_are_a_usage_error(cli: typer.Typer) -> None:
    result = CliRunner().invoke(
        cli, ["restore-to-region", "--instance", "train-h100", "--snapshot", "snap-1"]
    )
    assert result.exit_code == 2
    assert "exactly one source" in flat(result.output)


def test_dry_run_prints_where_it_would_go(cli: typer.Typer, sim: SimHandle) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "restore-to-region",
            "--instance",
            "train-h100",
            "-t",
            "us-1",
            "-t",
            "source",
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "dry run: would restore into US-1 as train-h100-us1" in flat(result.output)
    assert instances_named(sim, "train-h100-us1") == []


def test_a_blocked_restore_exits_1(cli: typer.Typer, sim: SimHandle) -> None:
    result = CliRunner().invoke(cli, ["restore-to-region", "--instance", "render-l40"])
    assert result.exit_code == 1
    assert "no snapshots of render-l40" in flat(result.output)


def test_drill_dry_run_from_a_params_file(cli: typer.Typer, sim: SimHandle, tmp_path: Path) -> None:
    params = tmp_path / "drill.yaml"
    params.write_text("selection:\n  name_globs: [notebook]\nnotify: false\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["restore-drill", "--params", str(params), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would drill 1 instance(s)" in flat(result.output)


def test_demo_part_restores_across_regions_and_drills() -> None:
    with running_simulator("demo", seed=1, start=START) as demo, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BARRACK_API_KEY", demo.api_key)
        lines, ok = demo_restore(demo, lambda: ClockTicker(demo, step=10, interval=0.01))
        assert ok, "\n".join(lines)
        assert lines[1] == "  Restore of batch-h100: restored in NORWAY-1 as batch-h100-no1"
        assert instances_named(demo, "batch-h100-no1")[0]["region"] == "NORWAY-1"
        assert any(line.startswith("Restore drill (") and "2 passed" in line for line in lines)
        assert_no_repeated_run(lines)
