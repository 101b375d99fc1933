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

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from flows.low_balance.history import BalanceSample
from notifications.jsonfile import LockedJsonFile
from notifications.state import (
    check_variable_name,
    default_state_dir,
    prefect_api_reachable,
    put_variable,
    sync_prefect_client,
    variable_slug,
)

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
    """A history in one JSON file; a file that is not a history is moved aside, not trusted.

    Locking, atomic writes and the move aside are :class:`notifications.jsonfile.LockedJsonFile`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # Compact, like the Variable value: the same encoding serves both.
        self._file = LockedJsonFile(
            path, kind="balance history", version=FORMAT_VERSION, indent=None
        )

    def load(self, currency: str) -> list[BalanceSample]:
        """The samples recorded in ``currency``."""
        return self._file.read_as(lambda payload: decode_history(payload, currency)) or []

    def save(self, currency: str, samples: Sequence[BalanceSample]) -> None:
        """Replace the history atomically."""
        self._file.write(encode_history(currency, samples))

    def describe(self) -> str:
        """``file <path>``."""
        return f"file {self.path}"


class PrefectVariableHistory:
    """A history in one Prefect Variable (tag ``barrack-ops-balance``).

    Args:
        name: the Variable name (lowercase letters, digits, ``-`` and ``_``).
        client_factory: returns a sync Prefect client used as a context manager; the
            default is ``prefect.get_client(sync_client=True)``.
    """

    TAG: Final = "barrack-ops-balance"

    def __init__(self, name: str, client_factory: Callable[[], Any] | None = None) -> None:
        self.name = check_variable_name(name, field="name", max_length=200)
        self._client_factory = client_factory or sync_prefect_client

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
        value = encode_history(currency, samples)
        with self._client_factory() as client:
            put_variable(client, self.name, value, tag=self.TAG)

    def describe(self) -> str:
        """``prefect variable <name>``."""
        return f"prefect variable {self.name}"


def history_slug(account: str) -> str:
    """A file- and Variable-safe form of an account name."""
    return variable_slug(account) or "account"


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
