from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from notifications import (
    AlertLedger,
    NotificationConfigError,
    Notifier,
    NotifySettings,
    Severity,
)
from notifications.config import load_url_entries
from tests.helpers.receiver import FaultyReceiver


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BARRACK_NOTIFY_URLS", "critical=json://127.0.0.1:1/x")
    monkeypatch.setenv("BARRACK_NOTIFY_CONFIG", str(tmp_path / "notify.yaml"))
    monkeypatch.setenv("BARRACK_NOTIFY_SECRET_BLOCK", "notify-urls")
    monkeypatch.setenv("BARRACK_NOTIFY_ROUTES", '{"pager": "critical"}')
    monkeypatch.setenv("BARRACK_NOTIFY_REPEAT_INTERVAL", "PT2H")
    monkeypatch.setenv("BARRACK_NOTIFY_TIMEOUT", "3.5")
    monkeypatch.setenv("BARRACK_NOTIFY_STATE", "file")
    monkeypatch.setenv("BARRACK_NOTIFY_STATE_FILE", str(tmp_path / "ledger.json"))
    settings = NotifySettings()
    assert settings.urls is not None
    assert settings.urls.get_secret_value() == "critical=json://127.0.0.1:1/x"
    assert settings.config == tmp_path / "notify.yaml"
    assert settings.secret_block == "notify-urls"
    assert settings.routes == {"pager": Severity.CRITICAL}
    assert settings.repeat_interval == timedelta(hours=2)
    assert settings.timeout == 3.5
    assert settings.state == "file"
    assert settings.state_file == tmp_path / "ledger.json"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URLS", "CONFIG", "SECRET_BLOCK", "REPEAT_INTERVAL", "STATE"):
        monkeypatch.delenv(f"BARRACK_NOTIFY_{name}", raising=False)
    settings = NotifySettings()
    assert settings.urls is None
    assert settings.repeat_interval == timedelta(hours=6)
    assert settings.state == "auto"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("timeout", "0", "timeout"),
        ("repeat_interval", "-5", "repeat_interval"),
        ("state", "redis", "state"),
        ("routes", '{"pager": "urgent"}', "routes"),
        ("routes", '{"Pager": "critical"}', "route tag 'Pager' must be lowercase"),
    ],
)
def test_bad_settings_name_the_field(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(f"BARRACK_NOTIFY_{field.upper()}", value)
    with pytest.raises(ValidationError, match=problem):
        NotifySettings()


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ValidationError, match="url"):
        NotifySettings(url="json://x")  # type: ignore[call-arg]


def test_all_sources_are_combined(tmp_path: Path) -> None:
    config = tmp_path / "notify.yaml"
    config.write_text("urls:\n  - json://127.0.0.1:1/from-file:\n      tag: warning\n")
    calls: list[str] = []

    def reader(name: str) -> object:
        calls.append(name)
        return "critical=json://127.0.0.1:1/from-block"

    settings = NotifySettings(
        urls="json://127.0.0.1:1/from-env", config=config, secret_block="notify-urls"
    )
    entries = load_url_entries(settings, secret_reader=reader)
    assert [(e.url.get_secret_value(), sorted(e.tags), e.origin) for e in entries] == [
        ("json://127.0.0.1:1/from-env", [], "BARRACK_NOTIFY_URLS entry 1"),
        ("json://127.0.0.1:1/from-file", ["warning"], "notify.yaml urls[0]"),
        ("json://127.0.0.1:1/from-block", ["critical"], "Secret block 'notify-urls' entry 1"),
    ]
    assert calls == ["notify-urls"]


def test_the_secret_block_is_read_only_when_named() -> None:
    def reader(name: str) -> object:
        raise AssertionError("must not be called")

    assert load_url_entries(NotifySettings(urls="json://h/x"), secret_reader=reader)


@pytest.mark.parametrize(
    ("value", "urls"),
    [
        ("json://h/a json://h/b", ["json://h/a", "json://h/b"]),
        (["json://h/a", "critical=json://h/b"], ["json://h/a", "json://h/b"]),
        ({"urls": ["json://h/a"]}, ["json://h/a"]),
    ],
)
def test_secret_block_value_shapes(value: object, urls: list[str]) -> None:
    entries = load_url_entries(
        NotifySettings(secret_block="notify"), secret_reader=lambda name: value
    )
    assert [e.url.get_secret_value() for e in entries] == urls


def test_an_unreadable_secret_block_is_a_config_error() -> None:
    def reader(name: str) -> object:
        raise ValueError(f"Unable to find block document named {name}")

    with pytest.raises(NotificationConfigError, match="Secret block 'nope': cannot be read"):
        load_url_entries(NotifySettings(secret_block="nope"), secret_reader=reader)


def test_a_wrongly_shaped_secret_block_is_a_config_error() -> None:
    with pytest.raises(NotificationConfigError, match="expected a URL list"):
        load_url_entries(NotifySettings(secret_block="x"), secret_reader=lambda name: 42)


def test_problems_of_all_sources_are_listed(tmp_path: Path) -> None:
    settings = NotifySettings(urls="garbage", config=tmp_path / "missing.yaml")
    with pytest.raises(NotificationConfigError) as caught:
        load_url_entries(settings)
    assert len(caught.value.problems) == 2


def test_from_settings_validates_urls_at_start() -> None:
    settings = NotifySettings(urls="json://127.0.0.1:1/ok slack://T0K3NONLY")
    with pytest.raises(NotificationConfigError) as caught:
        Notifier.from_settings(settings, store=AlertLedger.in_memory())
    assert "BARRACK_NOTIFY_URLS entry 2 (slack://****)" in str(caught.value)
    assert "T0K3NONLY" not in str(caught.value)


@pytest.mark.usefixtures("prefect_harness")
def test_real_prefect_secret_block(receiver: FaultyReceiver) -> None:
    from prefect.blocks.system import Secret

    Secret(value="critical=" + receiver.json_url("/pager")).save(
        "barrack-notify-test", overwrite=True, _sync=True
    )
    notifier = Notifier.from_settings(
        NotifySettings(secret_block="barrack-notify-test"), store=AlertLedger.in_memory()
    )
    assert [sorted(d.tags) for d in notifier.destinations] == [["critical"]]
    assert notifier.destinations[0].origin == "Secret block 'barrack-notify-test' entry 1"
