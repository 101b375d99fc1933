"""The spend-report flow against the simulator over a simulated fortnight, through Prefect.

The ``spend-week`` scenario is played on (barrack_ops.demo.spend_report): an instance deleted
leaving its snapshot, an 8-GPU instance forgotten for a day (the anomaly), top-ups, AI
usage, the hibernate-idle recipe's idle evidence. The digest goes to a real local
receiver (json://, which takes attachments); the dedup ledger is a file under tmp_path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from matplotlib.image import imread
from rich.console import Console

from barrack_ops.demo.receiver import NotificationReceiver
from barrack_ops.demo.spend_report import IDLE_POLICY, play_spend_week, run_spend_demo
from flows.spend_report.chart import chart_totals
from flows.spend_report.flow import spend_report
from flows.spend_report.params import SpendReportParams
from simulator.testing import SimHandle, running_simulator
from tasks.connection import BarrackConnection

START = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def spend_sim() -> Iterator[SimHandle]:
    with running_simulator("spend-week", seed=7, start=START) as sim:
        yield sim


@pytest.fixture
def receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as receiver:
        yield receiver


@pytest.fixture
def sim(
    spend_sim: SimHandle,
    receiver: NotificationReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> SimHandle:
    monkeypatch.setenv("BARRACK_API_KEY", spend_sim.api_key)
    monkeypatch.setenv("BARRACK_NOTIFY_URLS", receiver.json_url("/ops"))
    monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
    monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(tmp_path / "alerts.json"))
    monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(tmp_path))
    return spend_sim


def test_a_fortnight_two_weekly_reports_anomaly_raised_then_resolved(
    sim: SimHandle, receiver: NotificationReceiver, tmp_path: Path
) -> None:
    state_file = tmp_path / "idle.json"
    end = asyncio.run(play_spend_week(sim, state_file, weeks=2))

    def run(period: str) -> object:
        return asyncio.run(
            spend_report(
                SpendReportParams(
                    account_name="fortnight",
                    period=period,
                    connection=BarrackConnection(base_url=sim.base_url),
                    now=end,
                    idle_policy_name=IDLE_POLICY,
                    idle_state_store="file",
                    idle_state_file=state_file,
                    output_dir=tmp_path / "out",
                    baseline_weeks=2,
                )
            )
        )

    first = run("2026-11-09..2026-11-15")
    titles = [n.title or "" for n in receiver.received]
    assert any("Spend anomaly" in t for t in titles), titles
    assert first.anomalies[0].day.isoformat() == "2026-11-09"  # type: ignore[attr-defined]
    names = [c.name for c in first.anomalies[0].contributors]  # type: ignore[attr-defined]
    assert names[0] == "restore-test-h100"
    receiver.clear()
    second = run("2026-11-16..2026-11-22")
    assert second.anomalies == []  # type: ignore[attr-defined]
    titles = [n.title or "" for n in receiver.received]
    assert any("resolved" in t.lower() for t in titles), titles
    assert any(t.startswith("Spend 2026-11-16..2026-11-22") for t in titles), titles


def test_demo_prints_the_digest_and_saves_a_chart_that_matches_the_table(
    sim: SimHandle, receiver: NotificationReceiver, tmp_path: Path
) -> None:
    console = Console(record=True, width=120)
    report = asyncio.run(run_spend_demo(console, sim, tmp_path / "demo"))
    text = console.export_text()
    assert "Spend report" in text
    assert "Waste" in text
    assert report.chart_path is not None
    data = report.chart_path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert imread(report.chart_path).ndim == 3
    drawn = chart_totals(report.spend)
    for kind, amount in report.spend.by_kind.items():
        assert Decimal(str(drawn[kind])).quantize(Decimal("0.01")) == amount.quantize(
            Decimal("0.01")
        )
    categories = {line.category for line in report.waste.lines}
    assert {"idle-gpu", "shutoff", "orphan-snapshot", "unattached-volume"} <= categories
    assert report.waste.hibernation_saved > 0
    assert report.balance is not None
    assert report.balance.top_ups == Decimal("500.00")
    assert report.balance.opening + report.balance.top_ups - report.balance.spent == (
        report.balance.closing
    )
    digest = [n for n in receiver.received if (n.title or "").startswith("Spend ")]
    assert digest, [n.title or "" for n in receiver.received]


def test_command_line_prints_exact_json_and_csv(sim: SimHandle, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from barrack_ops.cli import app

    end = asyncio.run(play_spend_week(sim, tmp_path / "idle.json"))
    params = tmp_path / "params.yaml"
    params.write_text(
        f"connection: {{base_url: '{sim.base_url}'}}\nnow: '{end.isoformat()}'\n"
        f"output_dir: '{tmp_path / 'out'}'\nidle_state_store: file\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    period = "2026-11-09..2026-11-15"
    result = runner.invoke(
        app, ["report", "spend", "--period", period, "-p", str(params), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["period"]["first"] == "2026-11-09"
    assert Decimal(data["total"]) == sum(Decimal(v) for v in data["by_kind"].values())
    result = runner.invoke(app, ["report", "spend", "--period", period, "-p", str(params), "--csv"])
    assert result.exit_code == 0, result.output
    rows = [r for r in result.stdout.splitlines() if r.startswith(period)]
    assert sum(Decimal(r.split(",")[7]) for r in rows) == Decimal(data["total"])
    bad = runner.invoke(app, ["report", "spend", "--period", "2026-11-31..2026-12-01"])
    assert bad.exit_code == 2
    assert "period" in bad.output
