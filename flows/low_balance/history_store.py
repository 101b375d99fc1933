"""Where the balance history lives between runs: a typed view over the state store.

:class:`BalanceHistory` keeps one account's samples as one value of a
:class:`state.KeyValueStore`: a Prefect Variable when an API answers
(``barrack-ops-balance-history--<account>``, so every worker sees the same history), else a
JSON file (``<state dir>/low-balance-<account>.json``), or memory.

One compact encoding serves every backend, small enough for a Prefect Variable (values
are limited to 5000 characters): ``[epoch seconds, "balance", segment, "modelled burn"]``
per sample. A history written for another currency is ignored (it cannot be compared).
Histories written by earlier releases (a version-1 file holding the encoded history
itself, and the Variable holding it bare) are read as they are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from flows.low_balance.history import BalanceSample
from state import (
    FileStore,
    KeyValueStore,
    MemoryStore,
    PrefectVariableStore,
    StateMode,
    open_store,
    state_dir,
)
from state.variables import check_variable_name, variable_slug

__all__ = [
    "MAX_ENCODED_CHARS",
    "BalanceHistory",
    "HistoryMode",
    "decode_history",
    "encode_history",
    "history_file_store",
    "history_slug",
    "history_variable_store",
    "select_history_store",
]

logger = logging.getLogger(__name__)

HistoryMode = StateMode

FORMAT_VERSION: Final = 1
"""The version of the history's encoding (inside the value, whatever the backend)."""
MAX_ENCODED_CHARS: Final = 4800
"""Under Prefect's 5000-character limit on a Variable value, with room to spare."""
VARIABLE_PREFIX: Final = "barrack-ops-balance-history--"


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


def _check_history(value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a balance history (in any currency)."""
    currency = value.get("currency") if isinstance(value, dict) else None
    decode_history(value, currency if isinstance(currency, str) else "")


def history_slug(account: str) -> str:
    """A file- and Variable-safe form of an account name."""
    return variable_slug(account) or "account"


def history_file_store(path: Path, slug: str) -> FileStore:
    """The file backend of one account's history (reads version-1 files too)."""
    return FileStore(
        path,
        kind="balance history",
        upgrade_v1=lambda payload: {slug: payload},
        validate=_check_history,
        indent=None,  # compact, like the Variable value: the same encoding serves both
    )


def _legacy_variable(slug: str) -> Callable[[Any], tuple[str, Any] | None]:
    def read(value: Any) -> tuple[str, Any] | None:
        # Earlier releases stored the encoded history itself as the Variable's value.
        if isinstance(value, dict) and value.get("version") == FORMAT_VERSION:
            return slug, value
        return None

    return read


def history_variable_store(
    slug: str, client_factory: Callable[[], Any] | None = None
) -> PrefectVariableStore:
    """The Prefect backend: the one Variable ``barrack-ops-balance-history--<slug>``."""
    check_variable_name(f"{VARIABLE_PREFIX}{slug}", field="name", max_length=200)
    return PrefectVariableStore(
        VARIABLE_PREFIX,
        tag="barrack-ops-balance",
        name_of=lambda key: key,
        legacy=_legacy_variable(slug),
        client_factory=client_factory,
    )


class BalanceHistory:
    """The balance samples of one account, as one value of a key-value store.

    Args:
        store: Where the value is.
        key: Its key: the account's slug (see :func:`history_slug`).
    """

    def __init__(self, store: KeyValueStore, key: str) -> None:
        self.store = store
        self.key = key

    @classmethod
    def in_file(cls, path: Path, account: str = "account") -> BalanceHistory:
        """A history in one JSON file."""
        slug = history_slug(account)
        return cls(history_file_store(path, slug), slug)

    @classmethod
    def in_prefect(
        cls, account: str, client_factory: Callable[[], Any] | None = None
    ) -> BalanceHistory:
        """A history in the Prefect Variable ``barrack-ops-balance-history--<account slug>``."""
        slug = history_slug(account)
        return cls(history_variable_store(slug, client_factory), slug)

    @classmethod
    def in_memory(cls, account: str = "account") -> BalanceHistory:
        """A history for this process only."""
        return cls(MemoryStore(), history_slug(account))

    @property
    def path(self) -> Path | None:
        """The file, when the history is in one."""
        return self.store.path if isinstance(self.store, FileStore) else None

    @property
    def variable_name(self) -> str | None:
        """The Prefect Variable, when the history is in one."""
        if isinstance(self.store, PrefectVariableStore):
            return self.store.variable_name(self.key)
        return None

    async def load(self, currency: str) -> list[BalanceSample]:
        """The samples recorded in ``currency``, oldest first; an unreadable value: none."""
        value = await self.store.get(self.key)
        if value is None:
            return []
        try:
            return decode_history(value, currency)
        except ValueError as error:
            logger.warning("%s holds no balance history (%s); ignored", self.describe(), error)
            return []

    async def save(self, currency: str, samples: Sequence[BalanceSample]) -> None:
        """Replace the history."""
        await self.store.put(self.key, encode_history(currency, samples))

    def describe(self) -> str:
        """``file <path>``, ``prefect variable <name>`` or ``memory``."""
        name = self.variable_name
        return f"prefect variable {name}" if name else self.store.describe()

    def __repr__(self) -> str:
        return f"BalanceHistory({self.describe()})"


async def select_history_store(
    mode: HistoryMode, account: str, path: Path | None = None
) -> BalanceHistory:
    """The history for ``mode`` (see :func:`state.resolve_mode`).

    Args:
        mode: ``auto``, ``prefect``, ``file`` or ``memory``; ``auto`` defers to
            ``$BARRACK_OPS_STATE``, then picks a Prefect Variable when the API answers
            (asked once per run), else a file.
        account: the account name (one history per account).
        path: the file of the file store; default
            ``<BARRACK_OPS_STATE_DIR>/low-balance-<account>.json``.
    """
    slug = history_slug(account)
    store = await open_store(
        mode,
        file=lambda: history_file_store(path or state_dir() / f"low-balance-{slug}.json", slug),
        prefect=lambda: history_variable_store(slug),
    )
    return BalanceHistory(store, slug)
