"""Stack overrides: placeholders filled, parameters merged key by key."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import yaml

from deployments.stack.config import repo_root
from deployments.stack.overrides import STACK_PARAMETER_OVERRIDES, deep_merge, render_placeholders
from deployments.stack.prefect_setup import deployments_in


@pytest.mark.parametrize(
    ("base", "patch", "expected"),
    [
        ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
        ({"p": {"a": 1, "b": {"c": 2}}}, {"p": {"b": {"c": 3}}}, {"p": {"a": 1, "b": {"c": 3}}}),
        ({"p": {"a": 1}}, {"p": None}, {"p": None}),
        ({"p": [1, 2]}, {"p": [3]}, {"p": [3]}),
        ({}, {"p": {"x": 1}}, {"p": {"x": 1}}),
    ],
)
def test_deep_merge(base: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]) -> None:
    before = repr(base)
    assert deep_merge(base, patch) == expected
    assert repr(base) == before, "the base is not changed"


def test_placeholders_are_filled_in_nested_strings_only() -> None:
    value = {"url": "{sim_root_url}/x", "n": 3, "list": ["{sim_base_url}", True]}
    values = {"sim_root_url": "http://h:1", "sim_base_url": "http://h:1/api"}
    assert render_placeholders(value, values) == {
        "url": "http://h:1/x",
        "n": 3,
        "list": ["http://h:1/api", True],
    }


def test_every_override_names_a_deployment_and_keeps_its_parameters_valid() -> None:
    from deployments.recipes import RECIPES

    document = yaml.safe_load((repo_root() / "deployments" / "prefect.yaml").read_text())
    declared = {d["name"]: d for d in document["deployments"]}
    recipes = {r.name: r for r in RECIPES}
    placeholders = {"sim_root_url": "http://127.0.0.1:1", "sim_base_url": "http://127.0.0.1:1/api"}
    for name, patch in STACK_PARAMETER_OVERRIDES.items():
        assert name in declared, f"override for {name}, which prefect.yaml does not declare"
        merged = deep_merge(declared[name]["parameters"], render_placeholders(patch, placeholders))
        flow = recipes[name].load_flow()
        flow.validate_parameters(merged)
        # A worker binds the stored parameters to the flow's own signature before anything
        # else runs: a key the signature lacks (the old nested 'params') crashes every run.
        unknown = set(merged) - set(inspect.signature(flow.fn).parameters)
        assert not unknown, f"{name}: {sorted(unknown)} are not parameters of the flow"


def test_every_deployment_of_prefect_yaml_is_found_with_its_pool() -> None:
    specs = deployments_in(repo_root() / "deployments" / "prefect.yaml")
    document = yaml.safe_load((repo_root() / "deployments" / "prefect.yaml").read_text())
    assert [s.name for s in specs] == [d["name"] for d in document["deployments"]]
    assert {s.work_pool for s in specs} == {"barrack-ops"}
