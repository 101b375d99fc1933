"""Scenarios: the starting state of a simulated account, built in or written in YAML."""

from simulator.scenarios.builtin import BUILTIN_SCENARIOS, builtin_scenario
from simulator.scenarios.spec import ScenarioError, ScenarioSpec, parse_scenario_yaml

__all__ = [
    "BUILTIN_SCENARIOS",
    "ScenarioError",
    "ScenarioSpec",
    "builtin_scenario",
    "parse_scenario_yaml",
]
