from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications import Alert, AlertKind, Severity, Subject
from notifications.dedup import AlertRecord, SendDecision, decide, record_sent

T0 = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)
SIX_HOURS = timedelta(hours=6)


def record(severity: Severity, last_sent_at: datetime = T0) -> AlertRecord:
    return AlertRecord(
        kind=AlertKind.SNAPSHOT_FAILED,
        subject=Subject.for_instance("BRK-1"),
        severity=severity,
        title="Snapshot failed: BRK-1",
        first_sent_at=T0 - timedelta(days=1),
        last_sent_at=last_sent_at,
    )


@pytest.mark.parametrize(
    ("last", "severity", "elapsed", "decision"),
    [
        (None, Severity.INFO, timedelta(0), SendDecision.NEW),
        (None, Severity.CRITICAL, timedelta(0), SendDecision.NEW),
        (Severity.WARNING, Severity.WARNING, timedelta(hours=1), SendDecision.SUPPRESSED),
        (
            Severity.WARNING,
            Severity.WARNING,
            SIX_HOURS - timedelta(seconds=1),
            SendDecision.SUPPRESSED,
        ),
        (Severity.WARNING, Severity.WARNING, SIX_HOURS, SendDecision.REPEAT),
        (Severity.WARNING, Severity.WARNING, timedelta(days=3), SendDecision.REPEAT),
        (Severity.WARNING, Severity.CRITICAL, timedelta(minutes=1), SendDecision.ESCALATED),
        (Severity.INFO, Severity.WARNING, timedelta(0), SendDecision.ESCALATED),
        # better than last time: quiet within the interval, a repeat at the new level after
        (Severity.CRITICAL, Severity.WARNING, timedelta(hours=1), SendDecision.SUPPRESSED),
        (Severity.CRITICAL, Severity.WARNING, SIX_HOURS, SendDecision.REPEAT),
    ],
)
def test_decide(
    last: Severity | None, severity: Severity, elapsed: timedelta, decision: SendDecision
) -> None:
    existing = record(last) if last is not None else None
    assert decide(existing, severity, T0 + elapsed, SIX_HOURS) is decision


def test_record_sent_keeps_the_first_time_and_clears_the_count() -> None:
    alert = Alert(
        kind=AlertKind.SNAPSHOT_FAILED,
        severity=Severity.CRITICAL,
        subject=Subject.for_instance("BRK-1"),
    )
    earlier = record(Severity.WARNING).model_copy(update={"suppressed": 4})
    later = T0 + SIX_HOURS
    updated = record_sent(earlier, alert, "title", later)
    assert updated.first_sent_at == earlier.first_sent_at
    assert updated.last_sent_at == later
    assert updated.severity is Severity.CRITICAL
    assert updated.suppressed == 0
    fresh = record_sent(None, alert, "title", later)
    assert fresh.first_sent_at == later


@pytest.mark.parametrize(
    ("decision", "sends"),
    [
        (SendDecision.NEW, True),
        (SendDecision.ESCALATED, True),
        (SendDecision.REPEAT, True),
        (SendDecision.RESOLVED, True),
        (SendDecision.SUPPRESSED, False),
        (SendDecision.NOT_OPEN, False),
    ],
)
def test_which_decisions_send(decision: SendDecision, sends: bool) -> None:
    assert decision.sends is sends
