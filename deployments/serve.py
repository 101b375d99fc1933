"""Serve every recipe on its schedule from one process (``barrack-ops serve``).

Runs start in subprocesses of this process; stopping it pauses the schedules until it
starts again. For several machines, use ``prefect deploy`` with work pools instead (see
the README's operator guide).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import serve
from prefect.schedules import Cron

from deployments.recipes import RECIPES, Recipe

__all__ = ["build_deployments", "serve_all"]


def build_deployments(recipes: Sequence[Recipe] = RECIPES) -> list[Any]:
    """A runner deployment per recipe: its cron (or none), parameters, tags, one at a time."""
    deployments = []
    for recipe in recipes:
        flow = recipe.load_flow()
        schedule = Cron(recipe.cron, timezone=recipe.timezone) if recipe.cron else None
        deployments.append(
            flow.to_deployment(
                name=recipe.name,
                schedule=schedule,
                parameters=recipe.parameters,
                description=recipe.description,
                tags=list(recipe.tags),
                concurrency_limit=1,
            )
        )
    return deployments


def serve_all(recipes: Sequence[Recipe] = RECIPES) -> None:
    """Serve every recipe until interrupted."""
    serve(*build_deployments(recipes))
