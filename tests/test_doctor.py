"""``barrack-ops doctor`` through the real CLI, against the simulator over a real socket."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from barrack import BarrackSettings
from barrack_ops.cli import app
from barrack_ops.doctor import Verdict, read_only_routes, report_as_dict, run_doctor
from simulator.testing import SimHandle, running_simulator

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as handle:
        yield handle


@pytest.fixture
def sim(demo_sim: SimHandle) -> SimHandle:
    """The demo fleet at its start, with its default settings."""
    demo_sim.reset()
    return demo_sim


def _doctor(base_url: str, api_key: str, *args: str, **env: str) -> Result:
    environment = {"BARRACK_BASE_URL": base_url, "BARRACK_API_KEY": api_key, "COLUMNS": "250"}
    return runner.invoke(app, ["doctor", *args], env=environment | env)


def _rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["operation"]: row for row in report["operations"]}


def _add_script(sim: SimHandle) -> None:
    """The demo fleet has no startup script; one lets ``scripts.get`` be tried too."""
    with sim.client() as client:
        body = {"name": "doctor-probe", "content": "#!/bin/bash\necho ok\n"}
        client.post("/scripts/", json=body).raise_for_status()


def test_all_good_exits_0_with_every_read_only_route_ok_and_no_key_in_the_report(
    sim: SimHandle, tmp_path: Path
) -> None:
    _add_script(sim)
    sim.clear_requests()
    path = tmp_path / "doctor.json"

    result = _doctor(sim.base_url, sim.api_key, "--json", str(path))

    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert sim.api_key not in text
    assert sim.api_key not in result.output
    report = json.loads(text)
    rows = _rows(report)
    assert set(rows) == {r.operation for r in read_only_routes()}
    assert {r["verdict"] for r in rows.values()} == {"ok"}, [
        r for r in rows.values() if r["verdict"] != "ok"
    ]
    assert report["auth"]["accepted_header"] == "Authorization"
    assert report["clock_skew_seconds"] is not None
    assert "0 differs, 0 failed, 0 skipped; exit 0" in result.stdout
    # Read-only: nothing but GETs and the pricing query reached the API.
    sent = {(r["method"], r["path"]) for r in sim.requests()}
    assert {m for m, _ in sent} == {"GET", "POST"}
    assert {p for m, p in sent if m == "POST"} == {"/api/pricing/"}


def test_finds_the_auth_header_the_api_accepts_and_says_what_to_set(
    sim: SimHandle, tmp_path: Path
) -> None:
    sim.settings(auth_header="X-API-Key")
    path = tmp_path / "doctor.json"

    result = _doctor(sim.base_url, sim.api_key, "--json", str(path))

    assert result.exit_code == 0, result.output
    assert "X-API-Key accepted" in result.stdout
    assert "BARRACK_AUTH_HEADER=X-API-Key" in result.stdout
    auth = json.loads(path.read_text())["auth"]
    assert auth["configured_header"] == "Authorization"
    assert auth["accepted_header"] == "X-API-Key"
    assert auth["attempts"] == [
        {"header": "Authorization", "status": 401},
        {"header": "X-API-Key", "status": 200},
    ]


def test_a_renamed_payload_key_exits_1_and_names_the_key_found(sim: SimHandle) -> None:
    sim.settings(payload_keys={"instances.list": "vms"})

    result = _doctor(sim.base_url, sim.api_key, "--json", "-")

    assert result.exit_code == 1, result.output
    rows = _rows(json.loads(result.stdout))
    row = rows["instances.list"]
    assert row["verdict"] == "differs"
    assert row["expected_key"] == "instances"
    assert row["found_keys"] == ["vms"]
    assert row["missing"] == []
    assert row["unknown"] == []
    assert {op for op, r in rows.items() if r["verdict"] == "differs"} == {"instances.list"}
    # Ids still come from the list under its real key, so the instance routes are tried.
    assert rows["instances.get"]["verdict"] == "ok"
    # With --json -, the table goes to stderr: operation, status, payload key, missing, ...
    line = next(ln for ln in result.stderr.splitlines() if "instances.list " in ln)
    cells = [cell.strip() for cell in line.split("│")[1:-1]]
    assert cells[:3] == ["instances.list", "200", "vms (expected instances)"]
    assert cells[5] == "differs"
    assert "instances.list: no 'instances' in the answer; 'vms' looks like it" in result.stderr


def test_an_unreachable_base_url_exits_2_with_one_line_promptly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    result = _doctor(f"http://127.0.0.1:{port}/api", "any-key-at-all")

    assert time.monotonic() - started < 5
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot reach http://127.0.0.1:")


def test_a_wrong_key_exits_2_after_trying_every_header(sim: SimHandle) -> None:
    sim.clear_requests()

    result = _doctor(sim.base_url, "not-the-right-key")

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "accepted none of the auth headers" in lines[0]
    assert "check BARRACK_API_KEY" in lines[0]
    assert [r["status"] for r in sim.requests()] == [401, 401, 401]


def test_a_missing_key_exits_2_with_one_error_line(sim: SimHandle) -> None:
    result = runner.invoke(app, ["doctor"], env={"BARRACK_BASE_URL": sim.base_url})

    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no Barrack API key")


def test_the_report_scrubs_a_key_the_server_echoes() -> None:
    """Part C's sample echoes the key (``authenticated_user``); errors may quote it too."""
    key = "sk-live-echoed-0123456789"

    def echo(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/balance/"):
            body = {"success": True, "credit": {"balance": 5, "currency": "USD"}, key: 1}
            return httpx.Response(200, json=body, headers={"X-RateLimit-Remaining": key})
        return httpx.Response(500, json={"success": False, "message": f"bad key {key}"})

    settings = BarrackSettings(api_key=key, base_url="https://barrack.example/api")
    report = run_doctor(settings, transport=httpx.MockTransport(echo))

    assert report.exit_code == 1
    assert report.checks[0].verdict is Verdict.DIFFERS  # the unknown top-level field
    written = json.dumps(report_as_dict(report, (key,)))
    assert key not in written
    assert "[secret]" in written


def test_a_base_url_without_the_api_prefix_exits_2_and_points_at_the_url(sim: SimHandle) -> None:
    result = _doctor(sim.root_url, sim.api_key)

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "check BARRACK_BASE_URL" in lines[0]


def test_a_web_page_answering_200_is_not_taken_for_the_api() -> None:
    def web_page(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>Barrack</html>")

    settings = BarrackSettings(api_key="some-key-1234", base_url="https://barrack.example")
    report = run_doctor(settings, transport=httpx.MockTransport(web_page))

    assert report.exit_code == 2
    assert report.accepted_header is None
    assert report.problem is not None
    assert "other than JSON" in report.problem


def test_a_429_is_waited_out_for_its_retry_after_and_its_headers_reported() -> None:
    calls: list[str] = []

    def limited_once(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            headers = {"Retry-After": "2", "X-RateLimit-Remaining": "0"}
            return httpx.Response(429, json={"success": False}, headers=headers)
        return httpx.Response(500, json={"success": False, "message": "down"})

    waits: list[float] = []
    settings = BarrackSettings(api_key="some-key-1234", base_url="https://barrack.example/api")
    report = run_doctor(settings, transport=httpx.MockTransport(limited_once), sleep=waits.append)

    assert waits == [2.0]
    assert calls[:2] == ["/api/balance/", "/api/balance/"]
    assert report.rate_limit_headers == {"Retry-After": "2", "X-RateLimit-Remaining": "0"}
    assert report.exit_code == 2
    assert report.problem is not None
    assert "the API is failing" in report.problem
