"""Telemetry tasks: GPU utilisation evidence from a probe, and a command run over SSH.

Probe tasks are not Barrack API tasks: no retries (a failed probe is an answer, "busy",
not something to hide behind a retry) and no caching (telemetry must be fresh).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tasks.probes import (
    ProbeKind,
    ProbeTarget,
    PrometheusProbeSettings,
    SSHSettings,
    UtilizationEvidence,
    make_probe,
)
from tasks.probes.ssh import CommandResult, run_command

__all__ = ["collect_utilization", "run_remote_command"]


@task(name="collect-gpu-utilization", cache_policy=NO_CACHE, persist_result=False)
async def collect_utilization(
    probe: ProbeKind,
    targets: Sequence[ProbeTarget],
    *,
    now: datetime,
    window_minutes: float,
    prometheus: PrometheusProbeSettings,
    ssh: SSHSettings,
) -> dict[str, UtilizationEvidence]:
    """GPU utilisation evidence for every target over ``[now - window, now]``.

    Every target gets an entry; one the probe could not judge carries its error (the
    recipe counts it as busy). ``now`` is passed to the probe explicitly, so a simulator
    serving telemetry over simulated time is asked about the right window.
    """
    if window_minutes <= 0:
        raise ValueError("window_minutes must be positive")
    found = await make_probe(probe, prometheus=prometheus, ssh=ssh).collect(
        targets, now=now, window=timedelta(minutes=window_minutes)
    )
    failed = sum(1 for evidence in found.values() if evidence.error)
    get_run_logger().info(
        "%s probe: %d instance(s) looked at, %d could not be judged", probe, len(found), failed
    )
    return found


@task(
    name="run-remote-command",
    task_run_name="run-remote-command-{host}",
    cache_policy=NO_CACHE,
    persist_result=False,
)
async def run_remote_command(
    ssh: SSHSettings, host: str, command: str, *, timeout_seconds: float
) -> CommandResult:
    """Run ``command`` on ``host`` over SSH (for example a checkpoint before hibernating).

    Raises:
        tasks.probes.ssh.SSHCommandError: it could not run, timed out or exited non-zero.
    """
    if timeout_seconds <= 0:
        raise ValueError("timeout_seconds must be positive")
    return await run_command(ssh, host, command, timeout_seconds=timeout_seconds)
