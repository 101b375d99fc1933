from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from notifications import NotificationReceiver


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


def test_other_bodies_are_kept_raw(receiver: NotificationReceiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    httpx.post(f"{base}/x", content=b"<xml/>", headers={"Content-Type": "application/xml"})
    httpx.post(f"{base}/y", content=b"[1, 2]", headers={"Content-Type": "application/json"})
    httpx.post(f"{base}/z", content=b"{oops", headers={"Content-Type": "application/json"})
    payloads = [n.payload for n in receiver.wait_for(3)]
    assert payloads == [{"raw": "<xml/>"}, {"value": [1, 2]}, {"raw": "{oops"}]
    assert receiver.received[0].title is None


def test_authorization_headers_are_not_kept(receiver: NotificationReceiver) -> None:
    httpx.post(
        f"http://127.0.0.1:{receiver.port}/h",
        json={},
        headers={"Authorization": "Bearer abc123", "X-Custom": "1"},
    )
    (received,) = receiver.wait_for(1)
    assert "Authorization" not in received.headers
    assert received.headers["X-Custom"] == "1"


def test_failing_path_and_size_limit(receiver: NotificationReceiver) -> None:
    base = f"http://127.0.0.1:{receiver.port}"
    receiver.fail_path("down", status=502)
    assert httpx.post(f"{base}/down", json={}).status_code == 502
    big = httpx.post(f"{base}/big", content=b"x" * 1_000_001)
    assert big.status_code == 413
    assert httpx.get(f"{base}/other").status_code == 404
    assert receiver.received == []


def test_wait_for_returns_what_arrived_when_time_runs_out(receiver: NotificationReceiver) -> None:
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
