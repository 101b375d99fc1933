"""`prefect deploy --prefect-file deployments/prefect.yaml --all` against a real API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.recipes import RECIPES

ROOT = Path(__file__).parents[2]


@pytest.mark.usefixtures("prefect_harness")
def test_prefect_deploy_creates_every_deployment() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    assert api_url, "the harness runs a real API server"

    async def create_pool() -> None:
        async with get_client() as client:
            await client.create_work_pool(
                WorkPoolCreate(name="barrack-ops", type="process"), overwrite=True
            )

    asyncio.run(create_pool())
    env = {**os.environ, "PREFECT_API_URL": str(api_url)}
    prefect = Path(sys.executable).with_name("prefect")
    result = subprocess.run(
        [
            str(prefect),
            "--no-prompt",
            "deploy",
            "--prefect-file",
            "deployments/prefect.yaml",
            "--all",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    async def read() -> dict[str, object]:
        async with get_client() as client:
            found = {}
            for recipe in RECIPES:
                flow_name = recipe.load_flow().name
                found[recipe.name] = await client.read_deployment_by_name(
                    f"{flow_name}/{recipe.name}"
                )
            return found

    deployments = asyncio.run(read())
    for recipe in RECIPES:
        deployment = deployments[recipe.name]
        assert deployment.work_pool_name == "barrack-ops"  # type: ignore[attr-defined]
        assert deployment.parameters == recipe.parameters  # type: ignore[attr-defined]
        crons = [s.schedule.cron for s in deployment.schedules]  # type: ignore[attr-defined]
        assert crons == ([recipe.cron] if recipe.cron else [])
