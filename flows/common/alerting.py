"""How recipes notify: one notifier per run, built (and validated) before anything acts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
from prefect.logging import get_run_logger

from notifications import Alert, AlertKey, DeliveryReport, Notifier
from notifications.hooks import failure_hooks, recovery_hook

__all__ = ["RECIPE_HOOKS", "dispatch_alerts", "load_notifier"]


def load_notifier() -> Notifier:
    """The notifier configured by ``BARRACK_NOTIFY_*``; no URLs configured means none.

    Raises:
        notifications.NotificationConfigError: a malformed URL or config file (masked), so
            a misconfigured recipe fails before it changes anything.
    """
    return Notifier.from_settings()


async def dispatch_alerts(
    notifier: Notifier,
    alerts: Sequence[Alert],
    cleared: Sequence[AlertKey],
    *,
    dry_run: bool,
) -> DeliveryReport | None:
    """Send a run's alerts and clearances as one digest per destination; never raises.

    A dry run sends nothing (it would also advance the dedup ledger) and returns None;
    the report still lists the alerts the run would raise.
    """
    logger = get_run_logger()
    if dry_run:
        logger.info("dry run: %d alert(s) not sent", len(alerts))
        return None
    report = await anyio.to_thread.run_sync(
        lambda: notifier.dispatch(alerts=list(alerts), cleared=list(cleared))
    )
    log = logger.info if report.ok else logger.warning
    log("notifications: %s", report.summary())
    return report


_FAILURE = failure_hooks(Notifier.from_settings)

RECIPE_HOOKS: dict[str, Any] = {
    "on_failure": [_FAILURE.on_failure],
    "on_crashed": [_FAILURE.on_crashed],
    "on_completion": [recovery_hook(Notifier.from_settings)],
}
"""``@flow(**RECIPE_HOOKS)``: a failed or crashed run sends a critical ``flow-failed`` alert
(run name, error, UI link); the next successful run resolves it."""
