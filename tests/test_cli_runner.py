"""The command line's pure parts: error lines, the Prefect server choice, the plan's text."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from barrack import APIUnreachableError, AuthenticationError, NotFoundError
from barrack_ops import runner
from barrack_ops.commands.plan import BLOCKED_ACTION, Only, render_text, snapshot_rows
from barrack_ops.runner import choose_prefect_server, describe_contact_error, one_line
from flows.nightly_snapshots.records import RetentionPlanning
from flows.nightly_snapshots.retention import RetentionPolicy, SnapshotRecord, plan_fleet

BASE = "https://barrack.example/api"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            NotFoundError("no", status=404, code="NOT_FOUND", method="GET", path="/balance/"),
            f"404 from {BASE}: is the base URL right? It should be the API's root, "
            "ending with /api",
        ),
        (
            AuthenticationError(
                "bad key", status=401, code="UNAUTHORIZED", method="GET", path="/balance/"
            ),
            f"the API at {BASE} refused the key (401)",
        ),
        (
            APIUnreachableError("nothing answers", method="GET", path="/balance/"),
            f"cannot reach the API at {BASE}: GET /balance/: nothing answers",
        ),
    ],
)
def test_a_first_contact_error_is_one_line_naming_the_fix(error: Exception, expected: str) -> None:
    line = describe_contact_error(error, BASE)
    assert line.startswith(expected)
    assert "\n" not in line


def test_several_lines_become_one() -> None:
    assert one_line("config has 2 problems:\n  - a: bad\n  - b: worse\n") == (
        "config has 2 problems: - a: bad - b: worse"
    )


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def prefect_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def test_the_prefect_server_is_chosen_and_named(
    prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "prefect.settings", raising=False)
    monkeypatch.setitem(runner._state, "prefect", None)
    # What choosing a temporary server sets, so the test leaves the environment as it was.
    timeout = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", timeout)
    analytics = os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", analytics)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    # 1. PREFECT_API_URL wins.
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example/api")
    assert choose_prefect_server(tmp_path) == (
        "Prefect: the server at http://prefect.example/api (PREFECT_API_URL)"
    )
    monkeypatch.delenv("PREFECT_API_URL")
    # 2. No stack: a temporary server.
    assert choose_prefect_server(tmp_path).startswith("Prefect: a temporary local server")
    # 3. A ready make-up stack that answers: used, and PREFECT_API_URL set for Prefect.
    state = tmp_path / ".run" / "stack.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"api_url": prefect_api, "ready": True}))
    assert (
        choose_prefect_server(tmp_path) == f"Prefect: the make up stack's server at {prefect_api}"
    )
    assert os.environ["PREFECT_API_URL"] == prefect_api
    monkeypatch.delenv("PREFECT_API_URL")
    # 4. A stack that is recorded but gone (or not ready) is not used.
    state.write_text(json.dumps({"api_url": "http://127.0.0.1:1/api", "ready": True}))
    assert choose_prefect_server(tmp_path).startswith("Prefect: a temporary local server")
    state.write_text(json.dumps({"api_url": prefect_api, "ready": False}))
    assert choose_prefect_server(tmp_path).startswith("Prefect: a temporary local server")


def _record(instance: str, index: int, name: str) -> SnapshotRecord:
    return SnapshotRecord(
        id=f"{instance}-{index}",
        name=name,
        instance_id=instance,
        instance_name=f"{instance}-with-a-name-much-longer-than-any-terminal-is-wide",
        region="NORWAY-1",
        status="SUCCESS",
        created_at=datetime(2026, 11, 27, 2, tzinfo=UTC) - timedelta(days=index),
        owned=True,
        backs_image=False,
    )


def test_the_plan_text_names_blocked_deletions_and_never_cuts_names() -> None:
    long = "auto-" + "x" * 120
    records = [_record("i-1", n, f"{long}-{n}") for n in range(5)]
    plan = plan_fleet(records, RetentionPolicy(keep_last=2), max_deletions=1)
    verdict = SimpleNamespace(level=SimpleNamespace(value="ok"))
    planning = RetentionPlanning(
        records=records,
        verdicts={"i-1": verdict},  # type: ignore[dict-item]
        suspended={},
        plan=plan,
    )
    rows = snapshot_rows(planning)
    lines = render_text(planning, rows, policy="last 2", cost=None)
    text = "\n".join(lines)
    # Summary first: the instance's counts, before any snapshot line.
    summary = next(
        i for i, x in enumerate(lines) if x.startswith("instance  ") and "freshness" in x
    )
    details = next(i for i, x in enumerate(lines) if x.startswith("instance  ") and "reasons" in x)
    assert summary < details
    assert "3 to delete, 2 to keep; nothing will be deleted: blocked: 3 deletions" in text
    for n in range(5):
        assert f"{long}-{n}" in text  # in full
    assert text.count(BLOCKED_ACTION) == 3
    only_delete = snapshot_rows(planning, only=Only.DELETE)
    assert [r.action for r in only_delete] == [BLOCKED_ACTION] * 3
    assert all("blocked" not in "; ".join(r.reasons) for r in only_delete)
    assert snapshot_rows(planning, instances=["other-*"]) == []
    assert len(snapshot_rows(planning, instances=["i-1-with-*"])) == 5
