"""The schedules a flow run belongs to, as plain values (read by ``flows.common.runtime``).

Pure: the nightly recipe's slot rules take these without reaching Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeploymentCron", "RunSchedules"]


@dataclass(frozen=True, slots=True)
class DeploymentCron:
    """One cron schedule of a deployment."""

    schedule_id: str
    cron: str
    timezone: str
    active: bool


@dataclass(frozen=True, slots=True)
class RunSchedules:
    """The cron schedules of the deployment a flow run belongs to.

    Attributes:
        deployment: the deployment's name.
        crons: its cron schedules (interval and rrule schedules are left out).
        run_schedule_id: the schedule that made this run, when Prefect's scheduler did.
    """

    deployment: str
    crons: tuple[DeploymentCron, ...]
    run_schedule_id: str | None
