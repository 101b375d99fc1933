"""What the local stack changes in the deployed parameters, so each recipe reaches the simulator.

Only addresses change here, never secrets: the API key and the notification URLs reach the
flow runs through the work pool's environment (see :mod:`deployments.stack.prefect_setup`).
A deployment without an entry keeps the parameters of ``deployments/prefect.yaml``; an entry
for a deployment that is not deployed is ignored. Placeholders in string values:
``{sim_root_url}`` (the simulator's root, which also serves the Prometheus API) and
``{sim_base_url}`` (its API base URL).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["STACK_PARAMETER_OVERRIDES", "deep_merge", "render_placeholders"]

STACK_PARAMETER_OVERRIDES: Final[Mapping[str, Mapping[str, Any]]] = {
    # The simulator answers PromQL for its instances' GPU utilisation.
    "hibernate-idle": {"prometheus": {"url": "{sim_root_url}/prometheus"}},
}


def render_placeholders(value: Any, values: Mapping[str, str]) -> Any:
    """``value`` with ``{name}`` placeholders in its strings replaced (lists and dicts walked).

    Example:
        >>> render_placeholders({"url": "{sim_root_url}"}, {"sim_root_url": "http://h:1"})
        {'url': 'http://h:1'}
    """
    if isinstance(value, str):
        return value.format_map(values)
    if isinstance(value, Mapping):
        return {key: render_placeholders(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [render_placeholders(item, values) for item in value]
    return value


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``patch`` laid over it: mappings merge key by key, anything else replaces.

    Example:
        >>> deep_merge({"params": {"a": 1, "b": {"c": 2}}}, {"params": {"b": {"c": 3}}})
        {'params': {'a': 1, 'b': {'c': 3}}}
    """
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
