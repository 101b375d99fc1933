"""Notifications for barrack-ops recipes, delivered through apprise.

A recipe builds a :class:`Notifier` once (``Notifier.from_settings()`` reads
``BARRACK_NOTIFY_*`` and validates every URL), reports :class:`Alert` objects, reports
cleared conditions, and puts the returned :class:`DeliveryReport` in its own report::

    from notifications import Alert, AlertKind, Notifier, Severity, Subject

    notifier = Notifier.from_settings()
    report = notifier.dispatch(
        alerts=[Alert(kind=AlertKind.SNAPSHOT_FAILED, severity=Severity.CRITICAL,
                      subject=Subject.for_instance("BRK-1A2B3C4", name="train-1", region="US-1"),
                      facts={"error": "INVALID_STATE: instance is SHUTOFF"})],
        cleared=[AlertKey(kind=AlertKind.SNAPSHOT_FAILED, subject=Subject.for_instance("BRK-7Z"))],
    )

Each destination receives one message per call (a digest when several alerts are due),
each alert goes out once per repeat interval unless it gets worse, a cleared condition
gets one "resolved" message, and nothing here raises into the recipe once the notifier
exists. See docs/notifications.md for set-up, routing tags and where state is kept.
"""

from notifications.alerts import (
    Alert,
    AlertKey,
    AlertKind,
    Amount,
    FactValue,
    Severity,
    Subject,
    SubjectKind,
)
from notifications.config import NotifySettings
from notifications.dedup import AlertRecord, SendDecision
from notifications.delivery import DeliveryResult, DeliveryStatus
from notifications.destinations import Destination
from notifications.errors import NotificationConfigError, NotificationError
from notifications.hooks import FailureHooks, failure_hooks, flow_failure_alert, recovery_hook
from notifications.links import current_flow_run_url, flow_run_ui_url
from notifications.notifier import Notifier
from notifications.render import BodyFormat, Message, MessageType, render_alert, render_message
from notifications.report import AlertOutcome, DeliveryReport
from notifications.routing import RoutingRules
from notifications.state import AlertLedger, AlertStateStore, select_store

__all__ = [
    "Alert",
    "AlertKey",
    "AlertKind",
    "AlertLedger",
    "AlertOutcome",
    "AlertRecord",
    "AlertStateStore",
    "Amount",
    "BodyFormat",
    "DeliveryReport",
    "DeliveryResult",
    "DeliveryStatus",
    "Destination",
    "FactValue",
    "FailureHooks",
    "Message",
    "MessageType",
    "NotificationConfigError",
    "NotificationError",
    "Notifier",
    "NotifySettings",
    "RoutingRules",
    "SendDecision",
    "Severity",
    "Subject",
    "SubjectKind",
    "current_flow_run_url",
    "failure_hooks",
    "flow_failure_alert",
    "flow_run_ui_url",
    "recovery_hook",
    "render_alert",
    "render_message",
    "select_store",
]
