"""Send once, repeat after an interval, escalate at once, resolve once: the pure decisions.

The ledger holds one :class:`AlertRecord` per open alert (kind + subject). For a new
report of an alert, :func:`decide` answers:

============================================  ==============
ledger says                                   decision
============================================  ==============
nothing open for this kind + subject          ``new``
open, the new severity is worse               ``escalated``
open, the repeat interval has passed          ``repeat``
open, within the interval, same or better     ``suppressed``
============================================  ==============

When a recipe reports the condition cleared, an open record gives ``resolved`` (one
message, then the record is gone) and no record gives ``not-open`` (nothing is sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from notifications.alerts import Alert, AlertKind, Severity, Subject

__all__ = ["AlertRecord", "Notice", "SendDecision", "decide"]


class SendDecision(StrEnum):
    """What happened to one reported alert or clearance."""

    NEW = "new"
    ESCALATED = "escalated"
    REPEAT = "repeat"
    SUPPRESSED = "suppressed"
    RESOLVED = "resolved"
    NOT_OPEN = "not-open"

    @property
    def sends(self) -> bool:
        """True when the decision puts a message on the wire."""
        return self not in (SendDecision.SUPPRESSED, SendDecision.NOT_OPEN)


class AlertRecord(BaseModel):
    """One open alert in the ledger (what was last sent, and when)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AlertKind
    subject: Subject
    severity: Severity
    title: str = Field(description="The rendered title last sent, reused by the resolved message")
    first_sent_at: AwareDatetime
    last_sent_at: AwareDatetime
    suppressed: int = Field(default=0, ge=0, description="Reports suppressed since the last send")


def decide(
    record: AlertRecord | None, severity: Severity, now: datetime, repeat_interval: timedelta
) -> SendDecision:
    """Decide whether a reported alert goes out (the table in the module docstring).

    Example:
        >>> from datetime import UTC
        >>> decide(None, Severity.INFO, datetime.now(UTC), timedelta(hours=6))
        <SendDecision.NEW: 'new'>
    """
    if record is None:
        return SendDecision.NEW
    if severity > record.severity:
        return SendDecision.ESCALATED
    if now - record.last_sent_at >= repeat_interval:
        return SendDecision.REPEAT
    return SendDecision.SUPPRESSED


def record_sent(record: AlertRecord | None, alert: Alert, title: str, now: datetime) -> AlertRecord:
    """The ledger entry after ``alert`` went out at ``now``."""
    return AlertRecord(
        kind=alert.kind,
        subject=alert.subject,
        severity=alert.severity,
        title=title,
        first_sent_at=record.first_sent_at if record else now,
        last_sent_at=now,
        suppressed=0,
    )


@dataclass(frozen=True)
class Notice:
    """An alert on its way out, with what the ledger knew about it (for the message text).

    Attributes:
        alert: The alert. For a resolution it is the alert being resolved, as last sent.
        decision: Why it is sent.
        open_since: When it was first sent, for repeats, escalations and resolutions.
        previous_severity: What it was before an escalation.
        suppressed: How many reports were held back since it was last sent.
    """

    alert: Alert
    decision: SendDecision = SendDecision.NEW
    open_since: datetime | None = None
    previous_severity: Severity | None = None
    suppressed: int = 0
