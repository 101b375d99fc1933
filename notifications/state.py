"""Where the dedup ledger lives between flow runs and process restarts.

Three stores share one small interface, :class:`AlertStateStore`:

* :class:`PrefectVariableStore`: one Prefect Variable per open alert, used when a Prefect
  API is reachable, so every worker and every machine sees the same ledger;
* :class:`FileStateStore`: a JSON file, written atomically (temp file, fsync,
  ``os.replace``) under a lock, so a crash mid-write leaves the previous ledger intact;
* :class:`MemoryStateStore`: a dict, for one process (tests, scripts).

:func:`select_store` picks one from the settings. The helpers for Prefect Variables
(:func:`check_variable_name`, :func:`variable_slug`, :func:`hashed_variable_slug`,
:func:`put_variable`, :func:`sync_prefect_client`), :func:`prefect_api_reachable` and
:func:`default_state_dir` serve the recipes' stores too.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from notifications.dedup import AlertRecord
from notifications.jsonfile import LockedJsonFile

__all__ = [
    "AlertStateStore",
    "FileStateStore",
    "MemoryStateStore",
    "PrefectVariableStore",
    "StateMode",
    "check_variable_name",
    "default_state_dir",
    "hashed_variable_slug",
    "prefect_api_reachable",
    "put_variable",
    "select_store",
    "sync_prefect_client",
    "variable_slug",
]

StateMode = Literal["auto", "prefect", "file", "memory"]

STATE_FILE_NAME: Final = "notifications.json"
_FILE_FORMAT_VERSION: Final = 1


class AlertStateStore(Protocol):
    """The ledger of open alerts, keyed by :attr:`notifications.alerts.AlertKey.id`."""

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        ...

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is not there)."""
        ...

    def all(self) -> dict[str, AlertRecord]:
        """Every open record."""
        ...

    def describe(self) -> str:
        """Where the ledger is, for reports and logs."""
        ...


class MemoryStateStore:
    """A ledger that lives as long as the process."""

    def __init__(self) -> None:
        self._records: dict[str, AlertRecord] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        with self._lock:
            return self._records.get(key)

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        with self._lock:
            self._records[key] = record

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._records.pop(key, None)

    def all(self) -> dict[str, AlertRecord]:
        """Every open record."""
        with self._lock:
            return dict(self._records)

    def describe(self) -> str:
        """``memory``."""
        return "memory"

    def __repr__(self) -> str:
        return f"MemoryStateStore({len(self._records)} open)"


class FileStateStore:
    """A ledger in one JSON file, safe against crashes and concurrent writers.

    Every change reads the file, changes it and writes a complete new copy atomically, all
    under an exclusive lock (see :class:`notifications.jsonfile.LockedJsonFile`). A reader
    therefore sees the old ledger or the new one, never half of one. A file that is not a
    valid ledger (edited by hand) is moved aside to ``<file>.corrupt-<time>`` and the
    ledger restarts empty: alerts may then repeat once, which is better than never sending
    them again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = LockedJsonFile(path, kind="notification ledger", version=_FILE_FORMAT_VERSION)

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        return self._read().get(key)

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        with self._file.locked():
            records = self._read()
            records[key] = record
            self._write(records)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._file.locked():
            records = self._read()
            if records.pop(key, None) is not None:
                self._write(records)

    def all(self) -> dict[str, AlertRecord]:
        """Every open record."""
        return self._read()

    def describe(self) -> str:
        """``file <path>``."""
        return f"file {self.path}"

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.path)!r})"

    def _read(self) -> dict[str, AlertRecord]:
        return self._file.read_as(_records_from_payload) or {}

    def _write(self, records: dict[str, AlertRecord]) -> None:
        self._file.write(
            {
                "records": {
                    key: record.model_dump(mode="json") for key, record in sorted(records.items())
                }
            }
        )


def _records_from_payload(payload: dict[str, Any]) -> dict[str, AlertRecord]:
    raw = payload.get("records")
    if not isinstance(raw, dict):
        raise ValueError("'records' is not a mapping")
    return {str(key): AlertRecord.model_validate(value) for key, value in raw.items()}


class PrefectVariableStore:
    """A ledger in Prefect Variables: one Variable per open alert.

    One Variable per alert keeps each value far below Prefect's 5000-character limit and
    lets two flows update different alerts without overwriting each other. Variable names
    allow only lowercase letters, digits, ``-`` and ``_``, so the name is a readable slug
    of the key plus a hash of the exact key (ids differing only in case stay apart); the
    exact key is stored in the value. Every Variable carries the tag ``barrack-ops-alert``.

    Args:
        prefix: The start of every Variable name.
        client_factory: Returns a sync Prefect client used as a context manager; the
            default is ``prefect.get_client(sync_client=True)``.
    """

    TAG: Final = "barrack-ops-alert"

    def __init__(
        self, prefix: str = "barrack-ops-alert", client_factory: Callable[[], Any] | None = None
    ) -> None:
        self.prefix = check_variable_name(prefix, field="prefix", max_length=100)
        self._client_factory = client_factory or sync_prefect_client

    def variable_name(self, key: str) -> str:
        """The Variable name for ``key``: ``<prefix>--<slug of key>--<hash of key>``."""
        return f"{self.prefix}--{hashed_variable_slug(key, max_slug=120, separator='--')}"

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        with self._client_factory() as client:
            variable = client.read_variable_by_name(self.variable_name(key))
        if variable is None:
            return None
        return _record_from_value(variable.value)

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        value = {"key": key, "record": record.model_dump(mode="json")}
        with self._client_factory() as client:
            put_variable(client, self.variable_name(key), value, tag=self.TAG)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        from prefect.exceptions import ObjectNotFound

        with self._client_factory() as client, suppress(ObjectNotFound):
            client.delete_variable_by_name(self.variable_name(key))

    def all(self) -> dict[str, AlertRecord]:
        """Every open record (reads the Variables whose names start with the prefix)."""
        with self._client_factory() as client:
            variables = client.read_variables()
        records: dict[str, AlertRecord] = {}
        for variable in variables:
            if not variable.name.startswith(f"{self.prefix}--"):
                continue
            value = variable.value
            if isinstance(value, dict) and isinstance(value.get("key"), str):
                records[value["key"]] = _record_from_value(value)
        return records

    def describe(self) -> str:
        """``prefect variables <prefix>--*``."""
        return f"prefect variables {self.prefix}--*"

    def __repr__(self) -> str:
        return f"PrefectVariableStore(prefix={self.prefix!r})"


def _record_from_value(value: Any) -> AlertRecord:
    if not isinstance(value, dict) or "record" not in value:
        raise ValueError("the Variable does not hold a barrack-ops alert record")
    return AlertRecord.model_validate(value["record"])


def check_variable_name(name: str, *, field: str, max_length: int) -> str:
    """``name`` when Prefect accepts it as (the start of) a Variable name.

    Args:
        name: The name or name prefix.
        field: The argument it came from, for the error.
        max_length: The most characters allowed here.

    Raises:
        ValueError: ``name`` has characters Prefect refuses, or is too long.
    """
    if not re.fullmatch(rf"[a-z0-9][a-z0-9_-]{{0,{max_length - 1}}}", name):
        raise ValueError(
            f"{field} {name!r}: Prefect Variable names allow lowercase letters, digits, "
            f"'-' and '_' (at most {max_length} characters here)"
        )
    return name


def variable_slug(text: str) -> str:
    """``text`` lowercased, every run of other characters than ``a-z0-9`` turned into ``-``.

    Example: ``variable_slug("Acme_Corp.EU") == "acme-corp-eu"``; empty when ``text`` has
    no letters or digits.
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def hashed_variable_slug(key: str, *, max_slug: int, separator: str) -> str:
    """``<slug of key, cut to max_slug><separator><10 hex digits of the key's sha256>``.

    The slug keeps the name readable; the hash of the exact key keeps keys that differ
    only in case or punctuation apart.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return f"{variable_slug(key)[:max_slug]}{separator}{digest}"


def put_variable(client: Any, name: str, value: Any, *, tag: str) -> None:
    """Create or replace the Variable ``name`` through a sync Prefect ``client``.

    Args:
        client: An open sync Prefect client.
        name: The Variable name.
        value: Its JSON value.
        tag: The one tag it carries.
    """
    from prefect.client.schemas.actions import VariableCreate, VariableUpdate
    from prefect.exceptions import ObjectAlreadyExists

    if client.read_variable_by_name(name) is None:
        try:
            client.create_variable(VariableCreate(name=name, value=value, tags=[tag]))
            return
        except ObjectAlreadyExists:
            pass  # another run created it since the read: update it instead
    client.update_variable(VariableUpdate(name=name, value=value, tags=[tag]))


def sync_prefect_client() -> Any:
    """``prefect.get_client(sync_client=True)``, the default client of the sync stores."""
    from prefect import get_client

    return get_client(sync_client=True)


def prefect_api_reachable(timeout: float = 2.0) -> bool:
    """True when ``PREFECT_API_URL`` is set and the API answers its health check.

    Without ``PREFECT_API_URL`` Prefect would start a temporary server (several seconds)
    just to answer: that is not "reachable", and the file store is used instead.
    """
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return False
    try:
        with get_client(sync_client=True, httpx_settings={"timeout": timeout}) as client:
            return client.api_healthcheck() is None
    except Exception:  # any failure to connect means "not reachable"
        return False


def default_state_dir() -> Path:
    """``$BARRACK_OPS_STATE_DIR``, else ``~/.barrack-ops/state``."""
    configured = os.environ.get("BARRACK_OPS_STATE_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".barrack-ops" / "state"


def select_store(mode: StateMode = "auto", state_file: Path | None = None) -> AlertStateStore:
    """The store for ``mode``; ``auto`` is Prefect Variables when the API answers, else a file.

    Args:
        mode: ``auto``, ``prefect``, ``file`` or ``memory``.
        state_file: The ledger file for the file store; default
            ``<default_state_dir()>/notifications.json``.
    """
    if mode == "memory":
        return MemoryStateStore()
    if mode == "prefect" or (mode == "auto" and prefect_api_reachable()):
        return PrefectVariableStore()
    return FileStateStore(state_file or default_state_dir() / STATE_FILE_NAME)
