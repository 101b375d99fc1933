"""One async key-value store of JSON values, three backends.

=========================  ==================================================================
backend                    where the values are
=========================  ==================================================================
:class:`PrefectVariableStore`  one Prefect Variable per key: every worker and every machine
                           sees the same values (used when a Prefect API answers)
:class:`FileStore`         one JSON file, changed under an exclusive lock and written
                           atomically, versioned (:mod:`state.jsonfile`)
:class:`MemoryStore`       a dict, for one process (tests, scripts, dry demos)
=========================  ==================================================================

Every backend keeps the same contract (``tests/state/test_store_contract.py`` runs one
suite against all three): keys are strings, values are JSON (a value is stored as its
JSON text, so what comes back is a copy), ``None`` is not a value but "forget the key",
and :meth:`KeyValueStore.update` applies several changes in one step (one locked rewrite
of the file; on Prefect, one call per Variable, a few at a time).

The typed views over it live with their domains: the notification ledger
(:mod:`notifications.state`), the hibernate-idle memory (:mod:`flows.hibernate_idle.state`)
and the balance history (:mod:`flows.low_balance.history_store`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, Final, Protocol

import anyio

from state.jsonfile import LockedJsonFile
from state.variables import check_variable_name, hashed_variable_slug

__all__ = [
    "FILE_FORMAT_VERSION",
    "FileStore",
    "KeyValueStore",
    "MemoryStore",
    "PrefectVariableStore",
]

logger = logging.getLogger(__name__)

FILE_FORMAT_VERSION: Final = 2
"""``{"version": 2, "entries": {key: value}}``; version 1 files were per-store shapes."""

_PAGE: Final = 200  # the Prefect API's largest page of Variables
_WRITES_IN_FLIGHT: Final = (
    8  # Variable writes at once: each is its own API call (two for an upsert)
)


class KeyValueStore(Protocol):
    """JSON values by string key; every method but :meth:`describe` is async."""

    async def get(self, key: str) -> Any | None:
        """The value of ``key``, or None."""
        ...

    async def items(self) -> dict[str, Any]:
        """Every key and its value."""
        ...

    async def put(self, key: str, value: Any) -> None:
        """Create or replace ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is not there)."""
        ...

    async def update(self, changes: Mapping[str, Any | None]) -> None:
        """Apply several puts (a value) and deletes (None) in one step."""
        ...

    def describe(self) -> str:
        """Where the values are, for reports and logs."""
        ...


def _to_json(key: str, value: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"state key {key!r}: a non-empty string is needed")
    if value is None:
        raise ValueError(f"state key {key!r}: None is not a value (delete the key instead)")
    return json.dumps(value, allow_nan=False, sort_keys=True)


class MemoryStore:
    """Values that live as long as the object (safe across threads)."""

    def __init__(self) -> None:
        self._entries: dict[str, str] = {}
        self._lock = threading.Lock()

    async def get(self, key: str) -> Any | None:
        """The value of ``key``, or None."""
        with self._lock:
            text = self._entries.get(key)
        return None if text is None else json.loads(text)

    async def items(self) -> dict[str, Any]:
        """Every key and its value."""
        with self._lock:
            entries = dict(self._entries)
        return {key: json.loads(text) for key, text in entries.items()}

    async def put(self, key: str, value: Any) -> None:
        """Create or replace ``key``."""
        _to_json(key, value)  # None is not a value here: it would delete the key
        await self.update({key: value})

    async def delete(self, key: str) -> None:
        """Forget ``key``."""
        await self.update({key: None})

    async def update(self, changes: Mapping[str, Any | None]) -> None:
        """Apply the changes at once."""
        encoded = {k: None if v is None else _to_json(k, v) for k, v in changes.items()}
        with self._lock:
            for key, text in encoded.items():
                if text is None:
                    self._entries.pop(key, None)
                else:
                    self._entries[key] = text

    def describe(self) -> str:
        """``memory``."""
        return "memory"

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._entries)} keys)"


class FileStore:
    """Values in one JSON file: ``{"version": 2, "entries": {key: value}}``.

    Every change reads the file, changes it and writes a complete new copy atomically,
    under an exclusive lock (:class:`state.jsonfile.LockedJsonFile`), in a worker thread
    (the event loop never waits for the disk). A reader sees the old file or the new one,
    never half of one; two writers (threads or processes) never lose each other's change.
    A file that is not valid (edited by hand, written by a newer release) is moved aside to
    ``<file>.corrupt-<time>`` and the store restarts empty.

    Args:
        path: The file; its directory is created on first write.
        kind: What it holds, for warnings (``"notification ledger"``).
        upgrade_v1: Reads a version-1 file (the shape each store had before this format)
            into ``{key: value}``; without it a version-1 file is moved aside.
        validate: Called on every value read; a ``ValueError`` (pydantic's
            ``ValidationError`` is one) means the file cannot be trusted: it is moved aside.
        indent: ``json.dumps`` indentation; None writes the compact form.
    """

    def __init__(
        self,
        path: Path,
        *,
        kind: str,
        upgrade_v1: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        validate: Callable[[Any], object] | None = None,
        indent: int | None = 2,
    ) -> None:
        self.path = path
        self._validate = validate
        upgrades: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        if upgrade_v1 is not None:
            convert = upgrade_v1
            upgrades[1] = lambda payload: {"entries": convert(payload)}
        self.file = LockedJsonFile(
            path, kind=kind, version=FILE_FORMAT_VERSION, indent=indent, upgrades=upgrades
        )

    async def get(self, key: str) -> Any | None:
        """The value of ``key``, or None."""
        return (await self.items()).get(key)

    async def items(self) -> dict[str, Any]:
        """Every key and its value."""
        return await anyio.to_thread.run_sync(self.read)

    async def put(self, key: str, value: Any) -> None:
        """Create or replace ``key``."""
        _to_json(key, value)  # None is not a value here: it would delete the key
        await self.update({key: value})

    async def delete(self, key: str) -> None:
        """Forget ``key``."""
        await self.update({key: None})

    async def update(self, changes: Mapping[str, Any | None]) -> None:
        """Apply the changes in one locked, atomic rewrite (none when nothing changes)."""
        await anyio.to_thread.run_sync(self.update_now, dict(changes))

    def describe(self) -> str:
        """``file <path>``."""
        return f"file {self.path}"

    def __repr__(self) -> str:
        return f"FileStore({str(self.path)!r})"

    def read(self) -> dict[str, Any]:
        """Every key and its value, read in the calling thread."""
        return self.file.read_as(self._entries_of) or {}

    def update_now(self, changes: Mapping[str, Any | None]) -> None:
        """:meth:`update` in the calling thread."""
        encoded = {k: None if v is None else json.loads(_to_json(k, v)) for k, v in changes.items()}
        with self.file.locked():
            entries = self.read()
            before = dict(entries)
            for key, value in encoded.items():
                if value is None:
                    entries.pop(key, None)
                else:
                    entries[key] = value
            if entries == before:
                return  # nothing changes: no write (and none on a read-only disk)
            self.file.write({"entries": dict(sorted(entries.items()))})

    def _entries_of(self, payload: dict[str, Any]) -> dict[str, Any]:
        entries = payload.get("entries")
        if not isinstance(entries, dict):
            raise ValueError("'entries' is not a mapping")
        if self._validate is not None:
            for value in entries.values():
                self._validate(value)
        return {str(key): value for key, value in entries.items() if value is not None}


def _default_client() -> Any:
    from prefect import get_client

    return get_client()


class PrefectVariableStore:
    """Values in Prefect Variables, one per key, every one tagged ``tag``.

    Variable names allow only lowercase letters, digits, ``-`` and ``_`` (and values 5000
    characters), so a key's Variable is ``<prefix><name_of(key)>``: by default a readable
    slug of the key plus a hash of the exact key (keys differing only in case stay apart).
    The value is ``{"key": <exact key>, "value": <value>}``. One Variable per key keeps
    values small and lets two runs change different keys without overwriting each other.

    Args:
        prefix: The start of every Variable name (it selects the store's Variables).
        tag: The one tag every Variable carries.
        name_of: The rest of a key's Variable name (default: slug ``--`` hash).
        legacy: Reads a Variable value of an older shape into ``(key, value)``, or None
            when it is not one; values of neither shape are skipped with a warning.
        client_factory: Returns an async Prefect client used as a context manager
            (default ``prefect.get_client()``).
    """

    def __init__(
        self,
        prefix: str,
        *,
        tag: str,
        name_of: Callable[[str], str] | None = None,
        legacy: Callable[[Any], tuple[str, Any] | None] | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.prefix = check_variable_name(prefix, field="prefix", max_length=120)
        self.tag = tag
        self._name_of = name_of or (
            lambda key: hashed_variable_slug(key, max_slug=100, separator="--")
        )
        self._legacy = legacy
        self._client_factory = client_factory or _default_client

    def variable_name(self, key: str) -> str:
        """The Variable holding ``key``."""
        return f"{self.prefix}{self._name_of(key)}"

    async def get(self, key: str) -> Any | None:
        """The value of ``key``, or None (also when its Variable holds something else)."""
        name = self.variable_name(key)
        async with self._client_factory() as client:
            variable = await client.read_variable_by_name(name)
        if variable is None:
            return None
        decoded = self._decode(name, variable.value)
        return decoded[1] if decoded is not None and decoded[0] == key else None

    async def items(self) -> dict[str, Any]:
        """Every Variable whose name starts with the prefix (paged)."""
        entries: dict[str, Any] = {}
        async with self._client_factory() as client:
            offset = 0
            while True:
                response = await client.request(
                    "POST",
                    "/variables/filter",
                    json={
                        "variables": {"name": {"like_": self.prefix}},
                        "limit": _PAGE,
                        "offset": offset,
                        "sort": "NAME_ASC",
                    },
                )
                page = response.json()
                for variable in page:
                    name = str(variable.get("name", ""))
                    if not name.startswith(self.prefix):
                        continue
                    decoded = self._decode(name, variable.get("value"))
                    if decoded is not None:
                        entries[decoded[0]] = decoded[1]
                if len(page) < _PAGE:
                    return entries
                offset += _PAGE

    async def put(self, key: str, value: Any) -> None:
        """Create or replace ``key``'s Variable."""
        _to_json(key, value)  # None is not a value here: it would delete the key
        await self.update({key: value})

    async def delete(self, key: str) -> None:
        """Delete ``key``'s Variable."""
        await self.update({key: None})

    async def update(self, changes: Mapping[str, Any | None]) -> None:
        """Create, update or delete one Variable per change, a few at a time."""
        planned = {
            key: None if value is None else {"key": key, "value": json.loads(_to_json(key, value))}
            for key, value in changes.items()
        }
        async with self._client_factory() as client:
            gate = anyio.Semaphore(_WRITES_IN_FLIGHT)

            async def write(key: str, value: dict[str, Any] | None) -> None:
                async with gate:
                    await self._write(client, self.variable_name(key), value)

            async with anyio.create_task_group() as group:
                for key, value in planned.items():
                    group.start_soon(write, key, value)

    async def _write(self, client: Any, name: str, value: dict[str, Any] | None) -> None:
        from prefect.client.schemas.actions import VariableCreate, VariableUpdate
        from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

        if value is None:
            with suppress(ObjectNotFound):
                await client.delete_variable_by_name(name)
            return
        if await client.read_variable_by_name(name) is None:
            try:
                await client.create_variable(
                    VariableCreate(name=name, value=value, tags=[self.tag])
                )
                return
            except ObjectAlreadyExists:
                pass  # another run created it since the read: update it instead
        await client.update_variable(VariableUpdate(name=name, value=value, tags=[self.tag]))

    def _decode(self, name: str, raw: Any) -> tuple[str, Any] | None:
        if isinstance(raw, dict) and set(raw) == {"key", "value"} and isinstance(raw["key"], str):
            return raw["key"], raw["value"]
        if self._legacy is not None:
            try:
                legacy = self._legacy(raw)
            except (KeyError, TypeError, ValueError):
                legacy = None
            if legacy is not None:
                return legacy
        logger.warning("ignoring Prefect Variable %s: not a barrack-ops state value", name)
        return None

    def describe(self) -> str:
        """``prefect variables <prefix>*``."""
        return f"prefect variables {self.prefix}*"

    def __repr__(self) -> str:
        return f"PrefectVariableStore(prefix={self.prefix!r})"
