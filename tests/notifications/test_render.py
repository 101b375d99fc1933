from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from notifications import Alert, AlertKind, Amount, BodyFormat, MessageType, Severity, Subject
from notifications.dedup import Notice, SendDecision
from notifications.render import (
    MAX_DIGEST_LINES_PER_GROUP,
    alert_title,
    digest_title,
    format_fact,
    render_alert,
    render_message,
)

RUN_URL = "http://127.0.0.1:4200/runs/flow-run/6f1c"
TRAIN_1 = Subject.for_instance("BRK-1A2B3C4", name="train-1", region="CANADA-1")


def alert(
    kind: AlertKind = AlertKind.SNAPSHOT_FAILED,
    severity: Severity = Severity.CRITICAL,
    subject: Subject = TRAIN_1,
    **fields: object,
) -> Alert:
    return Alert.model_validate({"kind": kind, "severity": severity, "subject": subject, **fields})


def instance(number: int, region: str = "CANADA-1") -> Subject:
    return Subject.for_instance(f"BRK-000000{number}", name=f"train-{number}", region=region)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("quota exceeded", "quota exceeded"),
        ("line one\n  line two", "line one line two"),
        (3, "3"),
        (12345, "12,345"),
        (7.5, "7.5"),
        (0.333333, "0.33"),
        (2.0, "2"),
        (True, "yes"),
        (False, "no"),
        (Decimal("42.1700"), "42.17"),
        (Amount(value=Decimal("4.2"), currency="USD"), "USD 4.20"),
        (timedelta(hours=7, minutes=30), "7h 30m"),
        (timedelta(hours=3), "3h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(hours=96), "4d"),
        (datetime(2025, 5, 1, 4, 30, tzinfo=UTC), "2025-05-01 04:30 UTC"),
        (["BRK-1", "BRK-2"], "BRK-1, BRK-2"),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_format_fact(value: object, text: str) -> None:
    assert format_fact(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "title"),
    [
        (alert(), "[critical] Snapshot failed: train-1 (BRK-1A2B3C4) in CANADA-1"),
        (
            alert(AlertKind.IDLE_WARNING, Severity.WARNING),
            "[warning] Idle GPU instance: train-1 (BRK-1A2B3C4) in CANADA-1",
        ),
        (
            alert(AlertKind.SNAPSHOT_CREATED, Severity.INFO),
            "Snapshot created: train-1 (BRK-1A2B3C4) in CANADA-1",
        ),
        (
            alert(AlertKind.SNAPSHOT_STALE, Severity.WARNING, Subject.for_region("US-1")),
            "[warning] Snapshot is stale: US-1",
        ),
        (
            alert(AlertKind.LOW_BALANCE, Severity.CRITICAL, Subject.for_account("acme")),
            "[critical] Low balance: acme",
        ),
        (
            alert(AlertKind.GENERIC, Severity.INFO, title="Quota raised to 8 GPUs"),
            "Quota raised to 8 GPUs",
        ),
    ],
)
def test_single_alert_titles(given: Alert, title: str) -> None:
    assert render_alert(given, BodyFormat.TEXT).title == title
    assert render_alert(given, BodyFormat.MARKDOWN).title == title


@pytest.mark.parametrize(
    ("given", "message_type"),
    [
        (alert(severity=Severity.CRITICAL), MessageType.FAILURE),
        (alert(severity=Severity.WARNING), MessageType.WARNING),
        (alert(AlertKind.HIBERNATED, Severity.INFO), MessageType.INFO),
        (alert(AlertKind.DRILL_SUCCEEDED, Severity.INFO), MessageType.SUCCESS),
        (alert(AlertKind.RESTORE_FINISHED, Severity.INFO), MessageType.SUCCESS),
    ],
)
def test_message_type_follows_severity_and_good_news(
    given: Alert, message_type: MessageType
) -> None:
    assert render_alert(given, BodyFormat.TEXT).type is message_type


def low_balance() -> Alert:
    return alert(
        AlertKind.LOW_BALANCE,
        Severity.CRITICAL,
        Subject.for_account("acme"),
        facts={
            "balance": Amount(value=Decimal("4.20"), currency="USD"),
            "burn_rate": Amount(value=Decimal("0.56"), currency="USD"),
            "runway": timedelta(hours=7.5),
            "Active instances": ["train-1", "train-2"],
        },
        flow_run_url=RUN_URL,
    )


def test_plain_text_body_has_what_a_person_acts_on() -> None:
    message = render_alert(low_balance(), BodyFormat.TEXT)
    assert message.body_format is BodyFormat.TEXT
    assert message.body == (
        "Account acme · critical\n"
        "\n"
        "Balance: USD 4.20\n"
        "Burn rate: USD 0.56\n"
        "Runway: 7h 30m\n"
        "Active instances: train-1, train-2\n"
        "\n"
        "What to do: Top up credits before the runway ends: at zero, active instances are "
        "stopped.\n"
        "\n"
        f"Open the flow run: {RUN_URL}"
    )
    for markup in ("**", "`", "[", "_What"):
        assert markup not in message.body


def test_markdown_body_uses_markdown() -> None:
    message = render_alert(
        alert(facts={"error": "INVALID_STATE"}, flow_run_url=RUN_URL), BodyFormat.MARKDOWN
    )
    assert (
        message.body.splitlines()[0] == "Instance `train-1` (`BRK-1A2B3C4`) in CANADA-1 · critical"
    )
    assert r"- **Error:** INVALID\_STATE" in message.body  # user text is escaped
    assert message.body.endswith(f"[Open the flow run]({RUN_URL})")


def test_body_without_url_or_facts_is_short() -> None:
    body = render_alert(alert(AlertKind.SNAPSHOT_CREATED, Severity.INFO), BodyFormat.TEXT).body
    assert body == "Instance train-1 (BRK-1A2B3C4) in CANADA-1 · info"


def test_backticks_in_names_cannot_break_code_spans() -> None:
    subject = Subject.for_instance("BRK-1", name="evil`name")
    body = render_alert(alert(subject=subject), BodyFormat.MARKDOWN).body
    assert "`evilname`" in body


OPEN_SINCE = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("notice", "title_start", "remark"),
    [
        (
            Notice(alert(), SendDecision.REPEAT, open_since=OPEN_SINCE, suppressed=5),
            "[critical] ",
            "Still open, open since 2025-05-01 02:00 UTC; 5 repeated reports held back "
            "since the last message.",
        ),
        (
            Notice(alert(), SendDecision.REPEAT, open_since=OPEN_SINCE, suppressed=1),
            "[critical] ",
            "1 repeated report held back",
        ),
        (
            Notice(
                alert(),
                SendDecision.ESCALATED,
                open_since=OPEN_SINCE,
                previous_severity=Severity.WARNING,
            ),
            "[critical] ",
            "Escalated from warning, open since 2025-05-01 02:00 UTC.",
        ),
        (
            Notice(alert(), SendDecision.RESOLVED, open_since=OPEN_SINCE),
            "[resolved] Snapshot failed",
            "The condition has cleared (open since 2025-05-01 02:00 UTC).",
        ),
    ],
)
def test_history_remarks(notice: Notice, title_start: str, remark: str) -> None:
    message = render_message([notice], BodyFormat.TEXT)
    assert message.title.startswith(title_start)
    assert remark in message.body


def test_resolved_message_is_success_and_has_no_hint() -> None:
    message = render_message([Notice(alert(), SendDecision.RESOLVED)], BodyFormat.TEXT)
    assert message.type is MessageType.SUCCESS
    assert "What to do" not in message.body
    assert message.body.startswith("Instance train-1 (BRK-1A2B3C4) in CANADA-1 · resolved")


@pytest.mark.parametrize(
    ("notices", "title"),
    [
        (
            [Notice(alert(subject=instance(n))) for n in range(3)],
            "[critical] 3 snapshots failed in CANADA-1",
        ),
        (
            [
                Notice(alert(subject=instance(n, region=r)))
                for n, r in enumerate(["US-1", "NORWAY-1"])
            ],
            "[critical] 2 snapshots failed in 2 regions",
        ),
        (
            [
                Notice(alert(AlertKind.HIBERNATED, Severity.INFO, instance(1))),
                Notice(alert(AlertKind.HIBERNATED, Severity.INFO, instance(2))),
            ],
            "2 instances hibernated in CANADA-1",
        ),
        (
            [
                Notice(alert(subject=instance(1))),
                Notice(alert(subject=instance(2))),
                Notice(alert(AlertKind.IDLE_WARNING, Severity.WARNING, instance(3))),
                Notice(alert(subject=instance(4)), SendDecision.RESOLVED),
            ],
            "[critical] 4 alerts: 2 snapshots failed, 1 idle GPU instance, 1 resolved",
        ),
        (
            [Notice(alert(AlertKind.LOW_BALANCE, Severity.WARNING, Subject.for_account()))] * 2,
            "[warning] 2 low balances",
        ),
    ],
)
def test_digest_titles(notices: list[Notice], title: str) -> None:
    assert digest_title(notices) == title
    assert render_message(notices, BodyFormat.TEXT).title == title


def test_digest_body_groups_by_kind_worst_first_resolutions_last() -> None:
    notices = [
        Notice(
            alert(
                AlertKind.HIBERNATED,
                Severity.INFO,
                instance(1),
                facts={"saved": Amount(value=Decimal("1.19"), currency="USD")},
            )
        ),
        Notice(alert(subject=instance(2), facts={"error": "INVALID_STATE"}, flow_run_url=RUN_URL)),
        Notice(alert(subject=instance(3), severity=Severity.WARNING, flow_run_url=RUN_URL)),
        Notice(
            alert(AlertKind.LOW_BALANCE, Severity.WARNING, Subject.for_account("acme")),
            SendDecision.RESOLVED,
        ),
    ]
    body = render_message(notices, BodyFormat.TEXT).body
    assert body == (
        "2 snapshots failed (critical)\n"
        "  - train-2 (BRK-0000002) in CANADA-1 (Error: INVALID_STATE)\n"
        "  - train-3 (BRK-0000003) in CANADA-1 [warning]\n"
        "What to do: Check that the instance is ACTIVE and that the name is unique; the next "
        "run retries.\n"
        "\n"
        "1 instance hibernated (info)\n"
        "  - train-1 (BRK-0000001) in CANADA-1 (Saved: USD 1.19)\n"
        "What to do: Restore it from hibernation when it is needed again.\n"
        "\n"
        "Resolved: 1 low balance\n"
        "  - acme\n"
        "\n"
        f"Open the flow run: {RUN_URL}"
    )


def test_digest_with_different_runs_links_each_line() -> None:
    other = "http://127.0.0.1:4200/runs/flow-run/9a2d"
    notices = [
        Notice(alert(subject=instance(1), flow_run_url=RUN_URL)),
        Notice(alert(subject=instance(2), flow_run_url=other)),
    ]
    lines = render_message(notices, BodyFormat.MARKDOWN).body.splitlines()
    assert lines[1] == f"- `train-1` (`BRK-0000001`) in CANADA-1 [flow run]({RUN_URL})"
    assert lines[2] == f"- `train-2` (`BRK-0000002`) in CANADA-1 [flow run]({other})"


def test_digest_shares_one_flow_run_link() -> None:
    notices = [Notice(alert(subject=instance(n), flow_run_url=RUN_URL)) for n in range(2)]
    body = render_message(notices, BodyFormat.MARKDOWN).body
    assert body.count(RUN_URL) == 1
    assert body.endswith(f"[Open the flow run]({RUN_URL})")
    assert body.startswith("**2 snapshots failed (critical)**\n- `train-0` (`BRK-0000000`)")


def test_long_digest_is_cut_with_a_count() -> None:
    count = MAX_DIGEST_LINES_PER_GROUP + 7
    notices = [Notice(alert(subject=instance(n))) for n in range(count)]
    body = render_message(notices, BodyFormat.TEXT).body
    assert body.count("  - train-") == MAX_DIGEST_LINES_PER_GROUP
    assert "… and 7 more" in body


def test_note_goes_first() -> None:
    message = render_message([Notice(alert())], BodyFormat.MARKDOWN, note="Primaries failed.")
    assert message.body.startswith("_Primaries failed._\n\n")


def test_long_titles_are_shortened() -> None:
    long_name = "n" * 190
    message = render_alert(
        alert(subject=Subject.for_instance("BRK-1", name=long_name)), BodyFormat.TEXT
    )
    assert len(message.title) == 120
    assert message.title.endswith("…")


def test_render_needs_a_notice() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_message([], BodyFormat.TEXT)


def test_alert_title_without_prefix() -> None:
    assert alert_title(alert()) == "Snapshot failed: train-1 (BRK-1A2B3C4) in CANADA-1"


def test_markdown_bodies_show_user_text_literally() -> None:
    tricky = "gpu_box *1* | `x` [warning]"
    message = render_alert(
        alert(title=tricky, facts={"reason": tricky}, flow_run_url=RUN_URL), BodyFormat.MARKDOWN
    )
    escaped = r"gpu\_box \*1\* \| \`x\` \[warning\]"
    assert f"- **Reason:** {escaped}" in message.body
    plain = render_alert(alert(title=tricky, facts={"reason": tricky}), BodyFormat.TEXT)
    assert f"Reason: {tricky}" in plain.body
