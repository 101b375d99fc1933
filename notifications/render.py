"""Turning alerts into messages: pure functions, no I/O.

One alert gives a titled message about it; several alerts bound for the same destination
in one run give a digest ("3 snapshots failed in CANADA-1") grouped by kind. Each is
rendered in Markdown (chat services, webhooks) or plain text (email, SMS, pagers).

Example:
    >>> from notifications.alerts import Alert, AlertKind, Severity, Subject
    >>> alert = Alert(kind=AlertKind.SNAPSHOT_FAILED, severity=Severity.CRITICAL,
    ...               subject=Subject.for_instance("BRK-1A2B3C4", name="train-1", region="US-1"))
    >>> render_alert(alert, BodyFormat.TEXT).title
    '[critical] Snapshot failed: train-1 (BRK-1A2B3C4) in US-1'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from notifications.alerts import (
    Alert,
    AlertKind,
    Amount,
    FactValue,
    Severity,
    Subject,
    SubjectKind,
)
from notifications.dedup import Notice, SendDecision
from notifications.text import describe_duration, escape_markdown, format_decimal

__all__ = [
    "BodyFormat",
    "Message",
    "MessageType",
    "alert_title",
    "format_fact",
    "render_alert",
    "render_message",
]

MAX_TITLE_LENGTH: Final = 120
MAX_FACT_LENGTH: Final = 300
MAX_DIGEST_LINES_PER_GROUP: Final = 20


class BodyFormat(StrEnum):
    """How a body is written. The values are apprise's format names."""

    MARKDOWN = "markdown"
    TEXT = "text"


class MessageType(StrEnum):
    """The colour of a message. The values are apprise's notify types."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class Message:
    """A rendered message, ready for one destination."""

    title: str
    body: str
    type: MessageType
    body_format: BodyFormat


@dataclass(frozen=True)
class _KindText:
    one: str
    many: str
    good_news: bool = False
    hint: str | None = None


KIND_TEXT: Final[dict[AlertKind, _KindText]] = {
    AlertKind.SNAPSHOT_FAILED: _KindText(
        "snapshot failed",
        "snapshots failed",
        hint="Check that the instance is ACTIVE and that the name is unique; the next run retries.",
    ),
    AlertKind.SNAPSHOT_CREATED: _KindText("snapshot created", "snapshots created", good_news=True),
    AlertKind.RETENTION_BLOCKED: _KindText(
        "snapshot kept past retention",
        "snapshots kept past retention",
        hint="A snapshot that backs a custom image cannot be deleted: delete the image first.",
    ),
    AlertKind.SNAPSHOT_STALE: _KindText(
        "snapshot is stale",
        "snapshots are stale",
        hint="No recent successful snapshot: check the snapshot recipe's last runs.",
    ),
    AlertKind.IDLE_WARNING: _KindText(
        "idle GPU instance",
        "idle GPU instances",
        hint="It will be hibernated unless it is used again or exempted.",
    ),
    AlertKind.HIBERNATED: _KindText(
        "instance hibernated",
        "instances hibernated",
        hint="Restore it from hibernation when it is needed again.",
    ),
    AlertKind.HIBERNATE_FAILED: _KindText(
        "hibernation failed",
        "hibernations failed",
        hint="The instance is still billed at the full rate.",
    ),
    AlertKind.RESTORE_FINISHED: _KindText("restore finished", "restores finished", good_news=True),
    AlertKind.RESTORE_FAILED: _KindText(
        "restore failed",
        "restores failed",
        hint="Check stock in the target region, the balance and the profile, then retry.",
    ),
    AlertKind.DRILL_FAILED: _KindText(
        "restore drill failed",
        "restore drills failed",
        hint="The snapshot could not be restored: the backup may not be usable.",
    ),
    AlertKind.DRILL_SUCCEEDED: _KindText(
        "restore drill passed", "restore drills passed", good_news=True
    ),
    AlertKind.LOW_BALANCE: _KindText(
        "low balance",
        "low balances",
        hint="Top up credits before the runway ends: at zero, active instances are stopped.",
    ),
    AlertKind.BALANCE_RESOLVED: _KindText(
        "balance recovered", "balances recovered", good_news=True
    ),
    AlertKind.FLOW_FAILED: _KindText(
        "flow run failed",
        "flow runs failed",
        hint="Open the flow run for the full traceback.",
    ),
    AlertKind.SPEND_ANOMALY: _KindText(
        "spend anomaly",
        "spend anomalies",
        hint="Look at the instances named: a forgotten instance, a restore left running, a "
        "runaway job. The spend-report recipe lists the day's spend by instance.",
    ),
    AlertKind.SPEND_DIGEST: _KindText("spend digest", "spend digests"),
    AlertKind.GENERIC: _KindText("alert", "alerts"),
}


def render_alert(alert: Alert, body_format: BodyFormat) -> Message:
    """Render one new alert."""
    return render_message([Notice(alert)], body_format)


def render_message(
    notices: Sequence[Notice], body_format: BodyFormat, *, note: str | None = None
) -> Message:
    """Render the notices bound for one destination: one alert, or a digest of several.

    Args:
        notices: At least one.
        body_format: Markdown or plain text.
        note: A line put first in the body (e.g. why a fallback destination receives it).

    Raises:
        ValueError: ``notices`` is empty.
    """
    if not notices:
        raise ValueError("render_message needs at least one notice")
    markdown = body_format is BodyFormat.MARKDOWN
    if len(notices) == 1:
        title = notice_title(notices[0])
        body = _single_body(notices[0], markdown)
    else:
        title = digest_title(notices)
        body = _digest_body(notices, markdown)
    if note:
        body = f"{_italic(note, markdown)}\n\n{body}"
    return Message(
        title=_shorten(title, MAX_TITLE_LENGTH),
        body=body,
        type=_message_type(notices),
        body_format=body_format,
    )


def alert_title(alert: Alert) -> str:
    """The alert's own title, or ``<What happened>: <subject>`` derived from kind and subject."""
    if alert.title:
        return alert.title
    return f"{_capitalise(KIND_TEXT[alert.kind].one)}: {_subject_phrase(alert.subject)}"


def notice_title(notice: Notice) -> str:
    """The title of a single-alert message, with its severity or ``[resolved]`` in front."""
    return f"{_title_prefix(notice)}{alert_title(notice.alert)}"


def digest_title(notices: Sequence[Notice]) -> str:
    """``3 snapshots failed in CANADA-1``, or ``5 alerts: 3 snapshots failed, 2 resolved``."""
    open_notices = [n for n in notices if n.decision is not SendDecision.RESOLVED]
    resolved = len(notices) - len(open_notices)
    kinds = list(dict.fromkeys(n.alert.kind for n in open_notices))
    worst = max((n.alert.severity for n in open_notices), default=None)
    prefix = f"[{worst.value}] " if worst is not None and worst > Severity.INFO else ""
    if len(kinds) == 1 and not resolved:
        return f"{prefix}{_count(kinds[0], len(open_notices))}{_region_phrase(open_notices)}"
    parts = [_count(kind, sum(1 for n in open_notices if n.alert.kind is kind)) for kind in kinds]
    if resolved:
        parts.append(f"{resolved} resolved")
    return f"{prefix}{len(notices)} alerts: {', '.join(parts)}"


def format_fact(value: FactValue) -> str:
    """A fact value as a person reads it.

    Example:
        >>> format_fact(timedelta(hours=7, minutes=30))
        '7h 30m'
    """
    text: str
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, Amount):
        text = str(value)
    elif isinstance(value, Decimal):
        text = format_decimal(value)
    elif isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, timedelta):
        text = describe_duration(value)
    elif isinstance(value, datetime):
        text = format_time(value)
    elif isinstance(value, list):
        text = ", ".join(value)
    else:
        text = value
    return _shorten(" ".join(text.split()), MAX_FACT_LENGTH)


def format_time(value: datetime) -> str:
    """``2025-05-01 02:00 UTC``."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _title_prefix(notice: Notice) -> str:
    if notice.decision is SendDecision.RESOLVED:
        return "[resolved] "
    if notice.alert.severity > Severity.INFO:
        return f"[{notice.alert.severity.value}] "
    return ""


def _message_type(notices: Sequence[Notice]) -> MessageType:
    open_alerts = [n.alert for n in notices if n.decision is not SendDecision.RESOLVED]
    if not open_alerts:
        return MessageType.SUCCESS
    worst = max(alert.severity for alert in open_alerts)
    if worst is Severity.CRITICAL:
        return MessageType.FAILURE
    if worst is Severity.WARNING:
        return MessageType.WARNING
    if all(KIND_TEXT[alert.kind].good_news for alert in open_alerts):
        return MessageType.SUCCESS
    return MessageType.INFO


def _single_body(notice: Notice, markdown: bool) -> str:
    alert = notice.alert
    status = "resolved" if notice.decision is SendDecision.RESOLVED else alert.severity.value
    lines = [f"{_subject_line(alert.subject, markdown)} · {status}"]
    facts = [_fact_line(label, value, markdown) for label, value in alert.facts.items()]
    if facts:
        lines += ["", *facts]
    remarks = [r for r in (_history_remark(notice), _hint(notice)) if r]
    if remarks:
        lines += ["", *(_italic(r, markdown) for r in remarks)]
    if alert.flow_run_url:
        lines += ["", _link("Open the flow run", alert.flow_run_url, markdown)]
    return "\n".join(lines)


def _digest_body(notices: Sequence[Notice], markdown: bool) -> str:
    groups: dict[tuple[bool, AlertKind], list[Notice]] = {}
    for notice in notices:
        groups.setdefault((notice.decision is SendDecision.RESOLVED, notice.alert.kind), []).append(
            notice
        )
    # Open problems first, worst first; resolutions last.
    order = sorted(
        groups,
        key=lambda key: (key[0], -max(n.alert.severity.rank for n in groups[key])),
    )
    links = {n.alert.flow_run_url for n in notices if n.alert.flow_run_url}
    shared_link = links.pop() if len(links) == 1 else None
    blocks: list[str] = []
    for resolved, kind in order:
        members = groups[(resolved, kind)]
        blocks.append(
            _digest_group(members, resolved, markdown, per_line_links=shared_link is None)
        )
    if shared_link:
        blocks.append(_link("Open the flow run", shared_link, markdown))
    return "\n\n".join(blocks)


def _digest_group(
    members: list[Notice], resolved: bool, markdown: bool, *, per_line_links: bool
) -> str:
    kind = members[0].alert.kind
    worst = max(n.alert.severity for n in members)
    if resolved:
        heading = f"Resolved: {_count(kind, len(members))}"
    else:
        heading = f"{_capitalise(_count(kind, len(members)))} ({worst.value})"
    lines = [f"**{heading}**" if markdown else heading]
    bullet = "- " if markdown else "  - "
    for notice in members[:MAX_DIGEST_LINES_PER_GROUP]:
        alert = notice.alert
        line = _subject_phrase(alert.subject, markdown)
        if alert.title:
            line += f": {_literal(alert.title, markdown)}"
        if alert.severity is not worst and not resolved:
            line += " " + _literal(f"[{alert.severity.value}]", markdown)
        facts = "; ".join(f"{_label(k)}: {format_fact(v)}" for k, v in alert.facts.items())
        if facts:
            line += f" ({_literal(facts, markdown)})"
        if per_line_links and alert.flow_run_url:
            line += " " + _link("flow run", alert.flow_run_url, markdown, inline=True)
        lines.append(bullet + line)
    hidden = len(members) - MAX_DIGEST_LINES_PER_GROUP
    if hidden > 0:
        lines.append(f"{bullet}… and {hidden} more")
    hint = KIND_TEXT[kind].hint
    if hint and not resolved:
        lines.append(_italic(f"What to do: {hint}", markdown))
    return "\n".join(lines)


def _history_remark(notice: Notice) -> str | None:
    since = f"open since {format_time(notice.open_since)}" if notice.open_since else None
    if notice.decision is SendDecision.ESCALATED and notice.previous_severity is not None:
        return f"Escalated from {notice.previous_severity.value}" + (
            f", {since}." if since else "."
        )
    if notice.decision is SendDecision.REPEAT:
        held = ""
        if notice.suppressed:
            reports = "report" if notice.suppressed == 1 else "reports"
            held = f"; {notice.suppressed} repeated {reports} held back since the last message"
        return f"Still open{', ' + since if since else ''}{held}."
    if notice.decision is SendDecision.RESOLVED:
        return f"The condition has cleared{' (' + since + ')' if since else ''}."
    return None


def _hint(notice: Notice) -> str | None:
    hint = KIND_TEXT[notice.alert.kind].hint
    if hint is None or notice.decision is SendDecision.RESOLVED:
        return None
    return f"What to do: {hint}"


def _subject_line(subject: Subject, markdown: bool) -> str:
    return f"{_capitalise(subject.kind.value)} {_subject_phrase(subject, markdown)}"


def _subject_phrase(subject: Subject, markdown: bool = False) -> str:
    def code(text: str) -> str:
        return f"`{text.replace('`', '')}`" if markdown else text

    if subject.name and subject.name != subject.id:
        phrase = f"{code(subject.name)} ({code(subject.id)})"
    else:
        phrase = code(subject.id)
    if subject.region and subject.kind is not SubjectKind.REGION:
        phrase += f" in {subject.region}"
    return phrase


def _region_phrase(notices: Sequence[Notice]) -> str:
    regions = {n.alert.subject.region for n in notices}
    if None in regions or not regions:
        return ""
    if len(regions) == 1:
        return f" in {regions.pop()}"
    return f" in {len(regions)} regions"


def _count(kind: AlertKind, count: int) -> str:
    text = KIND_TEXT[kind]
    return f"{count} {text.one if count == 1 else text.many}"


def _fact_line(label: str, value: FactValue, markdown: bool) -> str:
    if markdown:
        return f"- **{escape_markdown(_label(label))}:** {escape_markdown(format_fact(value))}"
    return f"{_label(label)}: {format_fact(value)}"


_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")


def _label(key: str) -> str:
    if _SNAKE.match(key):
        return _capitalise(key.replace("_", " "))
    return key


def _link(text: str, url: str, markdown: bool, *, inline: bool = False) -> str:
    if markdown:
        return f"[{text}]({url})"
    return f"({text}: {url})" if inline else f"{_capitalise(text)}: {url}"


def _italic(text: str, markdown: bool) -> str:
    return f"_{escape_markdown(text)}_" if markdown else text


def _literal(text: str, markdown: bool) -> str:
    return escape_markdown(text) if markdown else text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
