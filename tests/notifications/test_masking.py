from __future__ import annotations

import logging

import pytest

from notifications import AlertLedger, NotificationConfigError, Notifier
from notifications.destinations import load_destination
from notifications.masking import Redactor, environment_secrets, mask_url, scrub_text
from notifications.sources import parse_url_list


def destination(url: str):  # type: ignore[no-untyped-def]
    return load_destination(parse_url_list(url, "X")[0])


# url, display, secrets that must be hidden
LOADED = [
    (
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
        "slack://****/****/****/%23general",
        ["T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ"],
    ),
    (
        "mailto://user:hunter22@smtp.example.com?to=ops@example.com",
        "mailto://user:****@smtp.example.com/ops%40example.com",
        ["hunter22"],
    ),
    (
        "json://user:s3cr3tpw@127.0.0.1:8765/hooks/8f3a9c2e71d04b6e?+Authorization=Bearer%20abc123def456",
        "json://user:****@127.0.0.1:8765/****/****",
        ["s3cr3tpw", "8f3a9c2e71d04b6e", "abc123def456"],
    ),
    (
        "discord://123456789012/abcdefTOKEN12345",
        "discord://****/****",
        ["123456789012", "abcdefTOKEN12345"],
    ),
    (
        "pagerduty://intkey0123@apikey4567",
        "pagerduty://****@****/****/****",
        ["intkey0123", "apikey4567"],
    ),
    (
        "tgram://123456789:abcdefg_hijklmnop/12345",
        "tgram://****/12345",
        ["abcdefg_hijklmnop"],
    ),
]


@pytest.mark.parametrize(("url", "display", "hidden"), LOADED)
def test_loaded_destinations_are_shown_masked(url: str, display: str, hidden: list[str]) -> None:
    loaded = destination(url)
    assert loaded.display == display
    shown = f"{loaded!r} {loaded.label} {loaded.display}"
    for secret in hidden:
        assert secret not in shown
    assert "Bearer abc123def456" in loaded.secrets or "abc123def456" not in url


@pytest.mark.parametrize(
    ("url", "display"),
    [
        ("slack://short", "slack://****"),
        ("foo://user:pw12345@host.example.com/a/b", "foo://user:****@host.example.com/****/****"),
        ("bar://token123456@127.0.0.1:99/x", "bar://****@127.0.0.1:99/****"),
        ("baz://T0/B0/XXXX", "baz://****/****/****"),
    ],
)
def test_urls_apprise_cannot_load_are_masked_generically(url: str, display: str) -> None:
    assert mask_url(url).display == display


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("bogus://T0K3N/xyz", "unsupported scheme 'bogus'"),
        ("slack://T0K3N", "apprise rejected it"),
        (
            "mailto://user:hunter22@127.0.0.1:25?from=not-an-address&to=ops@example.com",
            "apprise rejected it",
        ),
    ],
)
def test_bad_urls_fail_with_masked_errors(url: str, problem: str) -> None:
    with pytest.raises(NotificationConfigError) as caught:
        Notifier.from_urls(f"critical={url}")
    message = str(caught.value)
    assert "urls entry 1" in message
    assert problem in message
    for secret in ("T0K3N", "hunter22"):
        assert secret not in message


def test_unknown_tag_is_an_error() -> None:
    with pytest.raises(NotificationConfigError, match="tag\\(s\\) critcal route nothing"):
        Notifier.from_urls("critcal=json://127.0.0.1:1/x")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(NotificationConfigError) as caught:
        Notifier.from_urls("bogus://a json://127.0.0.1:1/x critcal=json://127.0.0.1:1/y")
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        (
            "GET https://bot:s3cr3t@api.example.com failed",
            "GET https://bot:****@api.example.com failed",
        ),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x", "Authorization: Bearer ****"),
        ("api_key=abcd1234&x=1", "api_key=****&x=1"),
        ('{"password": "hunter22"}', '{"password": "****"}'),
        ("token: 9f8e7d6c5b4a", "token: ****"),
        # plain words after "token" or "basic" stay
        ("Basic subscription expired", "Basic subscription expired"),
        ("the token expired", "the token expired"),
        ("3 snapshots failed in CANADA-1", "3 snapshots failed in CANADA-1"),
    ],
)
def test_scrub_text(text: str, scrubbed: str) -> None:
    assert scrub_text(text) == scrubbed


def test_redactor_masks_longest_first_and_hides_itself() -> None:
    redactor = Redactor({"abcd", "abcdefgh", "xy"})
    assert redactor.redact("abcdefgh abcd xy") == "**** **** xy"
    assert "abcd" not in repr(redactor)


def test_environment_secrets_are_picked_by_name() -> None:
    found = environment_secrets(
        {
            "BARRACK_API_KEY": "brk_live_0123456789",
            "PREFECT_API_KEY": "pnu_abcdefghijkl",
            "SMTP_PASSWORD": "correct-horse-battery",
            "PREFECT_UI_URL": "http://127.0.0.1:4200",
            "HOME": "/root/long/enough/path",
            "SHORT_TOKEN": "abc",
        }
    )
    assert found == {"brk_live_0123456789", "pnu_abcdefghijkl", "correct-horse-battery"}


def test_apprise_debug_logs_are_masked(caplog: pytest.LogCaptureFixture, closed_port: int) -> None:
    """apprise logs parsed URLs and request URLs in clear at DEBUG and TRACE level."""
    caplog.set_level(1)
    url = (
        f"json://ops:s3cr3tpw@127.0.0.1:{closed_port}/hooks/8f3a9c2e71d04b6e"
        "?+X-Api-Token=hdr0123456789"
    )
    notifier = Notifier.from_urls(url, timeout=2)
    from notifications import Alert, AlertKind, Severity, Subject

    report = notifier.send(
        Alert(kind=AlertKind.GENERIC, severity=Severity.INFO, subject=Subject.for_account())
    )
    assert not report.ok
    assert any(record.name == "apprise" for record in caplog.records)
    everything = caplog.text + repr(notifier) + report.model_dump_json()
    for secret in ("s3cr3tpw", "8f3a9c2e71d04b6e", "hdr0123456789"):
        assert secret not in everything
    assert f"json://ops:****@127.0.0.1:{closed_port}/****/****" in caplog.text


def test_secret_settings_are_hidden_in_reprs() -> None:
    from notifications import NotifySettings

    settings = NotifySettings(urls="slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in repr(settings)
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in str(settings.model_dump())
    notifier = Notifier.from_settings(settings, store=AlertLedger.in_memory())
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in repr(notifier)
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in repr(notifier.destinations)


def test_logging_filter_keeps_unrelated_records(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="apprise")
    logging.getLogger("apprise").info("plain %s", "message")
    assert "plain message" in caplog.text
