"""How recipes notify: one notifier per run, built (and validated) before anything acts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import anyio
from prefect.logging import get_run_logger

from flows.common.report import RecipeReport
from notifications import Alert, AlertKey, DeliveryReport, Notifier, NotifySettings
from notifications.hooks import failure_hooks, recovery_hook

__all__ = ["RECIPE_HOOKS", "load_notifier", "notifier_on_clock", "notify_report"]


def load_notifier() -> Notifier:
    """The notifier configured by ``BARRACK_NOTIFY_*``; no URLs configured means none.

    Raises:
        notifications.NotificationConfigError: a malformed URL or config file (masked), so
            a misconfigured recipe fails before it changes anything.
    """
    return Notifier.from_settings()


def notifier_on_clock(now: datetime, repeat_interval: timedelta | None = None) -> Notifier:
    """The notifier of a run that judges at ``now``: ``BARRACK_NOTIFY_*``, its dedup clock
    stopped at the evaluation time (so "repeat every N hours" counts simulated hours when
    the demo or a test passes the simulator's time), the recipe's own repeat if it has one.

    Raises:
        notifications.NotificationConfigError: a malformed URL or config (masked), so a
            misconfigured recipe fails before it changes anything.
    """
    settings = NotifySettings()
    if repeat_interval is not None:
        settings = settings.model_copy(update={"repeat_interval": repeat_interval})
    return Notifier.from_settings(settings, now=lambda: now)


async def _dispatch(
    notifier: Notifier,
    alerts: Sequence[Alert],
    cleared: Sequence[AlertKey],
    *,
    dry_run: bool,
    send: Callable[[Notifier], DeliveryReport] | None = None,
) -> DeliveryReport | None:
    """Send alerts and clearances as one digest per destination (in a worker thread, as
    apprise blocks); a dry run sends nothing and returns None. Never raises."""
    logger = get_run_logger()
    if dry_run:
        logger.info("dry run: %d alert(s) not sent", len(alerts))
        return None

    def deliver() -> DeliveryReport:
        if send is not None:
            return send(notifier)
        return notifier.dispatch(alerts=list(alerts), cleared=list(cleared))

    report = await anyio.to_thread.run_sync(deliver)
    log = logger.info if report.ok else logger.warning
    log("notifications: %s", report.summary())
    return report


async def notify_report(
    notifier: Notifier | None,
    report: RecipeReport,
    raised: tuple[Sequence[Alert], Sequence[AlertKey]],
    *,
    dry_run: bool,
    send: Callable[[Notifier], DeliveryReport] | None = None,
) -> DeliveryReport | None:
    """The notify step of every recipe: list the alerts on the report, send, record.

    A dry run sends nothing (it would also advance the dedup ledger); the report still
    lists the alerts the run would raise. Delivery never raises into the flow.

    Args:
        notifier: The run's notifier; None (notifications off) does nothing.
        report: The run's report; its ``alerts`` and ``notifications`` are filled in.
        raised: The alerts the run raises and the alert keys it saw clear.
        dry_run: Send nothing; the report still lists the alerts.
        send: Replaces the plain ``notifier.dispatch(alerts, cleared)`` (a recipe that
            resolves with facts); it runs in a worker thread.
    """
    if notifier is None:
        return None
    alerts, cleared = raised
    report.alerts = [a.title or a.kind.value for a in alerts]
    delivery = await _dispatch(notifier, alerts, cleared, dry_run=dry_run, send=send)
    if delivery is not None:
        report.notifications = delivery.summary()
    return delivery


_FAILURE = failure_hooks(Notifier.from_settings)

RECIPE_HOOKS: dict[str, Any] = {
    "on_failure": [_FAILURE.on_failure],
    "on_crashed": [_FAILURE.on_crashed],
    "on_completion": [recovery_hook(Notifier.from_settings)],
}
"""``@flow(**RECIPE_HOOKS)``: a failed or crashed run sends a critical ``flow-failed`` alert
(run name, error, UI link); the next successful run resolves it."""
