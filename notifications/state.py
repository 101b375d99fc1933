"""The dedup ledger between runs: open alerts by key, a typed view over the state store.

The ledger keeps one :class:`~notifications.dedup.AlertRecord` per open alert, keyed by
:attr:`notifications.alerts.AlertKey.id`, in one of the backends of :mod:`state` (Prefect
Variables when an API answers, else a file, or memory). The notifier is synchronous, so
:class:`AlertLedger` offers synchronous methods over the async store.

Existing ledgers are read on upgrade: a version-1 file (``{"records": {...}}``) and the
Variables of the older shape (``{"key": ..., "record": ...}``, same names) are read as
they are and rewritten in the store's format on their next change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from notifications.dedup import AlertRecord
from state import (
    FileStore,
    KeyValueStore,
    MemoryStore,
    PrefectVariableStore,
    StateMode,
    open_store,
    state_dir,
)
from state._sync import run_sync
from state.variables import hashed_variable_slug

__all__ = [
    "STATE_FILE_NAME",
    "AlertLedger",
    "AlertStateStore",
    "StateMode",
    "ledger_file_store",
    "ledger_variable_store",
    "select_store",
]

T = TypeVar("T")

STATE_FILE_NAME: Final = "notifications.json"
VARIABLE_PREFIX: Final = "barrack-ops-alert"
VARIABLE_TAG: Final = "barrack-ops-alert"


class AlertStateStore(Protocol):
    """What the notifier needs of a ledger (synchronous: the notifier is)."""

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


def _upgrade_file_v1(payload: dict[str, Any]) -> dict[str, Any]:
    records = payload.get("records")
    if not isinstance(records, dict):
        raise ValueError("'records' is not a mapping")
    return {str(key): value for key, value in records.items()}


def _legacy_variable(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("key"), str) and "record" in value:
        return value["key"], value["record"]
    return None


def ledger_file_store(path: Path) -> FileStore:
    """The file backend of a ledger at ``path`` (reads version-1 ledgers too)."""
    return FileStore(
        path,
        kind="notification ledger",
        upgrade_v1=_upgrade_file_v1,
        validate=AlertRecord.model_validate,
    )


def ledger_variable_store(
    prefix: str = VARIABLE_PREFIX, client_factory: Callable[[], Any] | None = None
) -> PrefectVariableStore:
    """The Prefect backend: ``<prefix>--<slug of key>--<hash of key>`` per open alert."""
    return PrefectVariableStore(
        f"{prefix}--",
        tag=VARIABLE_TAG,
        name_of=lambda key: hashed_variable_slug(key, max_slug=120, separator="--"),
        legacy=_legacy_variable,
        client_factory=client_factory,
    )


class AlertLedger:
    """The open alerts, in a :class:`state.KeyValueStore` (decided on first use).

    A ledger file holding a record that does not validate (edited by hand) is moved aside
    and the ledger restarts empty: alerts may then repeat once, which is better than
    never sending them again. A Variable that does not validate is skipped.

    Args:
        store: The store.
        opener: Instead of ``store``, an async function returning it, called on first
            use (so building a notifier never waits for the Prefect API's health check).
    """

    def __init__(
        self,
        store: KeyValueStore | None = None,
        *,
        opener: Callable[[], Awaitable[KeyValueStore]] | None = None,
    ) -> None:
        if (store is None) == (opener is None):
            raise TypeError("AlertLedger needs a store or an opener, not both")
        self._store = store
        self._open = opener

    @classmethod
    def in_memory(cls) -> AlertLedger:
        """A ledger that lives as long as the process."""
        return cls(MemoryStore())

    @classmethod
    def in_file(cls, path: Path) -> AlertLedger:
        """A ledger in one JSON file, safe against crashes and concurrent writers."""
        return cls(ledger_file_store(path))

    @classmethod
    def in_prefect(
        cls, prefix: str = VARIABLE_PREFIX, client_factory: Callable[[], Any] | None = None
    ) -> AlertLedger:
        """A ledger in Prefect Variables, one per open alert."""
        return cls(ledger_variable_store(prefix, client_factory))

    async def store(self) -> KeyValueStore:
        """The store (opened on the first call)."""
        if self._store is None:
            assert self._open is not None
            self._store = await self._open()
        return self._store

    def _run(self, operation: Callable[[KeyValueStore], Awaitable[T]]) -> T:
        async def go() -> T:
            return await operation(await self.store())

        return run_sync(go())

    def get(self, key: str) -> AlertRecord | None:
        """The open record for ``key``, or None."""
        value = self._run(lambda store: store.get(key))
        return _record(value)

    def put(self, key: str, record: AlertRecord) -> None:
        """Create or replace the record for ``key``."""
        value = record.model_dump(mode="json")
        self._run(lambda store: store.put(key, value))

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        self._run(lambda store: store.delete(key))

    def all(self) -> dict[str, AlertRecord]:
        """Every open record."""
        values = self._run(lambda store: store.items())
        records = {key: _record(value) for key, value in values.items()}
        return {key: record for key, record in records.items() if record is not None}

    def describe(self) -> str:
        """Where the ledger is: ``memory``, ``file <path>``, ``prefect variables <prefix>*``."""
        if self._store is None:
            self._run(lambda store: _nothing())
        assert self._store is not None
        return self._store.describe()

    @property
    def path(self) -> Path | None:
        """The ledger file, when the ledger is in a file (and already opened)."""
        return self._store.path if isinstance(self._store, FileStore) else None

    def variable_name(self, key: str) -> str:
        """The Variable of ``key`` (Prefect backend only)."""
        if not isinstance(self._store, PrefectVariableStore):
            raise TypeError(f"the ledger is not in Prefect Variables ({self!r})")
        return self._store.variable_name(key)

    def __repr__(self) -> str:
        where = self._store.describe() if self._store is not None else "not opened yet"
        return f"AlertLedger({where})"


async def _nothing() -> None:
    return None


def _record(value: Any) -> AlertRecord | None:
    if value is None:
        return None
    try:
        return AlertRecord.model_validate(value)
    except ValueError:
        return None


def select_store(mode: StateMode = "auto", state_file: Path | None = None) -> AlertLedger:
    """The ledger for ``mode`` (see :func:`state.resolve_mode`), opened on first use.

    Args:
        mode: ``auto``, ``prefect``, ``file`` or ``memory``; ``auto`` defers to
            ``$BARRACK_OPS_STATE``, then to whether a Prefect API answers.
        state_file: The ledger file for the file backend; default
            ``<state dir>/notifications.json``.
    """

    async def choose() -> KeyValueStore:
        return await open_store(
            mode,
            file=lambda: ledger_file_store(state_file or state_dir() / STATE_FILE_NAME),
            prefect=ledger_variable_store,
        )

    return AlertLedger(opener=choose)
