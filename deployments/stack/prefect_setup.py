"""Prepare the local Prefect server: work pools, deployments, workers.

``prefect deploy --prefect-file deployments/prefect.yaml --all`` does the deploying, exactly
as an operator would; this module creates the pools it needs first and adjusts the result
for the local stack afterwards (simulator addresses, paused schedules on request).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from deployments.stack.config import StackError
from deployments.stack.overrides import deep_merge, render_placeholders

__all__ = [
    "DeploymentSpec",
    "configure_work_pools",
    "deployments_in",
    "drop_missed_runs",
    "finish_deployments",
    "finish_prefect_deploy",
    "start_prefect_deploy",
    "tail",
    "wait_for_workers",
    "work_pool_template",
]

POOL_TYPE = "process"


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One deployment of ``prefect.yaml``: its name and the work pool it goes to."""

    name: str
    work_pool: str


def deployments_in(prefect_file: Path) -> list[DeploymentSpec]:
    """Every deployment declared in ``prefect_file``, whatever they are.

    Raises:
        StackError: the file declares none, or one has no name or no work pool.
    """
    document = yaml.safe_load(prefect_file.read_text(encoding="utf-8")) or {}
    entries = document.get("deployments") or []
    specs = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, dict) else None
        pool = (entry.get("work_pool") or {}).get("name") if isinstance(entry, dict) else None
        if not name or not pool:
            raise StackError(
                f"{prefect_file}: deployments[{index}] needs a name and work_pool.name"
            )
        specs.append(DeploymentSpec(name=str(name), work_pool=str(pool)))
    if not specs:
        raise StackError(f"{prefect_file} declares no deployments")
    return specs


def work_pool_template(env: Mapping[str, str]) -> dict[str, Any]:
    """The process work pool's base job template, with ``env`` as every flow run's default
    environment (a deployment's ``job_variables.env`` still overrides it)."""
    from prefect.workers.process import ProcessWorker

    template: dict[str, Any] = ProcessWorker.get_default_base_job_template()
    template["variables"]["properties"]["env"]["default"] = dict(env)
    return template


def configure_work_pools(api_url: str, pools: Sequence[str], env: Mapping[str, str]) -> None:
    """Create (or overwrite) each process work pool, its job template carrying ``env``."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate

    with SyncPrefectClient(api_url) as client:
        for name in pools:
            client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type=POOL_TYPE,
                    description="barrack-ops local stack: flow runs reach the simulator",
                    base_job_template=work_pool_template(env),
                ),
                overwrite=True,
            )


def drop_missed_runs(api_url: str, specs: Sequence[DeploymentSpec]) -> int:
    """Delete the scheduled runs of these deployments that were due while the stack was down.

    They were planned for a simulator that no longer exists; left alone, a worker would
    start them all at once as soon as it comes up.

    Returns:
        How many were deleted.
    """
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with SyncPrefectClient(api_url) as client:
        existing = client.read_deployments(
            deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=[spec.name for spec in specs])
            )
        )
        if not existing:
            return 0
        missed = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[d.id for d in existing]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                # model_validate: the field's type is Prefect's own datetime alias.
                expected_start_time=FlowRunFilterExpectedStartTime.model_validate(
                    {"before_": datetime.now(UTC)}
                ),
            )
        )
        for run in missed:
            client.delete_flow_run(run.id)
    return len(missed)


def start_prefect_deploy(
    prefect: Sequence[str], prefect_file: Path, *, cwd: Path, env: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start ``prefect --no-prompt deploy --prefect-file FILE --all``, output to ``log``.

    Finish it with :func:`finish_prefect_deploy`.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - argv built here, no shell
            [*prefect, "--no-prompt", "deploy", "--prefect-file", str(prefect_file), "--all"],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def finish_prefect_deploy(process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Wait for ``prefect deploy`` to end.

    Raises:
        StackError: it failed or took longer than ``timeout`` seconds (with the end of its
            output).
    """
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise StackError(
            f"`prefect deploy` took more than {timeout:g} s; its output ends with:\n" + tail(log)
        ) from None
    if code != 0:
        raise StackError(
            f"`prefect deploy` failed (exit {code}); its output ends with:\n" + tail(log)
        )


def finish_deployments(
    api_url: str,
    specs: Sequence[DeploymentSpec],
    *,
    overrides: Mapping[str, Mapping[str, Any]],
    placeholders: Mapping[str, str],
    schedules_active: bool,
) -> list[str]:
    """Point the deployed parameters at the simulator and pause schedules if asked.

    Returns:
        The ``flow/deployment`` names deployed.

    Raises:
        StackError: a deployment of ``prefect.yaml`` is missing on the server.
    """
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import DeploymentUpdate
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    wanted = [spec.name for spec in specs]
    names = []
    with SyncPrefectClient(api_url) as client:
        found = {
            d.name: d
            for d in client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=wanted))
            )
        }
        missing = [name for name in wanted if name not in found]
        if missing:
            raise StackError(f"not on the server after `prefect deploy`: {', '.join(missing)}")
        for name in wanted:
            deployment = found[name]
            patch = overrides.get(name)
            if patch:
                parameters = deep_merge(
                    deployment.parameters, render_placeholders(patch, placeholders)
                )
                client.update_deployment(deployment.id, DeploymentUpdate(parameters=parameters))
            if not schedules_active:
                for schedule in deployment.schedules:
                    client.update_deployment_schedule(deployment.id, schedule.id, active=False)
            flow = client.read_flow(deployment.flow_id)
            names.append(f"{flow.name}/{name}")
    return names


def wait_for_workers(
    api_url: str,
    pool: str,
    names: Sequence[str],
    *,
    timeout: float,
    check_processes: Callable[[], None],
) -> None:
    """Wait until every named worker has reported to the pool.

    Raises:
        StackError: not all of them did within ``timeout`` seconds.
    """
    from prefect.client.orchestration import SyncPrefectClient

    deadline = time.monotonic() + timeout
    with SyncPrefectClient(api_url) as client:
        while True:
            check_processes()
            online = {
                w.name
                for w in client.read_workers_for_work_pool(pool)
                if str(getattr(w.status, "value", w.status)).upper() == "ONLINE"
            }
            if set(names) <= online:
                return
            if time.monotonic() >= deadline:
                raise StackError(
                    f"workers not online after {timeout:g} s: "
                    + ", ".join(sorted(set(names) - online))
                )
            time.sleep(0.5)


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file (empty if it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return os.linesep.join(text.splitlines()[-lines:])
