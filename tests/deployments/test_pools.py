"""The docker and kubernetes variants of the deployments (deployments/pools.py).

Both pool types are registered on a real Prefect server (the session's harness) and every
recipe is deployed to each with `prefect deploy`, as an operator would; no Docker daemon
and no cluster are needed, since a deployment only records what a worker will start.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from deployments import pools
from deployments.recipes import RECIPES

ROOT = Path(__file__).parents[2]
IMAGE = "registry.example.com/barrack-ops:0.1.0"
PROMETHEUS = "http://prometheus.monitoring.svc:9090"


def _document(pool_type: str) -> dict[str, Any]:
    path = ROOT / "deployments" / pool_type / "prefect.yaml"
    return yaml.safe_load(path.read_text())  # type: ignore[no-any-return]


def test_the_written_files_are_what_the_recipes_generate() -> None:
    assert pools.main(["--check"]) == 0, "run: python -m deployments.pools"


@pytest.mark.parametrize("pool_type", ["docker", "kubernetes"])
def test_each_variant_has_every_recipe_as_the_table_says(pool_type: str) -> None:
    document = _document(pool_type)
    assert document["build"] is None
    assert document["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": pools.IMAGE_WORKDIR}}
    ]
    by_name = {d["name"]: d for d in document["deployments"]}
    assert list(by_name) == [r.name for r in RECIPES]
    for recipe in RECIPES:
        entry = by_name[recipe.name]
        assert entry["entrypoint"] == recipe.entrypoint
        assert entry["description"] == recipe.description
        assert entry["tags"] == list(recipe.tags)
        assert entry["concurrency_limit"] == 1
        expected = [{"cron": recipe.cron, "timezone": recipe.timezone}] if recipe.cron else []
        assert entry["schedules"] == expected
        assert entry["work_pool"]["name"] == pools.POOL_NAMES[pool_type]  # type: ignore[index]
        assert entry["work_pool"]["job_variables"]["image"] == "{{ $BARRACK_OPS_IMAGE }}"


@pytest.mark.parametrize("pool_type", ["docker", "kubernetes"])
def test_no_variant_points_at_a_loopback_or_the_deploying_machine(pool_type: str) -> None:
    text = (ROOT / "deployments" / pool_type / "prefect.yaml").read_text()
    assert "127.0.0.1" not in text
    assert "localhost" not in text
    assert str(ROOT) not in text
    assert "{{ $BARRACK_PROMETHEUS_URL }}" in text


def test_a_loopback_url_outside_prometheus_is_refused() -> None:
    recipe = RECIPES[0]
    bad = type(recipe)(
        name="x",
        entrypoint=recipe.entrypoint,
        cron=None,
        timezone="UTC",
        description="",
        parameters={"params": {"connection": {"base_url": "http://127.0.0.1:8642/api"}}},
    )
    with pytest.raises(ValueError, match=r"params\.connection\.base_url: .* loopback"):
        pools.variant_document("docker", [bad])


def test_the_dockerfile_installs_with_the_tested_script_as_a_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "sh /tmp/install.sh /opt/barrack-ops /tmp/dist" in dockerfile
    assert f"WORKDIR {pools.IMAGE_WORKDIR}" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users, "the image must not run as root"
    assert users[-1] not in {"root", "0"}
    # uv and the build stage's files stay behind: the last stage copies only the venv.
    last_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "uv" not in re.sub(r"#.*", "", last_stage)
    assert "COPY --from=install /opt/barrack-ops /opt/barrack-ops" in last_stage


def test_the_kubernetes_template_takes_the_key_from_a_secret() -> None:
    template = json.loads((ROOT / "deployments/kubernetes/base-job-template.json").read_text())
    container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    env = {item["name"]: item for item in container["env"]}
    assert env["BARRACK_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "api-key"
    assert env["BARRACK_NOTIFY_URLS"]["valueFrom"]["secretKeyRef"]["optional"] is True
    variables = template["variables"]["properties"]
    assert variables["memory_request"]["default"] == pools.MEMORY_REQUEST
    assert variables["memory_limit"]["default"] == pools.MEMORY_LIMIT
    assert variables["barrack_secret"]["default"] == pools.KUBERNETES_SECRET


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * (1024 if unit == "Gi" else 1)


def test_requests_follow_the_measured_memory() -> None:
    performance = (ROOT / "docs" / "performance.md").read_text()
    peak_5000 = int(re.search(r"\((\d+) MB at N = 5,000\)", performance).group(1))  # type: ignore[union-attr]
    peak_1000 = int(re.search(r"\| (\d+) MB \(\d+ MB at N = 5,000\)", performance).group(1))  # type: ignore[union-attr]
    megabyte_in_mib = 1_000_000 / 2**20
    assert _mebibytes(pools.MEMORY_REQUEST) >= peak_1000 * megabyte_in_mib
    assert _mebibytes(pools.MEMORY_LIMIT) >= 1.5 * peak_5000 * megabyte_in_mib


def _deploy(pool_type: str, api_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "BARRACK_OPS_IMAGE": IMAGE,
        "BARRACK_PROMETHEUS_URL": PROMETHEUS,
    }
    prefect = Path(sys.executable).with_name("prefect")
    return subprocess.run(
        [
            str(prefect),
            "--no-prompt",
            "deploy",
            "--prefect-file",
            f"deployments/{pool_type}/prefect.yaml",
            "--all",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("pool_type", ["docker", "kubernetes"])
def test_every_recipe_deploys_to_the_pool(pool_type: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    pool_name = pools.POOL_NAMES[pool_type]  # type: ignore[index]
    if pool_type == "kubernetes":
        template = json.loads((ROOT / "deployments/kubernetes/base-job-template.json").read_text())
    else:
        from prefect_docker.worker import DockerWorker

        template = DockerWorker.get_default_base_job_template()

    async def create_pool() -> None:
        async with get_client() as client:
            await client.create_work_pool(
                WorkPoolCreate(name=pool_name, type=pool_type, base_job_template=template),
                overwrite=True,
            )

    asyncio.run(create_pool())
    result = _deploy(pool_type, str(PREFECT_API_URL.value()))
    assert result.returncode == 0, result.stdout + result.stderr

    async def read() -> tuple[dict[str, Any], Any]:
        async with get_client() as client:
            found = {}
            for recipe in RECIPES:
                flow_name = recipe.load_flow().name
                found[recipe.name] = await client.read_deployment_by_name(
                    f"{flow_name}/{recipe.name}"
                )
            return found, await client.read_work_pool(pool_name)

    deployments, pool = asyncio.run(read())
    expected = {d["name"]: d for d in _document(pool_type)["deployments"]}
    for recipe in RECIPES:
        deployment = deployments[recipe.name]
        assert deployment.work_pool_name == pool_name
        assert deployment.job_variables["image"] == IMAGE
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": "/home/barrack"}}
        ]
        parameters = json.loads(
            json.dumps(expected[recipe.name]["parameters"]).replace(
                "{{ $BARRACK_PROMETHEUS_URL }}", PROMETHEUS
            )
        )
        assert deployment.parameters == parameters
        crons = [s.schedule.cron for s in deployment.schedules]
        assert crons == ([recipe.cron] if recipe.cron else [])
        if recipe.cron:
            # A scheduled run has nobody to fill a form: the pod's parameters validate.
            recipe.load_flow().validate_parameters(deployment.parameters)
    if pool_type == "kubernetes":
        assert pool.base_job_template == template
        _check_rendered_kubernetes_job(template, deployments["low-balance"])


def _check_rendered_kubernetes_job(template: dict[str, Any], deployment: Any) -> None:
    """What the worker would submit for a run: the Secret, the requests, Prefect's env."""
    from prefect.client.schemas.objects import FlowRun
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    configuration = asyncio.run(
        KubernetesWorkerJobConfiguration.from_template_and_values(
            template, {**deployment.job_variables}
        )
    )
    configuration.prepare_for_flow_run(FlowRun(flow_id=uuid.uuid4(), name="first-run"))
    container = configuration.job_manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE
    assert container["resources"]["requests"] == {
        "cpu": pools.CPU_REQUEST,
        "memory": pools.MEMORY_REQUEST,
    }
    assert container["resources"]["limits"]["memory"] == pools.MEMORY_LIMIT
    env = {item["name"]: item for item in container["env"]}
    assert env["BARRACK_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": pools.KUBERNETES_SECRET,
        "key": "api-key",
    }
    assert "PREFECT__FLOW_RUN_ID" in env
    assert "value" not in env["BARRACK_API_KEY"]
