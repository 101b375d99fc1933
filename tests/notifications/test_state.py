from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifications import AlertKind, AlertLedger, Severity, Subject
from notifications.dedup import AlertRecord
from notifications.state import select_store
from state import FileStore, MemoryStore, PrefectVariableStore, forget_reachability, state_dir
from state._sync import run_sync
from state.reachability import prefect_api_reachable

T0 = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def record(instance: str = "BRK-1A2B3C4", severity: Severity = Severity.WARNING) -> AlertRecord:
    return AlertRecord(
        kind=AlertKind.SNAPSHOT_FAILED,
        subject=Subject.for_instance(instance, name="train-1", region="US-1"),
        severity=severity,
        title=f"Snapshot failed: {instance}",
        first_sent_at=T0,
        last_sent_at=T0 + timedelta(hours=1),
    )


def key(instance: str = "BRK-1A2B3C4") -> str:
    return f"snapshot-failed|instance|{instance}"


def exercise(store: AlertLedger) -> None:
    assert store.get(key()) is None
    store.put(key(), record())
    store.put(key("BRK-2"), record("BRK-2", Severity.CRITICAL))
    assert store.get(key()) == record()
    store.put(key(), record(severity=Severity.CRITICAL))
    assert store.get(key()) == record(severity=Severity.CRITICAL)
    assert set(store.all()) == {key(), key("BRK-2")}
    store.delete(key())
    store.delete(key())  # twice is fine
    assert store.get(key()) is None
    assert set(store.all()) == {key("BRK-2")}


def test_memory_store() -> None:
    exercise(AlertLedger.in_memory())


def test_file_store(tmp_path: Path) -> None:
    exercise(AlertLedger.in_file(tmp_path / "state" / "notifications.json"))


def test_file_store_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "notifications.json"
    AlertLedger.in_file(path).put(key(), record())
    assert AlertLedger.in_file(path).get(key()) == record()
    on_disk = json.loads(path.read_text())
    assert on_disk["version"] == 2
    assert on_disk["entries"][key()]["severity"] == "warning"


CRASH_MID_WRITE = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from notifications.state import AlertLedger
    from tests.notifications.test_state import key, record

    store = AlertLedger.in_file(Path(sys.argv[1]))
    real_fsync = os.fsync

    def die_after_flushing(descriptor):
        real_fsync(descriptor)
        os._exit(9)  # the process dies with the new ledger half-way to disk

    os.fsync = die_after_flushing
    store.put(key("BRK-NEW"), record("BRK-NEW"))
    """
)


def test_a_crash_mid_write_leaves_the_previous_ledger(tmp_path: Path) -> None:
    path = tmp_path / "notifications.json"
    AlertLedger.in_file(path).put(key(), record())
    before = path.read_bytes()
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_MID_WRITE, str(path)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert crashed.returncode == 9, crashed.stderr.decode()
    assert path.read_bytes() == before
    leftovers = list(tmp_path.glob(".notifications.json.*.tmp"))
    assert len(leftovers) == 1  # the crashed writer's temp file
    store = AlertLedger.in_file(path)
    assert set(store.all()) == {key()}
    store.put(key("BRK-2"), record("BRK-2"))
    assert set(store.all()) == {key(), key("BRK-2")}


def test_a_failed_write_cleans_up_and_keeps_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notifications.json"
    store = AlertLedger.in_file(path)
    store.put(key(), record())
    before = path.read_bytes()

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        store.put(key("BRK-2"), record("BRK-2"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp"))


def test_stale_temp_files_of_crashed_writers_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "notifications.json"
    stale = tmp_path / ".notifications.json.abc.tmp"
    stale.write_text("half a ledger")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = tmp_path / ".notifications.json.def.tmp"
    fresh.write_text("another writer, still busy")
    AlertLedger.in_file(path).put(key(), record())
    assert not stale.exists()
    assert fresh.exists()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"version": 9, "records": {}}',
        '{"version": 1, "records": {"k": {"x": 1}}}',
        '{"version": 2, "entries": {"k": {"x": 1}}}',
    ],
)
def test_an_unreadable_ledger_is_moved_aside(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "notifications.json"
    path.write_text(content)
    store = AlertLedger.in_file(path)
    assert store.all() == {}
    assert "moved it to" in caplog.text
    aside = list(tmp_path.glob("notifications.json.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_text() == content
    store.put(key(), record())
    assert store.get(key()) == record()


def test_default_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(tmp_path / "state"))
    assert state_dir() == tmp_path / "state"
    monkeypatch.delenv("BARRACK_OPS_STATE_DIR")
    assert state_dir() == Path.home() / ".barrack-ops" / "state"


def test_select_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, closed_port: int) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    assert isinstance(run_sync(select_store("memory").store()), MemoryStore)
    file_store = select_store("file", tmp_path / "ledger.json")
    assert isinstance(run_sync(file_store.store()), FileStore)
    assert file_store.path == tmp_path / "ledger.json"
    monkeypatch.setenv("BARRACK_OPS_STATE_DIR", str(tmp_path))
    # An API that does not answer means the file store.
    forget_reachability()
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{closed_port}/api"}):
        assert not run_sync(prefect_api_reachable(wait=1))
        auto = select_store("auto")
        assert auto.describe() == f"file {tmp_path / 'notifications.json'}"
    assert auto.path == tmp_path / "notifications.json"
    forget_reachability()


@pytest.mark.parametrize(
    ("key_text", "name"),
    [
        (
            "low-balance|account|acme",
            "barrack-ops-alert--low-balance-account-acme--",
        ),
        (
            "snapshot-failed|instance|BRK-1A2B3C4",
            "barrack-ops-alert--snapshot-failed-instance-brk-1a2b3c4--",
        ),
    ],
)
def test_variable_names_follow_prefect_rules(key_text: str, name: str) -> None:
    variable = AlertLedger.in_prefect().variable_name(key_text)
    assert variable.startswith(name)
    assert variable == variable.lower()
    assert set(variable) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def test_variable_names_keep_case_variants_apart() -> None:
    store = AlertLedger.in_prefect()
    assert store.variable_name("generic|instance|BRK-a") != store.variable_name(
        "generic|instance|BRK-A"
    )


def test_variable_prefix_is_checked() -> None:
    with pytest.raises(ValueError, match="lowercase"):
        AlertLedger.in_prefect(prefix="Barrack Alerts")


@pytest.mark.usefixtures("prefect_harness")
def test_prefect_variable_store() -> None:
    forget_reachability()
    assert run_sync(prefect_api_reachable())
    assert isinstance(run_sync(select_store("auto").store()), PrefectVariableStore)
    store = AlertLedger.in_prefect(prefix="test-store")
    exercise(store)
    # A new store object (another process, after a restart) reads the same ledger.
    assert AlertLedger.in_prefect(prefix="test-store").get(key("BRK-2")) == record(
        "BRK-2", Severity.CRITICAL
    )
    from prefect.variables import Variable

    raw = Variable.get(store.variable_name(key("BRK-2")), _sync=True)
    assert raw["key"] == key("BRK-2")
    assert raw["value"]["severity"] == "critical"
    store.delete(key("BRK-2"))
