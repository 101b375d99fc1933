"""The shared JSON file of the file stores: version check, move aside, atomic writes, locks."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from state import jsonfile
from state.jsonfile import STALE_TEMP_SECONDS, LockedJsonFile


def ledger(path: Path, **options: Any) -> LockedJsonFile:
    return LockedJsonFile(path, kind="test ledger", version=3, **options)


def test_missing_file_reads_as_none_and_a_write_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    store = ledger(path)
    assert store.read() is None
    store.write({"items": {"a": 1}})
    assert store.read() == {"version": 3, "items": {"a": 1}}
    on_disk = path.read_text(encoding="utf-8")
    assert on_disk.startswith('{\n  "version": 3,')  # indented, version first
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json", "state.json.lock"]


def test_compact_files_and_an_explicit_matching_version(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    ledger(path, indent=None).write({"version": 3, "rows": [1, 2]})
    assert path.read_text(encoding="utf-8") == '{"version": 3, "rows": [1, 2]}'


def test_a_payload_of_another_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="test ledger: payload version 2 is not 3"):
        ledger(tmp_path / "state.json").write({"version": 2})
    assert not (tmp_path / "state.json").exists()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "JSONDecodeError"),
        ("[1, 2]", "not a JSON object"),
        ('{"version": 2, "items": {}}', "version is 2"),
        ('{"items": {}}', "version is None"),
    ],
)
def test_an_unreadable_file_is_moved_aside_with_a_warning(
    tmp_path: Path, content: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    path.write_text(content, encoding="utf-8")
    store = ledger(path)
    with caplog.at_level(logging.WARNING, logger="state.jsonfile"):
        assert store.read() is None
    assert not path.exists()
    (aside,) = tmp_path.glob("state.json.corrupt-*")
    assert aside.read_text(encoding="utf-8") == content
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"test ledger {path} is unreadable (")
    assert reason in message
    assert message.endswith(f"moved it to {aside.name} and started empty")
    store.write({"items": {}})
    assert store.read() == {"version": 3, "items": {}}


def test_content_the_caller_cannot_decode_is_moved_aside_too(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.json"
    store = ledger(path)
    store.write({"items": "not a mapping"})

    def decode(payload: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(payload["items"], dict):
            raise ValueError("'items' is not a mapping\nsecond line of details")
        return payload["items"]

    assert store.read_as(decode) is None
    assert len(list(tmp_path.glob("state.json.corrupt-*"))) == 1
    assert "(ValueError: 'items' is not a mapping)" in caplog.text
    assert "second line" not in caplog.text  # the reason stays one short line
    store.write({"items": {"a": 1}})
    assert store.read_as(decode) == {"a": 1}


@pytest.mark.parametrize(
    ("payload", "error"),
    [({"items": object()}, TypeError), ({"items": float("nan")}, ValueError)],
)
def test_a_payload_that_cannot_be_serialised_leaves_the_old_file(
    tmp_path: Path, payload: dict[str, Any], error: type[Exception]
) -> None:
    path = tmp_path / "state.json"
    store = ledger(path)
    store.write({"items": {"a": 1}})
    before = path.read_bytes()
    with pytest.raises(error):
        store.write(payload)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "state.json"
    store = ledger(path)
    store.write({"items": {"a": 1}})
    before = path.read_bytes()

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, refuse)
    with pytest.raises(OSError, match="No space"):
        store.write({"items": {"b": 2}})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))
    assert store.read() == {"version": 3, "items": {"a": 1}}


def test_temp_files_of_crashed_writers_are_removed_once_stale(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    stale = tmp_path / ".state.json.abc.tmp"
    stale.write_text("half a file")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = tmp_path / ".state.json.def.tmp"
    fresh.write_text("another writer, still busy")
    ledger(path).write({})
    assert not stale.exists()
    assert fresh.exists()


def increment(store: LockedJsonFile, times: int) -> None:
    """Read-modify-write ``times`` times; a lost update shows as a short count."""
    for _ in range(times):
        with store.locked():
            payload = store.read() or {"count": 0}
            store.write({"count": payload["count"] + 1})


def test_locked_is_reentrant_in_one_thread(tmp_path: Path) -> None:
    store = ledger(tmp_path / "state.json")
    with store.locked(), store.locked():
        store.write({"count": 1})
    increment(store, 2)
    assert store.read() == {"version": 3, "count": 3}


def test_concurrent_threads_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    shared = ledger(path)
    errors: list[BaseException] = []

    def worker(store: LockedJsonFile) -> None:
        try:
            increment(store, 25)
        except BaseException as error:  # collected for the main thread
            errors.append(error)

    # Two threads on one object (thread lock) and two on objects of their own (flock).
    stores = [shared, shared, ledger(path), ledger(path)]
    threads = [threading.Thread(target=worker, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert shared.read() == {"version": 3, "count": 100}


INCREMENT_IN_A_PROCESS = textwrap.dedent(
    """
    import importlib.util, sys
    from pathlib import Path

    # The module alone (it needs only the standard library): importing the package
    # (apprise and all) would take most of the test's time.
    spec = importlib.util.spec_from_file_location("jsonfile", sys.argv[3])
    jsonfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(jsonfile)

    store = jsonfile.LockedJsonFile(Path(sys.argv[1]), kind="test ledger", version=3)
    print("ready", flush=True)
    for _ in range(int(sys.argv[2])):  # as increment() does
        with store.locked():
            payload = store.read() or {"count": 0}
            store.write({"count": payload["count"] + 1})
    """
)


def test_concurrent_processes_lose_no_update(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = ledger(path)
    with store.locked():  # hold the writers back until both are about to write
        children = [
            subprocess.Popen(
                [sys.executable, "-c", INCREMENT_IN_A_PROCESS, str(path), "30", jsonfile.__file__],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
    increment(store, 30)  # this process writes at the same time
    for child in children:
        _, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr.decode()
    assert json.loads(path.read_text(encoding="utf-8")) == {"version": 3, "count": 90}
    assert not list(tmp_path.glob("*.tmp"))
