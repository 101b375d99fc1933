"""What a recipe reads from the Prefect run it is part of."""

from __future__ import annotations

from datetime import UTC, datetime

from notifications.links import current_flow_run_url

__all__ = ["current_flow_run_url", "scheduled_start"]


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
