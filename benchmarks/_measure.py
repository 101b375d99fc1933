"""Measure one flow run: a child process for the flow, the servers' CPU, Prefect's records.

The flow runs in its own process (``benchmarks._child``) so ``os.wait4`` gives exactly its
peak resident memory and CPU seconds. Prefect records task runs from events after the
fact, so the server keeps working once a big flow has ended: :func:`settle` waits until
the count of task runs stops moving and the server idles, and the server's CPU is read
after that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks._child import RESULT_MARKER
from benchmarks._procs import ManagedProcess

__all__ = ["ChildResult", "count_task_runs", "idle_cpu_rate", "run_child", "settle"]


@dataclass(frozen=True, slots=True)
class ChildResult:
    """What the flow process reported and what the kernel measured of it."""

    result: dict[str, Any]
    process_wall_s: float
    peak_rss_mb: float
    cpu_s: float
    exit_code: int
    log: Path


def run_child(job: dict[str, Any], env: dict[str, str], log: Path) -> ChildResult:
    """Run ``job`` in a fresh ``python -m benchmarks._child`` and measure it.

    Raises:
        RuntimeError: the child printed no result (its output is in ``log``).
    """
    started = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._child"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write(json.dumps(job))
        process.stdin.close()
        # wait4 reaps this very child and returns its own rusage (not the sum of all).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    result: dict[str, Any] | None = None
    for line in log.read_text().splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line.removeprefix(RESULT_MARKER))
    if result is None:
        raise RuntimeError(
            f"the flow process printed no result (exit {process.returncode}); see {log}"
        )
    return ChildResult(
        result=result,
        process_wall_s=wall,
        # ru_maxrss is in KiB on Linux.
        peak_rss_mb=usage.ru_maxrss / 1024,
        cpu_s=usage.ru_utime + usage.ru_stime,
        exit_code=process.returncode,
        log=log,
    )


def count_task_runs(api_url: str, flow_run_id: str) -> int:
    """Task runs Prefect has recorded for a flow run."""
    response = httpx.post(
        f"{api_url}/task_runs/count",
        json={"flow_runs": {"id": {"any_": [flow_run_id]}}},
        timeout=60,
    )
    response.raise_for_status()
    return int(response.json())


def idle_cpu_rate(server: ManagedProcess, seconds: float = 3.0) -> float:
    """CPU seconds per second the server spends when nobody uses it (its own services)."""
    before = server.cpu_seconds()
    time.sleep(seconds)
    return (server.cpu_seconds() - before) / seconds


def settle(
    server: ManagedProcess | None,
    api_url: str,
    flow_run_id: str,
    *,
    idle_cpu_per_s: float,
    limit_s: float = 600.0,
) -> tuple[int, float]:
    """Wait until Prefect has recorded the run: the count is stable and the server idles.

    Args:
        server: the Prefect server process, or None for one this benchmark did not start
            (then only the count is watched).
        api_url: its API URL.
        flow_run_id: the run whose task runs are counted.
        idle_cpu_per_s: the server's CPU rate at rest (:func:`idle_cpu_rate`).
        limit_s: give up waiting after this long.

    Returns:
        The task-run count and the seconds waited.
    """
    started = time.monotonic()
    last_count = -1
    last_cpu = server.cpu_seconds() if server is not None else 0.0
    stable = 0
    while time.monotonic() - started < limit_s:
        time.sleep(0.5)
        count = count_task_runs(api_url, flow_run_id)
        cpu = server.cpu_seconds() if server is not None else 0.0
        # The count query itself costs the server a little CPU: allow for it.
        quiet = cpu - last_cpu <= (idle_cpu_per_s + 0.05) / 2
        stable = stable + 1 if count == last_count and quiet else 0
        last_count, last_cpu = count, cpu
        if stable >= 3:
            break
    return last_count, time.monotonic() - started
