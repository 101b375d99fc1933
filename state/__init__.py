"""barrack-ops' memory between runs: one async key-value store, three backends.

Typed views over it live with their domains (the notification ledger, the hibernate-idle
memory, the balance history); this package knows nothing about them and imports neither
``flows`` nor ``tasks``.

Example:
    >>> from state import FileStore, open_store
    >>> store = await open_store(  # doctest: +SKIP
    ...     "auto",
    ...     file=lambda: FileStore(state_dir() / "x.json", kind="example"),
    ...     prefect=lambda: PrefectVariableStore("barrack-ops-example--", tag="barrack-ops"),
    ... )
    >>> await store.put("key", {"any": "json"})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from state.reachability import forget_reachability, prefect_api_reachable
from state.settings import MODE_VARIABLE, STATE_DIR_VARIABLE, StateMode, configured_mode, state_dir
from state.store import FileStore, KeyValueStore, MemoryStore, PrefectVariableStore

__all__ = [
    "MODE_VARIABLE",
    "STATE_DIR_VARIABLE",
    "Backend",
    "FileStore",
    "KeyValueStore",
    "MemoryStore",
    "PrefectVariableStore",
    "StateMode",
    "configured_mode",
    "forget_reachability",
    "open_store",
    "prefect_api_reachable",
    "resolve_mode",
    "state_dir",
]

Backend = Literal["prefect", "file", "memory"]


async def resolve_mode(requested: StateMode = "auto") -> Backend:
    """The backend for ``requested``: itself, else ``$BARRACK_OPS_STATE``, else ``auto``.

    ``auto`` is ``prefect`` when a Prefect API answers (asked once per run, off the event
    loop), else ``file``.
    """
    mode = configured_mode(requested)
    if mode == "auto":
        return "prefect" if await prefect_api_reachable() else "file"
    return mode


async def open_store(
    requested: StateMode,
    *,
    file: Callable[[], KeyValueStore],
    prefect: Callable[[], KeyValueStore],
) -> KeyValueStore:
    """The store of the backend :func:`resolve_mode` picks, built by ``file`` or ``prefect``."""
    backend = await resolve_mode(requested)
    if backend == "memory":
        return MemoryStore()
    return prefect() if backend == "prefect" else file()
