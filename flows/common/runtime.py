"""What a recipe reads from the Prefect run it is part of."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flows.common.schedules import DeploymentCron, RunSchedules
from notifications.links import current_flow_run_url

__all__ = [
    "DeploymentCron",
    "RunSchedules",
    "current_flow_run_url",
    "run_schedules",
    "scheduled_start",
]

logger = logging.getLogger(__name__)

# Prefect's scheduler keys each run it makes "scheduled <deployment id> <schedule id> <date>"
# (prefect/server/models/deployments.py); that key is the only record of which schedule
# made a run.
_SCHEDULED_KEY_PREFIX = "scheduled"


def scheduled_start() -> datetime | None:
    """When this flow run was scheduled to start (a late run still belongs to its slot).

    None outside a flow run.
    """
    from prefect.runtime import flow_run

    if not flow_run.id:
        return None
    value = flow_run.scheduled_start_time
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = datetime(*value.timetuple()[:6], value.microsecond, tzinfo=UTC)
    # A plain datetime: Prefect may hand out a Pendulum one, whose methods warn.
    return datetime.fromtimestamp(value.timestamp(), UTC)


async def run_schedules() -> RunSchedules | None:
    """The cron schedules of this flow run's deployment, read through the Prefect API.

    None outside a flow run, for a run of no deployment, or when the API cannot say
    (logged: the caller falls back to its parameters).
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.exceptions import PrefectException
    from prefect.runtime import flow_run

    run_id = flow_run.id
    if not run_id:
        return None
    try:
        async with get_client() as client:
            run = await client.read_flow_run(run_id)
            if run.deployment_id is None:
                return None
            deployment = await client.read_deployment(run.deployment_id)
    except (PrefectException, OSError, RuntimeError, ValueError) as exc:
        logger.warning("cannot read this run's deployment schedules (%s)", type(exc).__name__)
        return None
    crons = tuple(
        DeploymentCron(
            schedule_id=str(item.id),
            cron=item.schedule.cron,
            timezone=item.schedule.timezone or "UTC",
            active=item.active,
        )
        for item in deployment.schedules
        if isinstance(item.schedule, CronSchedule)
    )
    return RunSchedules(
        deployment=deployment.name,
        crons=crons,
        run_schedule_id=_schedule_of(run.idempotency_key, str(run.deployment_id)),
    )


def _schedule_of(idempotency_key: str | None, deployment_id: str) -> str | None:
    """The schedule id in a key the scheduler wrote for ``deployment_id``, else None."""
    parts = (idempotency_key or "").split(" ")
    if len(parts) >= 4 and parts[0] == _SCHEDULED_KEY_PREFIX and parts[1] == deployment_id:
        return parts[2]
    return None
