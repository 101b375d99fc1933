from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from barrack_ops.demo.receiver import NotificationReceiver
from tests.helpers.receiver import FaultyReceiver
from tests.notifications.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[FaultyReceiver]:
    with FaultyReceiver() as running:
        yield running


def test_json_and_form_posts_are_kept_and_written_to_jsonl(tmp_path: Path) -> None:
    jsonl = tmp_path / "received.jsonl"
    with NotificationReceiver(jsonl_path=jsonl) as receiver:
        base = f"http://127.0.0.1:{receiver.port}"
        httpx.post(f"{base}/a", json={"title": "T1", "message": "B1", "type": "info"})
        httpx.post(f"{base}/b", data={"title": "T2", "message": "B2", "type": "warning"})
        received = receiver.wait_for(2)
        listed = httpx.get(f"{base}/_received").json()
    assert [(n.path, n.title, n.body, n.type) for n in received] == [
        ("/a", "T1", "B1", "info"),
        ("/b", "T2", "B2", "warning"),
    ]
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["payload"]["title"] for line in lines] == ["T1", "T2"]
    assert [item["path"] for item in listed] == ["/a", "/b"]


def test_other_bodies_are_kept_raw(receiver: FaultyReceiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    httpx.post(f"{base}/x", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    httpx.post(f"{base}/y", content=b"[1, 2]", headers={"Content-Type": "application/json"})
    httpx.post(f"{base}/z", content=b"{oops", headers={"Content-Type": "application/json"})
    payloads = [n.payload for n in receiver.wait_for(3)]
    assert payloads == [{"raw": "<xml/>"}, {"value": [1, 2]}, {"raw": "{oops"}]
    assert receiver.received[0].title is None


def test_authorization_headers_are_not_kept(receiver: FaultyReceiver) -> None:
    httpx.post(
        f"http://127.0.0.1:{receiver.port}/h",
        json={},
        headers={"Authorization": "Bearer abc123", "X-Custom": "1"},
    )
    (received,) = receiver.wait_for(1)
    assert "Authorization" not in received.headers
    assert received.headers["X-Custom"] == "1"


def test_a_plain_receiver_accepts_every_post() -> None:
    with NotificationReceiver() as plain:
        assert httpx.post(f"http://127.0.0.1:{plain.port}/down", json={}).json() == {
            "received": True
        }


def test_failing_path_and_size_limit(receiver: FaultyReceiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    receiver.fail_path("down", status=502)
    assert httpx.post(f"{base}/down", json={}).status_code == 502
    big = httpx.post(f"{base}/big", content=b"x" * 1_000_001)
    assert big.status_code == 413
    assert httpx.get(f"{base}/other").status_code == 404
    assert receiver.received == []


def test_wait_for_returns_what_arrived_when_time_runs_out(receiver: FaultyReceiver) -> None:
    assert receiver.wait_for(1, timeout=0.05) == []


def test_urls_clear_and_life_cycle() -> None:
    receiver = NotificationReceiver().start()
    try:
        assert receiver.json_url("/ops") == f"json://127.0.0.1:{receiver.port}/ops"
        assert receiver.form_url("ops") == f"form://127.0.0.1:{receiver.port}/ops"
        httpx.post(f"http://127.0.0.1:{receiver.port}/ops", json={"title": "x"})
        receiver.wait_for(1)
        receiver.clear()
        assert receiver.received == []
        with pytest.raises(RuntimeError, match="already running"):
            receiver.start()
    finally:
        receiver.stop()
    receiver.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = receiver.port


def test_receive_prints_what_arrives(tmp_path: Path) -> None:
    port = free_port()
    jsonl = tmp_path / "received.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "barrack_ops.demo.receiver",
            "--port",
            str(port),
            "--jsonl",
            str(jsonl),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith(f"receiving on json://127.0.0.1:{port}/")
        payload = {
            "title": "[critical] Low balance: acme",
            "message": "Runway: 7.5 h",
            "type": "failure",
        }
        httpx.post(f"http://127.0.0.1:{port}/ops", json=payload)
        assert process.stdout.readline() == "[failure] [critical] Low balance: acme\n"
        assert process.stdout.readline() == "Runway: 7.5 h\n"
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert json.loads(jsonl.read_text())["payload"] == payload
