"""A document (the spend digest): the full body and the chart by email, the short body in chat."""

from __future__ import annotations

from pathlib import Path

from barrack_ops.demo.receiver import NotificationReceiver
from notifications import Alert, AlertKind, Notifier, Severity, Subject
from tests.notifications.conftest import SmtpSink

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def digest() -> Alert:
    return Alert(
        kind=AlertKind.SPEND_DIGEST,
        severity=Severity.INFO,
        subject=Subject.for_account("acme"),
        title="Spend 2026-11-09..2026-11-15: USD 2,131.33 (acme)",
    )


def test_email_gets_the_long_body_and_the_chart_chat_the_short_body(
    receiver: NotificationReceiver, smtp: SmtpSink, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(PNG)
    notifier = Notifier.from_urls([receiver.json_url("/chat"), smtp.mailto()])
    long_body = "# Spend\n\n| kind | spent |\n|---|---|\n| GPU | USD 2,000.00 |\n"
    report = notifier.send_document(
        digest(), short_body="*USD 2,131.33* spent", long_body=long_body, attachments=[str(chart)]
    )
    assert report.ok, report.summary()
    assert len(report.deliveries) == 2
    (chat,) = receiver.received
    assert chat.title == "Spend 2026-11-09..2026-11-15: USD 2,131.33 (acme)"
    assert chat.body == "*USD 2,131.33* spent"
    attached = chat.payload.get("attachments") or []
    assert [a.get("filename") for a in attached] == ["chart.png"]  # json:// takes attachments
    (mail,) = smtp.messages
    text = "".join(
        part.get_content() for part in mail.walk() if part.get_content_type() == "text/plain"
    )
    html = "".join(
        part.get_content() for part in mail.walk() if part.get_content_type() == "text/html"
    )
    assert "USD 2,000.00" in text + html
    pngs = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert len(pngs) == 1
    assert pngs[0].get_content()[:8] == PNG[:8]


def test_a_document_is_not_deduplicated(receiver: NotificationReceiver) -> None:
    notifier = Notifier.from_urls(receiver.json_url("/chat"))
    for _ in range(2):
        notifier.send_document(digest(), short_body="short", long_body="long")
    assert len(receiver.received) == 2
    assert notifier.open_alerts() == []  # the ledger is untouched
