"""The hibernate-idle flow against the simulator, through Prefect's real engine.

Utilisation comes from the simulator's Prometheus API, computed from per-instance
profiles over simulated time; the clock moves by hand between runs (a run every 15
minutes, as deployed).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from barrack_ops.demo.receiver import NotificationReceiver
from flows.hibernate_idle.report import Action
from flows.hibernate_idle.state import IdleMemory
from simulator.scenarios import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from tests.helpers.hibernate import (
    RUN_EVERY,
    SCENARIO,
    START,
    actions,
    ids,
    run,
    status,
    verdicts,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimHandle]:
    with running_simulator(parse_scenario_yaml(SCENARIO), seed=1, start=START) as handle:
        yield handle


@pytest.fixture
def sim(sim_server: SimHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimHandle:
    sim_server.reset()
    monkeypatch.setenv("BARRACK_API_KEY", sim_server.api_key)
    monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
    monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(tmp_path / "notify-ledger.json"))
    return sim_server


def test_warned_first_then_hibernated_on_a_later_run(
    sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with NotificationReceiver() as receiver:
        monkeypatch.setenv("BARRACK_NOTIFY_URLS", receiver.json_url("/ops"))
        first = run(sim, tmp_path, notify=True)
        assert verdicts(first) == {
            "idle-a40": "warn",
            "idle-h100": "warn",
            "busy-train": "busy",
            "spiky-infer": "busy",
            "fresh-box": "not armed",
            "prod-db": "exempt",
            "notebook-anna": "snoozed",
            "stopped-render": "not active",
        }
        assert actions(first)["idle-a40"] is Action.WARNED
        assert status(sim, "idle-a40") == "ACTIVE"
        warning = receiver.wait_for(1)[0]
        assert "idle-a40 is idle: hibernates after 12:30Z unless used" in (warning.body or "")

        sim.advance(RUN_EVERY)
        second = run(sim, tmp_path, notify=True)
        assert actions(second)["idle-a40"] is Action.WAITING
        assert status(sim, "idle-h100") == "ACTIVE"

        sim.advance(RUN_EVERY)
        third = run(sim, tmp_path, notify=True)
        assert actions(third)["idle-a40"] is Action.HIBERNATED
        assert actions(third)["idle-h100"] is Action.HIBERNATED
        assert actions(third)["busy-train"] is Action.LEFT_RUNNING
        assert third.ok, third.markdown()
        bodies = " ".join(n.body or "" for n in receiver.wait_for(2))
        assert "Hibernated idle-h100: saves USD 477.84/day" in bodies

    assert status(sim, "idle-a40") in ("HIBERNATING", "HIBERNATED")
    assert status(sim, "busy-train") == "ACTIVE"
    h100 = next(i for i in third.instances if i.instance_name == "idle-h100")
    # 8 x 2.49 an hour running, 0.01 hibernated: (19.92 - 0.01) x 24 a day
    assert h100.saving_per_day == Decimal("477.84")
    assert h100.rates_source == "price list + documented hibernated rate"
    assert third.savings() == {"USD": Decimal("477.84") + Decimal("16.32")}
    assert "idle for the whole 60 min window" in h100.reason
    assert h100.samples == 60
    assert "Hibernated" not in first.markdown()

    sim.advance(RUN_EVERY)
    after = run(sim, tmp_path)
    assert verdicts(after)["idle-a40"] == "not active"
    remembered = asyncio.run(IdleMemory.in_file(tmp_path / "idle-state.json").load())
    assert ids(sim)["idle-a40"] not in remembered


def test_a_busy_spike_clears_the_warning_and_it_starts_over(sim: SimHandle, tmp_path: Path) -> None:
    names = ids(sim)
    first = run(sim, tmp_path)
    assert actions(first)["idle-a40"] is Action.WARNED

    # someone runs a job for three minutes, five minutes after the warning
    sim.set_utilization(
        names["idle-a40"],
        {"preset": "idle", "segments": [{"at": 300, "util": 88}, {"at": 480, "preset": "idle"}]},
    )
    sim.advance(RUN_EVERY)
    second = run(sim, tmp_path)
    a40 = next(i for i in second.instances if i.instance_name == "idle-a40")
    assert a40.verdict == "busy"
    assert "peak utilisation 88.0 %" in a40.reason

    sim.advance(RUN_EVERY)
    third = run(sim, tmp_path)  # the spike is still inside the window: no hibernation
    assert actions(third)["idle-a40"] is Action.LEFT_RUNNING
    assert actions(third)["idle-h100"] is Action.HIBERNATED

    sim.advance(3 * RUN_EVERY)  # the spike has left the window: warned again, not hibernated
    fourth = run(sim, tmp_path)
    assert actions(fourth)["idle-a40"] is Action.WARNED
    assert status(sim, "idle-a40") == "ACTIVE"


def test_missing_data_counts_as_busy(sim: SimHandle, tmp_path: Path) -> None:
    report = run(sim, tmp_path, min_uptime_minutes=0)
    fresh = next(i for i in report.instances if i.instance_name == "fresh-box")
    assert fresh.verdict == "not enough data"
    assert "largest hole" in fresh.reason
    assert fresh.action is Action.LEFT_RUNNING


def test_exempt_snoozed_and_not_armed_are_never_touched(sim: SimHandle, tmp_path: Path) -> None:
    for _ in range(4):
        report = run(sim, tmp_path, grace_minutes=0)
        sim.advance(RUN_EVERY)
    by_name = {i.instance_name: i for i in report.instances}
    assert by_name["prod-db"].reason == "exempt by pattern 'prod-*'"
    assert by_name["notebook-anna"].reason == "snoozed until 2026-11-28 12:00Z: demo"
    assert by_name["fresh-box"].verdict == "not armed"  # 40 + 60 minutes up: armed at 120
    for name in ("prod-db", "notebook-anna", "fresh-box"):
        assert status(sim, name) == "ACTIVE"
    assert status(sim, "idle-a40") in ("HIBERNATING", "HIBERNATED")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_broken_probe_keeps_everything_up_and_says_so(sim: SimHandle, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    run(sim, tmp_path)  # warned with a working probe
    sim.advance(2 * RUN_EVERY)
    report = run(sim, tmp_path, prometheus={"url": url})
    a40 = next(i for i in report.instances if i.instance_name == "idle-a40")
    assert a40.verdict == "probe failed"
    assert "unreachable" in (a40.probe_error or "")
    assert not report.ok
    assert "Kept awake because the probe could not judge them" in report.markdown()
    assert all(status(sim, name) == "ACTIVE" for name in ("idle-a40", "idle-h100"))
    # the failure cleared the warnings: a working probe warns again before acting
    sim.advance(RUN_EVERY)
    again = run(sim, tmp_path)
    assert actions(again)["idle-a40"] is Action.WARNED


def test_a_probe_timeout_counts_as_busy(sim: SimHandle, tmp_path: Path) -> None:
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        report = run(
            sim, tmp_path, prometheus={"url": f"http://127.0.0.1:{port}", "timeout_seconds": 0.3}
        )
    probed = [i for i in report.instances if i.probe]
    assert len(probed) == 5
    assert all("timed out after 0.3 s" in (i.probe_error or "") for i in probed)
    armed = {i.instance_name: i.verdict for i in probed if i.instance_name != "fresh-box"}
    assert set(armed.values()) == {"probe failed"}


class _StoppingProxy:
    """Forwards Prometheus queries to the simulator; on the first one, stops an instance.

    So the instance is ACTIVE when listed and planned, and STOPPING when re-read.
    """

    def __init__(self, sim: SimHandle, instance_id: str) -> None:
        self.sim, self.instance_id = sim, instance_id
        self.stopped = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not proxy.stopped.is_set():
                    proxy.stopped.set()
                    with proxy.sim.client() as client:
                        client.post(f"/instances/{proxy.instance_id}/stop/").raise_for_status()
                answer = httpx.get(proxy.sim.prometheus_url + self.path, timeout=10)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> _StoppingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_status_change_just_before_acting_skips_the_instance(
    sim: SimHandle, tmp_path: Path
) -> None:
    names = ids(sim)
    run(sim, tmp_path)
    sim.advance(2 * RUN_EVERY)
    with _StoppingProxy(sim, names["idle-a40"]) as proxy:
        report = run(sim, tmp_path, prometheus={"url": proxy.url})
    assert proxy.stopped.is_set()
    a40 = next(i for i in report.instances if i.instance_name == "idle-a40")
    assert a40.verdict == "hibernate"
    assert a40.action is Action.SKIPPED
    assert a40.reason == "status changed to STOPPING before acting"
    assert actions(report)["idle-h100"] is Action.HIBERNATED
    assert status(sim, "idle-a40") in ("STOPPING", "SHUTOFF")


def test_max_actions_and_dry_run(sim: SimHandle, tmp_path: Path) -> None:
    dry = run(sim, tmp_path, dry_run=True)
    assert actions(dry)["idle-a40"] is Action.WOULD_WARN
    assert not (tmp_path / "idle-state.json").exists(), "a dry run remembers nothing"

    run(sim, tmp_path)
    sim.advance(2 * RUN_EVERY)
    would = run(sim, tmp_path, dry_run=True)
    assert actions(would)["idle-h100"] is Action.WOULD_HIBERNATE
    assert "to hibernate (saves USD 494.16/day)" in would.summary_line()
    assert status(sim, "idle-h100") == "ACTIVE"

    limited = run(sim, tmp_path, max_actions=1)
    assert actions(limited)["idle-h100"] is Action.HIBERNATED  # the bigger saving goes first
    assert actions(limited)["idle-a40"] is Action.HELD
    assert status(sim, "idle-a40") == "ACTIVE"
    sim.advance(RUN_EVERY)
    later = run(sim, tmp_path, max_actions=1)
    assert actions(later)["idle-a40"] is Action.HIBERNATED


def test_memory_in_prefect_variables(sim: SimHandle, tmp_path: Path) -> None:
    first = run(sim, tmp_path, state_store="prefect", policy_name="variables-test")
    assert first.state_store.startswith("prefect variables barrack-ops-idle--variables-test--")
    store = IdleMemory.in_prefect("variables-test")
    remembered = asyncio.run(store.load())
    a40 = ids(sim)["idle-a40"]
    assert remembered[a40].warned_at == START
    sim.advance(2 * RUN_EVERY)
    second = run(sim, tmp_path, state_store="prefect", policy_name="variables-test")
    assert actions(second)["idle-a40"] is Action.HIBERNATED
    assert a40 not in asyncio.run(store.load())


def test_artifacts_are_published(sim: SimHandle, tmp_path: Path) -> None:
    from prefect.artifacts import Artifact

    run(sim, tmp_path, policy_name="artifacts-test")
    sim.advance(2 * RUN_EVERY)
    run(sim, tmp_path, policy_name="artifacts-test")
    summary = Artifact.get("hibernate-idle-artifacts-test")
    table = Artifact.get("hibernate-idle-artifacts-test-hibernated")
    assert summary is not None
    assert "idle-h100" in str(summary.data)
    assert table is not None
    rows = json.loads(str(table.data))
    assert {row["saving/day"] for row in rows} == {"USD 477.84", "USD 16.32"}


def test_the_command_line(sim: SimHandle, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from barrack_ops.commands.hibernate_idle import run_hibernate_idle

    app = typer.Typer()
    app.command()(run_hibernate_idle)
    settings = tmp_path / "hibernate.yaml"
    settings.write_text(
        f"connection: {{base_url: {sim.base_url}}}\n"
        f"now: {sim.now().isoformat()}\n"
        f"state_store: file\nstate_file: {tmp_path / 'cli-state.json'}\nnotify: false\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(
        app, ["--params", str(settings), "--dry-run", "--prometheus-url", sim.prometheus_url]
    )
    assert result.exit_code == 0, result.output
    assert "would warn" in result.output
    assert not (tmp_path / "cli-state.json").exists()

    closed = runner.invoke(
        app, ["--params", str(settings), "--prometheus-url", f"http://127.0.0.1:{_closed_port()}"]
    )
    assert closed.exit_code == 1  # the probe could not judge anything

    bad = runner.invoke(app, ["--params", str(settings), "--probe", "snmp"])
    assert bad.exit_code == 2
    assert "probe:" in bad.output


def test_the_demo_warns_then_hibernates_the_idle_and_leaves_the_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from barrack_ops.demo.hibernate import demo_hibernate_idle
    from tests.helpers.screen import assert_no_repeated_run

    with running_simulator("demo", seed=1, start=START) as demo:
        monkeypatch.setenv("BARRACK_API_KEY", demo.api_key)
        monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
        monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(tmp_path / "ledger.json"))
        lines, ok = demo_hibernate_idle(demo, tmp_path)
        statuses = {name: status(demo, name) for name in ids(demo)}
    text = "\n".join(lines)
    assert ok, text
    idle = ("finetune-a100", "notebook-anna", "eval-a40", "dev-a40")
    busy = ("llm-train-01", "llm-train-02", "inference-h100", "inference-a100", "batch-h100")
    run_one = text.split("  run 2:")[0]
    for name in idle:
        assert f"warned     {name}:" in run_one
        assert statuses[name] in ("HIBERNATING", "HIBERNATED")
    for name in busy:
        assert statuses[name] == "ACTIVE"
        assert name not in run_one
    assert "run 3: 2026-11-27 12:30Z: 4 hibernated" in text
    assert "Estimated saving of this run's hibernations: USD " in text
    assert_no_repeated_run(lines)
