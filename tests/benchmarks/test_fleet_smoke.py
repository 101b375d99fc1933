"""The fleet benchmark's quick mode runs end to end and prints its table.

A smoke test only: it checks that the script works and what it prints, never how fast
anything was (benchmarks print figures; tests do not assert timings).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_quick_mode_prints_the_figures_table() -> None:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BARRACK_"))}
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.fleet", "--quick", "--recipes", "nightly",
         "--clock-speed", "600", "--prefect-api-url", str(PREFECT_API_URL.value())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    output = completed.stdout
    assert completed.returncode == 0, output + completed.stderr
    header = next(line for line in output.splitlines() if line.startswith("| recipe"))
    for column in ("wall s", "floor s", "wall/floor", "API calls", "calls/inst", "task runs",
                   "peak MB", "flow CPU s", "server CPU s"):  # fmt: skip
        assert column in header
    row = next(line for line in output.splitlines() if line.startswith("| nightly-snapshots"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "20"
    assert int(cells[5].replace(",", "")) > 0, "API calls were counted from the request log"
    assert int(cells[8].replace(",", "")) > 0, "task runs were counted through the Prefect API"
    assert cells[-1] == "yes"
    assert "POST /api/snapshots/" in output, "calls by route follow the table"
