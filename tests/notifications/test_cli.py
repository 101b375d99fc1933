from __future__ import annotations

from pathlib import Path

import pytest

from notifications.__main__ import main
from tests.helpers.receiver import FaultyReceiver

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URLS", "CONFIG", "SECRET_BLOCK", "ROUTES"):
        monkeypatch.delenv(f"BARRACK_NOTIFY_{name}", raising=False)


def test_check_lists_masked_destinations(
    receiver: FaultyReceiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(
        "BARRACK_NOTIFY_URLS",
        f"{receiver.json_url('/all')} critical=json://ops:hunter22@127.0.0.1:9/pager",
    )
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert f"json://127.0.0.1:{receiver.port}/**** (markdown): alerts at or above info" in out
    assert "json://ops:****@127.0.0.1:9/**** [critical] (markdown)" in out
    assert "hunter22" not in out
    assert receiver.received == []


def test_check_fails_with_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BARRACK_NOTIFY_URLS", "bogus://SECRET1234 critcal=json://127.0.0.1:9/x")
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "2 problems" in err
    assert "SECRET1234" not in err


def test_check_without_destinations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 1
    assert "no destinations configured" in capsys.readouterr().out


def test_send_test(
    receiver: FaultyReceiver,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BARRACK_NOTIFY_URLS", receiver.json_url("/all"))
    assert main(["send-test", "--severity", "warning"]) == 0
    (received,) = receiver.wait_for(1)
    assert received.title == "[warning] barrack-ops test notification (warning)"
    monkeypatch.setenv(
        "BARRACK_NOTIFY_URLS", f"{receiver.json_url('/all')} json://127.0.0.1:{closed_port}/x"
    )
    monkeypatch.setenv("BARRACK_NOTIFY_TIMEOUT", "2")
    assert main(["send-test"]) == 1
    assert "failed" in capsys.readouterr().out
