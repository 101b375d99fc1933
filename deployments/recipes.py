"""Every recipe's deployment, declared once: schedule, parameters, tags, description.

``barrack-ops serve`` builds its deployments from this table, and a test keeps
``deployments/prefect.yaml`` (for ``prefect deploy``) in agreement with it. The nightly
recipe names its slots by its deployment's schedule, so its cron is stated once, here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Final

from prefect import Flow

__all__ = ["RECIPES", "Recipe"]


@dataclass(frozen=True, slots=True)
class Recipe:
    """One deployment of one recipe flow.

    Attributes:
        name: the deployment name.
        entrypoint: ``module.path:flow_function``.
        cron: the schedule, or None for on-demand only.
        timezone: the IANA zone the cron is read in.
        description: shown in the Prefect UI.
        tags: deployment tags.
        parameters: default parameters (JSON-compatible), one per flow parameter: the
            fields of the recipe's params model, at the top level. A run given some
            parameters (``--param dry_run=true``, the UI's custom run) keeps the rest;
            a nested value such as ``connection`` is replaced whole.
    """

    name: str
    entrypoint: str
    cron: str | None
    timezone: str
    description: str
    tags: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)

    def load_flow(self) -> Flow[Any, Any]:
        """Import the recipe's flow object."""
        module_name, _, attribute = self.entrypoint.partition(":")
        flow = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(flow, Flow):
            raise TypeError(f"{self.entrypoint} is not a Prefect flow")
        return flow


RECIPES: Final[tuple[Recipe, ...]] = (
    Recipe(
        name="nightly-snapshots",
        entrypoint="flows.nightly_snapshots.flow:nightly_snapshots",
        cron="0 2 * * *",
        timezone="UTC",
        description=(
            "Snapshot the selected Barrack instances once per night, wait until the "
            "snapshots are ready, then prune old ones by calendar retention (only "
            "snapshots this policy made; never the newest)."
        ),
        tags=("barrack-ops", "snapshots"),
        parameters={"policy_name": "nightly", "max_deletions": 50},
    ),
    Recipe(
        name="hibernate-idle",
        entrypoint="flows.hibernate_idle.flow:hibernate_idle",
        cron="*/15 * * * *",
        timezone="UTC",
        description=(
            "Warn about Barrack instances whose GPUs sat idle (below 5 % and 1024 MiB) for a "
            "whole hour, then hibernate those still idle 30 minutes later. Missing telemetry "
            "counts as busy; exempt and snoozed instances are never touched."
        ),
        tags=("barrack-ops", "hibernation", "cost"),
        parameters={
            "probe": "prometheus",
            "prometheus": {"url": "http://127.0.0.1:9090"},
            "window_minutes": 60,
            "grace_minutes": 30,
            "min_uptime_minutes": 120,
            "max_actions": 10,
        },
    ),
    Recipe(
        name="low-balance",
        entrypoint="flows.low_balance.flow:low_balance",
        cron="*/30 * * * *",
        timezone="UTC",
        description=(
            "Forecast how long the prepaid balance lasts (fleet model and measured burn), "
            "alert on balance and runway thresholds (once per crossing, repeated, escalated, "
            "resolved after a top-up); optional hibernation at a critical runway, off by "
            "default."
        ),
        tags=("barrack-ops", "billing"),
        parameters={"account_name": "barrack"},
    ),
    Recipe(
        name="spend-report",
        entrypoint="flows.spend_report.flow:spend_report",
        cron="0 8 * * 1",
        timezone="UTC",
        description=(
            "Every Monday: last week's spend by instance, region, GPU model, tier and kind "
            "against the week before, the balance and top-ups, the waste with what to do, "
            "and days above the baseline (alerted); a digest with its daily chart."
        ),
        tags=("barrack-ops", "billing"),
        parameters={"account_name": "barrack", "timezone": "UTC"},
    ),
    Recipe(
        name="restore-to-region",
        entrypoint="flows.restore.flow:restore_to_region",
        cron=None,
        timezone="UTC",
        description=(
            "Restore a snapshot (or an instance's newest SUCCESS snapshot) into a new "
            "instance in the best region that can take it: checks first, falls through on "
            "stock, waits for ACTIVE with an IP, optional SSH check, deletes a failed instance."
        ),
        tags=("barrack-ops", "restore"),
        parameters={},
    ),
    Recipe(
        name="restore-drill",
        entrypoint="flows.restore.drill:restore_drill",
        cron="0 4 * * 0",
        timezone="UTC",
        description=(
            "Weekly restore drill: restore each protected instance's newest snapshot in turn, "
            "verify it, time it, delete it; a failed drill is a critical alert."
        ),
        tags=("barrack-ops", "restore", "drill"),
        parameters={"targets": ["source"], "max_drills": 10},
    ),
)
