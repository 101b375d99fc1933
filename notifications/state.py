"""Where the dedup ledger lives between flow runs and process restarts.

Three stores share one small interface, :class:`AlertStateStore`:

* :class:`PrefectVariableStore`: one Prefect Variable per open alert, used when a Prefect
  API is reachable, so every worker and every machine sees the same ledger;
* :class:`FileStateStore`: a JSON file, written atomically (temp file, fsync,
  ``os.replace``) under a lock, so a crash mid-write leaves the previous ledger intact;
* :class:`MemoryStateStore`: a dict, for one process (tests, scripts).

:func:`select_store` picks one from the settings.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from pydantic import ValidationError

from notifications.dedup import AlertRecord

__all__ = [
    "AlertStateStore",
    "FileStateStore",
    "MemoryStateStore",
    "PrefectVariableStore",
    "StateMode",
    "default_state_dir",
    "prefect_api_reachable",
    "select_store",
]

logger = logging.getLogger(__name__)

StateMode = Literal["auto", "prefect", "file", "memory"]

STATE_FILE_NAME: Final = "notifications.json"
_FILE_FORMAT_VERSION: Final = 1
# A temp file this old belongs to a writer that crashed, not to one still writing.
_STALE_TEMP_SECONDS: Final = 600


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

    Every change reads the file, changes it and writes a complete new copy to a temp file
    in the same directory, fsyncs it and renames it over the old one (``os.replace`` is
    atomic), all under an exclusive ``flock`` on ``<file>.lock``. A reader therefore sees
    the old ledger or the new one, never half of one. A file that is not a valid ledger
    (edited by hand) is moved aside to ``<file>.corrupt-<time>`` and the ledger restarts
    empty: alerts may then repeat once, which is better than never sending them again.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._thread_lock = threading.RLock()

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        with self._locked():
            return self._read().get(key)

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        with self._locked():
            records = self._read()
            records[key] = record
            self._write(records)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._locked():
            records = self._read()
            if records.pop(key, None) is not None:
                self._write(records)

    def all(self) -> dict[str, AlertRecord]:
        """Every open record."""
        with self._locked():
            return self._read()

    def describe(self) -> str:
        """``file <path>``."""
        return f"file {self.path}"

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.path)!r})"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._lock_path, "a+b") as lock_file:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _read(self) -> dict[str, AlertRecord]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("version") != _FILE_FORMAT_VERSION:
                raise ValueError("not a barrack-ops notification ledger (version 1)")
            raw = data.get("records")
            if not isinstance(raw, dict):
                raise ValueError("'records' is not a mapping")
            return {str(key): AlertRecord.model_validate(value) for key, value in raw.items()}
        except (ValueError, ValidationError) as error:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            os.replace(self.path, aside)
            logger.warning(
                "notification ledger %s is unreadable (%s); moved it to %s and started empty",
                self.path,
                type(error).__name__,
                aside.name,
            )
            return {}

    def _write(self, records: dict[str, AlertRecord]) -> None:
        payload = json.dumps(
            {
                "version": _FILE_FORMAT_VERSION,
                "records": {
                    key: record.model_dump(mode="json") for key, record in sorted(records.items())
                },
            },
            indent=2,
        )
        descriptor, temp_name = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as temp:
                temp.write(payload)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp_name)
            raise
        _fsync_directory(self.path.parent)
        self._remove_stale_temp_files()

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    with suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


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
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,100}", prefix):
            raise ValueError(
                f"prefix {prefix!r}: Prefect Variable names allow lowercase letters, digits, "
                "'-' and '_' (at most 100 characters here)"
            )
        self.prefix = prefix
        self._client_factory = client_factory or _default_prefect_client

    def variable_name(self, key: str) -> str:
        """The Variable name for ``key``: ``<prefix>--<slug of key>--<hash of key>``."""
        slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:120]
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
        return f"{self.prefix}--{slug}--{digest}"

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        with self._client_factory() as client:
            variable = client.read_variable_by_name(self.variable_name(key))
        if variable is None:
            return None
        return _record_from_value(variable.value)

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        from prefect.client.schemas.actions import VariableCreate, VariableUpdate
        from prefect.exceptions import ObjectAlreadyExists

        name = self.variable_name(key)
        value = {"key": key, "record": record.model_dump(mode="json")}
        with self._client_factory() as client:
            if client.read_variable_by_name(name) is None:
                try:
                    client.create_variable(VariableCreate(name=name, value=value, tags=[self.TAG]))
                    return
                except ObjectAlreadyExists:
                    pass  # another run created it since the read: update it instead
            client.update_variable(VariableUpdate(name=name, value=value, tags=[self.TAG]))

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


def _default_prefect_client() -> Any:
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
