"""The demo's closing section: the alerts a real receiver got, as the console shows them.

Alert titles carry their severity in brackets (``[warning] ...``), which rich would read
as markup and drop; the section must show them, and count a repeated alert once.
"""

from __future__ import annotations

import pytest
from rich.console import Console

from barrack_ops.demo import run
from barrack_ops.demo.receiver import NotificationReceiver, ReceivedNotification
from notifications import Alert, AlertKind, Notifier, Severity, Subject
from tests.helpers.screen import assert_no_repeated_run, repeated_runs


def _alert(severity: Severity, name: str) -> Alert:
    return Alert(
        kind=AlertKind.GENERIC,
        severity=severity,
        subject=Subject.for_flow(name),
        title=f"{name} needs a look",
        facts={"checked_by": "the demo's output test"},
    )


@pytest.fixture(scope="module")
def received() -> list[ReceivedNotification]:
    """Four alerts through apprise to a real receiver; the warning goes out twice."""
    alerts = [
        _alert(Severity.CRITICAL, "snapshots"),
        _alert(Severity.WARNING, "balance"),
        _alert(Severity.WARNING, "balance"),
        _alert(Severity.INFO, "restore"),
    ]
    with NotificationReceiver() as receiver:
        for alert in alerts:  # a notifier each: its own ledger, so the repeat is sent
            report = Notifier.from_urls(receiver.json_url("/ops"), timeout=5).send(alert)
            assert report.ok, report.summary()
        return receiver.wait_for(len(alerts))


def test_alert_lines_keep_the_severity_and_count_repeats(
    received: list[ReceivedNotification],
) -> None:
    assert run.alert_lines(received) == [
        "  [critical] snapshots needs a look",
        "  [warning] balance needs a look  (x2)",
        "  [info] restore needs a look",
    ]


def test_the_console_shows_the_labels(
    received: list[ReceivedNotification], monkeypatch: pytest.MonkeyPatch
) -> None:
    console = Console(record=True, width=100, highlight=False)
    monkeypatch.setattr(run, "console", console)
    run._alerts_section(received)
    shown = console.export_text().splitlines()
    for label in ("[critical] snapshots", "[warning] balance", "[info] restore"):
        assert any(line.startswith(f"  {label}") for line in shown), shown
    assert_no_repeated_run(shown)


def test_repeated_runs_are_lines_that_differ_only_in_numbers_and_days() -> None:
    quiet = [
        f"{day} 0{h}:00  USD {h}00.00  ok  low-balance demo: not-open"
        for day, h in (("Sun", 6), ("Sun", 7), ("Mon", 0))
    ]
    assert repeated_runs(quiet) == [quiet]
    assert repeated_runs(quiet[:2]) == []
    assert repeated_runs(["a 1", "b 1", "a 2"]) == []
