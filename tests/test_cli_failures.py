"""The real command line, as a user runs it (a subprocess), through each way a run fails.

Every failure is one ``error:`` line naming the problem, no traceback, the documented exit
status; a run that ends says so in one last line. Each CLI start costs seconds, so each
test groups its assertions over one or two starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.testing import SimHandle, running_simulator

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

UNREACHABLE_BOUND_S = 120.0
"""A run against a closed port gives up at its first call (README: "an unreachable API");
this bound is the process's whole life, Python and imports included: 6 s were measured
on a quiet 2-core machine and 59 s under a load average of 20, where the old behaviour
(five client attempts times three task tries and a 60 s wait) took 104 s on an idle one."""


@pytest.fixture(scope="module")
def demo_sim() -> Iterator[SimHandle]:
    with running_simulator("demo", seed=1, start=START) as sim:
        yield sim


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(
    *args: str, env: dict[str, str], tmp_path: Path, timeout: float = 600
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m barrack_ops ARGS`` with only the given settings, and its wall time."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BARRACK_", "PREFECT_"))}
    clean |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "BARRACK_OPS_LOG": str(tmp_path / "barrack-ops.log"),
        "COLUMNS": "80",
        **env,
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "barrack_ops", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done, time.monotonic() - started


def error_lines(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


def assert_no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stdout + done.stderr, done.stderr


def test_configuration_problems_are_one_line_and_exit_2_before_prefect(
    demo_sim: SimHandle, tmp_path: Path
) -> None:
    key = demo_sim.api_key
    api = demo_sim.base_url
    cases = [
        # (args, env, what the one line must say)
        (
            ["run", "hibernate-idle", "--dry-run"],
            {"BARRACK_API_KEY": key, "BARRACK_BASE_URL": api, "BARRACK_NOTIFY_URLS": "nope://x"},
            "BARRACK_NOTIFY_URLS",
        ),
        (
            ["run", "nightly-snapshots", "--dry-run"],
            {"BARRACK_API_KEY": "not-the-key", "BARRACK_BASE_URL": api},
            "refused the key (401)",
        ),
        (
            ["run", "restore-drill", "--dry-run"],
            {"BARRACK_API_KEY": key, "BARRACK_BASE_URL": api.removesuffix("/api")},
            "is the base URL right? It should be the API's root, ending with /api",
        ),
        (
            ["run", "restore-to-region", "--instance", "notebook"],
            {"BARRACK_BASE_URL": api},
            "BARRACK_API_KEY",
        ),
    ]
    for args, env, expected in cases:
        done, _ = cli(*args, env=env, tmp_path=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        (line,) = error_lines(done)
        assert expected in line, (args, line)
        assert_no_traceback(done)
        # Prefect never started: the server line is printed only when a flow runs.
        assert "Prefect:" not in done.stderr, args
        assert key not in done.stdout + done.stderr


def test_a_bad_parameter_is_one_line_naming_it(tmp_path: Path) -> None:
    params = tmp_path / "nightly.yaml"
    params.write_text("max_deletions: -3\nretentoin: {}\n")
    done, _ = cli("run", "nightly-snapshots", "--params", str(params), env={}, tmp_path=tmp_path)
    assert done.returncode == 2
    (line,) = error_lines(done)
    assert "max_deletions" in line
    assert "retentoin" in line
    assert_no_traceback(done)


def test_a_closed_port_ends_at_once_with_one_line(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{closed_port()}/api"
    done, took = cli(
        "run",
        "low-balance",
        env={"BARRACK_API_KEY": "k", "BARRACK_BASE_URL": base},
        tmp_path=tmp_path,
        timeout=UNREACHABLE_BOUND_S * 3,
    )
    assert done.returncode == 2, done.stderr
    (line,) = error_lines(done)
    assert line.startswith(f"error: cannot reach the API at {base}")
    assert "nothing answers" in line
    assert_no_traceback(done)
    assert len(done.stderr.splitlines()) <= 2, done.stderr
    assert took < UNREACHABLE_BOUND_S, f"gave up after {took:.0f} s"


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_names_its_prefect_server_and_ends_with_its_outcome(
    demo_sim: SimHandle, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    demo_sim.reset()
    params = tmp_path / "nightly.yaml"
    params.write_text(
        f"now: '{START.isoformat()}'\nretention:\n  keep_daily: 3\nmax_deletions: 2\n"
        "notify: false\n"
    )
    server = str(PREFECT_API_URL.value())
    done, _ = cli(
        "run",
        "nightly-snapshots",
        "--dry-run",
        "--params",
        str(params),
        env={
            "BARRACK_API_KEY": demo_sim.api_key,
            "BARRACK_BASE_URL": demo_sim.base_url,
            "PREFECT_API_URL": server,
        },
        tmp_path=tmp_path,
    )
    lines = done.stderr.splitlines()
    assert f"Prefect: the server at {server} (PREFECT_API_URL)" in lines
    # A dry run that finds pruning blocked exits 1 and says why, last.
    assert done.returncode == 1, done.stderr
    assert lines[-1].startswith("nightly-snapshots: done, needs attention (exit 1): ")
    assert "pruning blocked: " in lines[-1]
    assert "exceed max_deletions=2" in lines[-1]
    assert_no_traceback(done)
    assert (tmp_path / "barrack-ops.log").is_file()
