"""One contract, three backends: memory, file and Prefect Variables (on the real test server)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from state import FileStore, KeyValueStore, MemoryStore, PrefectVariableStore
from tests.helpers.disk import refuse_writes_under

Factory = Callable[[], KeyValueStore]


@pytest.fixture(params=["memory", "file", "prefect"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Factory]:
    """The backend's name and a factory of stores over the same place."""
    if request.param == "memory":
        shared = MemoryStore()
        return "memory", lambda: shared
    if request.param == "file":
        return "file", lambda: FileStore(tmp_path / "state" / "kv.json", kind="test store")
    request.getfixturevalue("prefect_harness")
    prefix = f"test-kv-{uuid.uuid4().hex[:8]}--"
    return "prefect", lambda: PrefectVariableStore(prefix, tag="barrack-ops-test")


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_put_get_replace_delete(backend: tuple[str, Factory]) -> None:
    _, make = backend
    store = make()
    assert run(store.get("a")) is None
    run(store.put("a", {"n": 1, "text": "één"}))
    run(store.put("b", [1, 2.5, "x", True]))
    assert run(store.get("a")) == {"n": 1, "text": "één"}
    run(store.put("a", {"n": 2}))
    assert run(store.get("a")) == {"n": 2}
    assert run(store.items()) == {"a": {"n": 2}, "b": [1, 2.5, "x", True]}
    run(store.delete("a"))
    run(store.delete("a"))  # twice is fine
    run(store.delete("never-there"))
    assert run(store.get("a")) is None
    assert run(store.items()) == {"b": [1, 2.5, "x", True]}


def test_update_applies_puts_and_deletes_together(backend: tuple[str, Factory]) -> None:
    _, make = backend
    store = make()
    run(store.update({"a": 1, "b": 2, "c": 3}))
    run(store.update({"a": None, "b": 20, "d": "four"}))
    assert run(store.items()) == {"b": 20, "c": 3, "d": "four"}
    run(store.update({}))
    assert run(store.items()) == {"b": 20, "c": 3, "d": "four"}


def test_a_new_store_object_reads_the_same_values(backend: tuple[str, Factory]) -> None:
    _, make = backend
    run(make().put("kept", {"since": "2026-11-28T02:00:00Z"}))
    assert run(make().get("kept")) == {"since": "2026-11-28T02:00:00Z"}


def test_keys_differing_only_in_case_or_punctuation_stay_apart(
    backend: tuple[str, Factory],
) -> None:
    _, make = backend
    store = make()
    keys = ["BRK-a", "BRK-A", "brk.a", "snapshot-failed|instance|BRK-1"]
    run(store.update({key: index for index, key in enumerate(keys)}))
    assert run(store.items()) == {key: index for index, key in enumerate(keys)}
    assert [run(store.get(key)) for key in keys] == [0, 1, 2, 3]


def test_values_come_back_as_copies(backend: tuple[str, Factory]) -> None:
    _, make = backend
    store = make()
    value: dict[str, Any] = {"list": [1]}
    run(store.put("k", value))
    value["list"].append(2)
    read = run(store.get("k"))
    read["list"].append(3)
    assert run(store.get("k")) == {"list": [1]}


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("k", None, "None is not a value"),
        ("", 1, "non-empty string"),
        ("k", float("nan"), "Out of range float"),
        ("k", {1, 2}, "not JSON serializable"),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(
    backend: tuple[str, Factory], key: str, value: Any, problem: str
) -> None:
    _, make = backend
    store = make()
    run(store.put("kept", 1))
    with pytest.raises((ValueError, TypeError), match=problem):
        run(store.put(key, value))
    assert run(store.items()) == {"kept": 1}


def test_describe_says_where(backend: tuple[str, Factory]) -> None:
    name, make = backend
    description = make().describe()
    assert description.startswith(
        {"memory": "memory", "file": "file ", "prefect": "prefect "}[name]
    )


# -- the file backend: locking, versions, a disk that refuses -----------------------------


def test_two_writers_never_lose_each_others_changes(tmp_path: Path) -> None:
    """Two store objects (two open files, as two processes have) writing at once."""
    path = tmp_path / "kv.json"

    async def writer(name: str) -> None:
        store = FileStore(path, kind="test store")
        for n in range(25):
            await store.put(f"{name}-{n}", n)

    async def both() -> None:
        await asyncio.gather(writer("left"), writer("right"))

    run(both())
    entries = run(FileStore(path, kind="test store").items())
    assert len(entries) == 50
    assert entries["left-24"] == entries["right-24"] == 24


def test_the_file_is_versioned(tmp_path: Path) -> None:
    path = tmp_path / "kv.json"
    run(FileStore(path, kind="test store").put("k", {"v": 1}))
    assert json.loads(path.read_text()) == {"version": 2, "entries": {"k": {"v": 1}}}


def test_a_version_1_file_is_read_through_its_upgrade_and_rewritten_on_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kv.json"
    path.write_text(json.dumps({"version": 1, "things": {"a": 1}}))
    store = FileStore(path, kind="test store", upgrade_v1=lambda payload: payload["things"])
    assert run(store.items()) == {"a": 1}
    assert json.loads(path.read_text())["version"] == 1  # reading changes nothing
    run(store.put("b", 2))
    assert json.loads(path.read_text()) == {"version": 2, "entries": {"a": 1, "b": 2}}


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 1, "things": {"a": 1}}',  # no upgrade for version 1 given
        '{"version": 3, "entries": {"a": 1}}',  # written by a newer release
        '{"version": 2, "entries": ["a"]}',
        '["not", "an", "object"]',
    ],
)
def test_a_file_of_an_unknown_version_or_shape_is_moved_aside(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "kv.json"
    path.write_text(content)
    store = FileStore(path, kind="test store")
    assert run(store.items()) == {}
    assert "moved it to" in caplog.text
    (aside,) = tmp_path.glob("kv.json.corrupt-*")
    assert aside.read_text() == content


def test_a_value_that_fails_validation_moves_the_file_aside(tmp_path: Path) -> None:
    path = tmp_path / "kv.json"
    path.write_text('{"version": 2, "entries": {"a": "not a number"}}')

    def must_be_int(value: Any) -> None:
        if not isinstance(value, int):
            raise ValueError("not an int")

    assert run(FileStore(path, kind="test store", validate=must_be_int).items()) == {}
    assert len(list(tmp_path.glob("kv.json.corrupt-*"))) == 1


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_an_unwritable_directory_still_reads_and_a_write_fails_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    path = tmp_path / "state" / "kv.json"
    run(FileStore(path, kind="test store").put("kept", 1))
    (path.parent / "kv.json.lock").unlink()  # not even the lock file can be made again
    before = path.read_bytes()
    refuse_writes_under(monkeypatch, path.parent, code)
    store = FileStore(path, kind="test store")
    assert run(store.items()) == {"kept": 1}
    run(store.put("kept", 1))  # no change, no write: fine on a read-only disk
    with pytest.raises(OSError, match=os.strerror(code)) as refused:
        run(store.put("new", 2))
    assert refused.value.errno == code
    monkeypatch.undo()
    assert path.read_bytes() == before
