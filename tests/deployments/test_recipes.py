"""deployments/prefect.yaml and deployments/recipes.py describe the same deployments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from deployments.recipes import RECIPES, Recipe

PREFECT_YAML = Path(__file__).parents[2] / "deployments" / "prefect.yaml"


def _yaml_deployments() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    return {d["name"]: d for d in document["deployments"]}


def test_same_deployment_names() -> None:
    assert set(_yaml_deployments()) == {r.name for r in RECIPES}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.name)
def test_yaml_matches_the_table(recipe: Recipe) -> None:
    entry = _yaml_deployments()[recipe.name]
    assert entry["entrypoint"] == recipe.entrypoint
    assert entry["description"] == recipe.description
    assert entry["tags"] == list(recipe.tags)
    assert entry["parameters"] == recipe.parameters
    assert entry["concurrency_limit"] == 1
    schedules = entry.get("schedules") or []
    if recipe.cron is None:
        assert schedules == []
    else:
        assert schedules == [{"cron": recipe.cron, "timezone": recipe.timezone}]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.name)
def test_default_parameters_validate(recipe: Recipe) -> None:
    flow = recipe.load_flow()
    if recipe.cron is None:
        # On demand: whoever starts the run supplies the required parameters.
        assert set(recipe.parameters) <= set(flow.parameters.properties)
        return
    # A scheduled run has nobody to fill a form: its parameters must validate as they are.
    flow.validate_parameters(recipe.parameters)
