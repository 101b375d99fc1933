"""Real deliveries: an SMTP server and an HTTP receiver on loopback, no mocks of apprise."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from notifications import (
    Alert,
    AlertKind,
    Amount,
    BodyFormat,
    DeliveryStatus,
    Notifier,
    Severity,
    Subject,
)
from notifications.delivery import deliver
from notifications.destinations import load_destination
from notifications.masking import Redactor
from notifications.render import render_alert
from notifications.sources import parse_url_list
from tests.helpers.receiver import FaultyReceiver
from tests.notifications.conftest import SmtpSink

RUN_URL = "http://127.0.0.1:4200/runs/flow-run/6f1c2d3e"


def low_balance() -> Alert:
    return Alert(
        kind=AlertKind.LOW_BALANCE,
        severity=Severity.CRITICAL,
        subject=Subject.for_account("acme"),
        facts={
            "balance": Amount(value=Decimal("4.20"), currency="USD"),
            "runway": timedelta(hours=7.5),
        },
        flow_run_url=RUN_URL,
    )


def test_email_is_plain_text_with_the_title_as_subject(smtp: SmtpSink) -> None:
    notifier = Notifier.from_urls(smtp.mailto(), timeout=5)
    assert notifier.destinations[0].body_format is BodyFormat.TEXT
    report = notifier.send(low_balance())
    assert report.ok, report.summary()
    assert len(smtp.messages) == 1
    email = smtp.messages[0]
    assert email["Subject"] == "[critical] Low balance: acme"
    assert email.get_content_type() == "text/plain"
    body = email.get_content()
    assert "Balance: USD 4.20" in body
    assert "Runway: 7h 30m" in body
    assert f"Open the flow run: {RUN_URL}" in body
    assert "**" not in body
    assert smtp.recipients == [["ops@example.com"]]


@pytest.mark.parametrize("kind", ["json", "form"])
def test_webhooks_get_markdown_title_body_and_type(receiver: FaultyReceiver, kind: str) -> None:
    url = receiver.json_url("/ops") if kind == "json" else receiver.form_url("/ops")
    notifier = Notifier.from_urls(url, timeout=5)
    assert notifier.destinations[0].body_format is BodyFormat.MARKDOWN
    report = notifier.send(low_balance())
    assert report.ok, report.summary()
    (received,) = receiver.wait_for(1)
    assert received.path == "/ops"
    assert received.content_type == (
        "application/json" if kind == "json" else "application/x-www-form-urlencoded"
    )
    assert received.title == "[critical] Low balance: acme"
    assert received.type == "failure"
    assert received.body is not None
    assert "- **Balance:** USD 4.20" in received.body
    assert f"[Open the flow run]({RUN_URL})" in received.body
    assert {"version", "title", "message", "type"} <= set(received.payload)


def test_delivery_result_of_a_closed_port(closed_port: int) -> None:
    destination = load_destination(parse_url_list(f"json://127.0.0.1:{closed_port}/ops", "X")[0])
    result = deliver(
        destination,
        render_alert(low_balance(), destination.body_format),
        timeout=2,
        redactor=Redactor(),
    )
    assert result.status is DeliveryStatus.FAILED
    assert not result.ok
    assert result.reason is not None
    assert "Connection error" in result.reason
    assert result.destination == f"json://127.0.0.1:{closed_port}/****"


def test_an_http_error_names_the_status(receiver: FaultyReceiver) -> None:
    receiver.fail_path("/broken", status=503)
    notifier = Notifier.from_urls(receiver.json_url("/broken"), timeout=5)
    report = notifier.send(low_balance())
    (delivery,) = report.deliveries
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.reason is not None
    assert "503" in delivery.reason
    assert receiver.received == []


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def test_a_silent_server_fails_within_the_timeout(silent_port: int) -> None:
    notifier = Notifier.from_urls(f"json://127.0.0.1:{silent_port}/ops", timeout=0.5)
    report = notifier.send(low_balance())
    (delivery,) = report.deliveries
    assert delivery.status in (DeliveryStatus.TIMEOUT, DeliveryStatus.FAILED)
    assert delivery.reason
    assert not report.ok


@pytest.mark.parametrize(
    ("url", "body_format"),
    [
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", BodyFormat.MARKDOWN),
        ("discord://123456789012/abcdefTOKEN12345", BodyFormat.MARKDOWN),
        ("json://127.0.0.1:1/x", BodyFormat.MARKDOWN),
        ("form://127.0.0.1:1/x", BodyFormat.MARKDOWN),
        ("mailto://127.0.0.1:1?from=a@example.com&to=b@example.com", BodyFormat.TEXT),
        ("pagerduty://intkey0123@apikey4567", BodyFormat.TEXT),
        ("ntfy://barrack-ops-alerts", BodyFormat.TEXT),
    ],
)
def test_body_format_follows_the_service(url: str, body_format: BodyFormat) -> None:
    # Loading a destination contacts nothing; only sending does.
    assert load_destination(parse_url_list(url, "X")[0]).body_format is body_format
