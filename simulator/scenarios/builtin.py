"""The built-in scenarios: ``empty``, ``demo``, ``spend-week`` and the ``fleet`` generator."""

from __future__ import annotations

from importlib import resources
from typing import Final

from simulator.scenarios.spec import (
    AccountSpec,
    GenerateSpec,
    ScenarioError,
    ScenarioSpec,
    SSHKeySpec,
    parse_scenario_yaml,
)

__all__ = ["BUILTIN_SCENARIOS", "builtin_scenario"]

BUILTIN_SCENARIOS: Final = ("empty", "demo", "spend-week", "fleet")


def builtin_scenario(
    name: str, *, instances: int | None = None, snapshots_per_instance: int | None = None
) -> ScenarioSpec:
    """A built-in scenario by name.

    Args:
        name: ``empty``, ``demo``, ``spend-week`` or ``fleet``.
        instances: fleet size (``fleet`` only; default 1000).
        snapshots_per_instance: snapshots of each fleet instance (``fleet`` only; default 0).

    Raises:
        ScenarioError: unknown name, or fleet parameters given to another scenario.
    """
    if name != "fleet" and (instances is not None or snapshots_per_instance is not None):
        raise ScenarioError("instances and snapshots_per_instance apply to the fleet scenario")
    if name == "empty":
        return ScenarioSpec(
            name="empty",
            description="Regions, images, prices and stock; USD 100.00; one SSH key.",
            account=AccountSpec(),
            ssh_keys=[SSHKeySpec(name="default")],
        )
    if name in {"demo", "spend-week"}:
        text = resources.files("simulator.scenarios").joinpath(f"{name}.yaml").read_text("utf-8")
        return parse_scenario_yaml(text)
    if name == "fleet":
        return ScenarioSpec(
            name="fleet",
            description="A generated fleet for benchmarks.",
            ssh_keys=[SSHKeySpec(name="default")],
            generate=GenerateSpec(
                instances=1000 if instances is None else instances,
                snapshots_per_instance=snapshots_per_instance or 0,
            ),
        )
    raise ScenarioError(f"unknown scenario {name!r}; built-in: {', '.join(BUILTIN_SCENARIOS)}")
