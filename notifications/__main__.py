"""Check the notification set-up from a shell.

    python -m notifications check        # load BARRACK_NOTIFY_*, list destinations (masked)
    python -m notifications send-test    # send a test alert to every matching destination
    python -m notifications send-test --severity critical

``check`` exits 1 and lists every problem when the configuration is invalid; ``send-test``
exits 1 when a destination did not accept the message. Neither touches the dedup ledger.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from notifications.alerts import Alert, AlertKind, Severity, Subject
from notifications.errors import NotificationConfigError
from notifications.notifier import Notifier
from notifications.state import AlertLedger


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``check`` or ``send-test``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m notifications", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="validate the configuration and list destinations")
    send = commands.add_parser("send-test", help="send a test alert")
    send.add_argument("--severity", choices=[s.value for s in Severity], default="info")
    args = parser.parse_args(argv)

    try:
        # A ledger in memory: a test must neither be suppressed nor suppress real alerts.
        notifier = Notifier.from_settings(store=AlertLedger.in_memory())
    except NotificationConfigError as error:
        print(error, file=sys.stderr)
        return 1
    if not notifier.destinations:
        print("no destinations configured (set BARRACK_NOTIFY_URLS, see docs/notifications.md)")
        return 1
    for line in notifier.describe():
        print(line)
    if args.command == "check":
        return 0
    report = notifier.send(
        Alert(
            kind=AlertKind.GENERIC,
            severity=Severity(args.severity),
            subject=Subject.for_flow("barrack-ops-notification-test"),
            title=f"barrack-ops test notification ({args.severity})",
            facts={"sent_by": "python -m notifications send-test"},
        )
    )
    for delivery in report.deliveries:
        print(f"{delivery.status.value:>9}  {delivery.destination}  {delivery.reason or ''}")
    print(report.summary())
    return 0 if report.ok and not report.failed_deliveries else 1


if __name__ == "__main__":
    sys.exit(main())
