"""Where the balance history lives between runs: a Prefect Variable, a JSON file, or memory.

* :class:`PrefectVariableHistory`: one Variable per account, used when a Prefect API is
  reachable, so every worker sees the same history;
* :class:`FileHistory`: a JSON file written atomically (temp file, fsync, ``os.replace``)
  under an exclusive lock, so a crash mid-write leaves the previous history intact;
* :class:`MemoryHistory`: a list, for one process (tests, scripts).

The same compact encoding serves all three, small enough for a Prefect Variable (values
are limited to 5000 characters): ``[epoch seconds, "balance", segment, "modelled burn"]``
per sample. A history written for another currency is ignored (it cannot be compared).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from flows.low_balance.history import BalanceSample
from notifications.state import default_state_dir, prefect_api_reachable

__all__ = [
    "FileHistory",
    "HistoryMode",
    "HistoryStore",
    "MemoryHistory",
    "PrefectVariableHistory",
    "decode_history",
    "encode_history",
    "history_slug",
    "select_history_store",
]

logger = logging.getLogger(__name__)

HistoryMode = Literal["auto", "prefect", "file", "memory"]

FORMAT_VERSION: Final = 1
MAX_ENCODED_CHARS: Final = 4800
"""Under Prefect's 5000-character limit on a Variable value, with room to spare."""


class HistoryStore(Protocol):
    """The balance samples of one account."""

    def load(self, currency: str) -> list[BalanceSample]:
        """The samples recorded in ``currency``, oldest first (empty if none)."""
        ...

    def save(self, currency: str, samples: Sequence[BalanceSample]) -> None:
        """Replace the history."""
        ...

    def describe(self) -> str:
        """Where the history is, for the report."""
        ...


def encode_history(currency: str, samples: Sequence[BalanceSample]) -> dict[str, Any]:
    """The JSON value for ``samples``, oldest dropped until it fits a Prefect Variable."""
    rows = [
        [int(s.at.timestamp()), str(s.balance), s.segment, str(s.modelled_burn)] for s in samples
    ]
    value: dict[str, Any] = {"version": FORMAT_VERSION, "currency": currency, "samples": rows}
    while len(json.dumps(value, separators=(",", ":"))) > MAX_ENCODED_CHARS and rows:
        rows.pop(0)
    return value


def decode_history(value: Any, currency: str) -> list[BalanceSample]:
    """The samples in ``value`` if it is a history in ``currency``; otherwise none.

    Raises:
        ValueError: ``value`` is not a balance history at all.
    """
    if not isinstance(value, dict) or value.get("version") != FORMAT_VERSION:
        raise ValueError("not a barrack-ops balance history (version 1)")
    if value.get("currency") != currency:
        return []
    rows = value.get("samples")
    if not isinstance(rows, list):
        raise ValueError("'samples' is not a list")
    samples: list[BalanceSample] = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 4 and isinstance(row[0], int)):
            raise ValueError(f"malformed sample {row!r}")
        try:
            samples.append(
                BalanceSample(
                    datetime.fromtimestamp(row[0], UTC),
                    Decimal(str(row[1])),
                    int(row[2]),
                    Decimal(str(row[3])),
                )
            )
        except (InvalidOperation, TypeError, ValueError, OverflowError) as error:
            raise ValueError(f"malformed sample {row!r}") from error
    samples.sort(key=lambda s: s.at)
    return samples


class MemoryHistory:
    """A history that lives as long as the object."""

    def __init__(self) -> None:
        self._value: dict[str, Any] | None = None

    def load(self, currency: str) -> list[BalanceSample]:
        """The samples recorded in ``currency``."""
        return decode_history(self._value, currency) if self._value is not None else []

    def save(self, currency: str, samples: Sequence[BalanceSample]) -> None:
        """Replace the history."""
        self._value = encode_history(currency, samples)

    def describe(self) -> str:
        """``memory``."""
        return "memory"


class FileHistory:
    """A history in one JSON file; a file that is not a history is moved aside, not trusted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._thread_lock = threading.Lock()

    def load(self, currency: str) -> list[BalanceSample]:
        """The samples recorded in ``currency``."""
        with self._locked():
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return []
            try:
                return decode_history(json.loads(text), currency)
            except ValueError as error:
                aside = self.path.with_name(
                    f"{self.path.name}.corrupt-{datetime.now(UTC):%Y%m%dT%H%M%S}"
                )
                os.replace(self.path, aside)
                logger.warning(
                    "balance history %s is unreadable (%s); moved it to %s and started empty",
                    self.path,
                    error,
                    aside.name,
                )
                return []

    def save(self, currency: str, samples: Sequence[BalanceSample]) -> None:
        """Replace the history atomically."""
        payload = json.dumps(encode_history(currency, samples), separators=(",", ":"))
        with self._locked():
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

    def describe(self) -> str:
        """``file <path>``."""
        return f"file {self.path}"

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


class PrefectVariableHistory:
    """A history in one Prefect Variable (tag ``barrack-ops-balance``).

    Args:
        name: the Variable name (lowercase letters, digits, ``-`` and ``_``).
        client_factory: returns a sync Prefect client used as a context manager; the
            default is ``prefect.get_client(sync_client=True)``.
    """

    TAG: Final = "barrack-ops-balance"

    def __init__(self, name: str, client_factory: Callable[[], Any] | None = None) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,200}", name):
            raise ValueError(
                f"name {name!r}: Prefect Variable names allow lowercase letters, digits, "
                "'-' and '_'"
            )
        self.name = name
        self._client_factory = client_factory or _default_prefect_client

    def load(self, currency: str) -> list[BalanceSample]:
        """The samples recorded in ``currency``; an unreadable value starts empty."""
        with self._client_factory() as client:
            variable = client.read_variable_by_name(self.name)
        if variable is None:
            return []
        try:
            return decode_history(variable.value, currency)
        except ValueError as error:
            logger.warning("Variable %s holds no balance history (%s); ignored", self.name, error)
            return []

    def save(self, currency: str, samples: Sequence[BalanceSample]) -> None:
        """Create or replace the Variable."""
        from prefect.client.schemas.actions import VariableCreate, VariableUpdate

        value = encode_history(currency, samples)
        with self._client_factory() as client:
            if client.read_variable_by_name(self.name) is None:
                client.create_variable(VariableCreate(name=self.name, value=value, tags=[self.TAG]))
            else:
                client.update_variable(VariableUpdate(name=self.name, value=value, tags=[self.TAG]))

    def describe(self) -> str:
        """``prefect variable <name>``."""
        return f"prefect variable {self.name}"


def _default_prefect_client() -> Any:
    from prefect import get_client

    return get_client(sync_client=True)


def history_slug(account: str) -> str:
    """A file- and Variable-safe form of an account name."""
    return re.sub(r"[^a-z0-9]+", "-", account.lower()).strip("-") or "account"


def select_history_store(mode: HistoryMode, account: str, path: Path | None = None) -> HistoryStore:
    """The store for ``mode``; ``auto`` is a Prefect Variable when the API answers, else a file.

    Args:
        mode: ``auto``, ``prefect``, ``file`` or ``memory``.
        account: the account name (one history per account).
        path: the file of the file store; default
            ``<BARRACK_OPS_STATE_DIR>/low-balance-<account>.json``.
    """
    slug = history_slug(account)
    if mode == "memory":
        return MemoryHistory()
    if mode == "prefect" or (mode == "auto" and prefect_api_reachable()):
        return PrefectVariableHistory(f"barrack-ops-balance-history--{slug}")
    return FileHistory(path or default_state_dir() / f"low-balance-{slug}.json")
