"""What the recipe remembers between runs, per instance: a typed view over the state store.

Per instance: when it was warned, when it was last judged idle, and (ssh probe) its idle
streak. :class:`IdleMemory` keeps one :class:`InstanceState` per instance id in a
:class:`state.KeyValueStore`: Prefect Variables when an API answers (one per instance,
named ``barrack-ops-idle--<policy>--<instance slug>-<hash>``, so every worker sees the
same memory and each value stays far below Prefect's 5000-character limit), else one
JSON file per policy (``<state dir>/hibernate-idle-<policy>.json``), or memory.

Memory written by earlier releases (a version-1 file, ``{"instances": {...}}``, and
Variables holding ``{"instance_id": ..., "state": ...}``) is read as it is.

A lost or unreadable memory is safe: instances are warned again before anything is
hibernated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from flows.hibernate_idle.remembered import InstanceState, changed_states
from state import (
    FileStore,
    KeyValueStore,
    MemoryStore,
    PrefectVariableStore,
    open_store,
    state_dir,
)
from state.variables import hashed_variable_slug, variable_slug

__all__ = [
    "IdleMemory",
    "InstanceState",
    "StateMode",
    "changed_states",
    "default_state_file",
    "idle_file_store",
    "idle_variable_store",
    "select_state_store",
]

logger = logging.getLogger(__name__)

StateMode = Literal["auto", "prefect", "file"]
"""The recipe's ``state_store`` choices (memory would forget every warning between runs)."""


def _upgrade_file_v1(payload: dict[str, Any]) -> dict[str, Any]:
    instances = payload.get("instances")
    if not isinstance(instances, dict):
        raise ValueError("'instances' is not a mapping")
    return {str(key): value for key, value in instances.items()}


def _legacy_variable(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("instance_id"), str) and "state" in value:
        return value["instance_id"], value["state"]
    return None


def idle_file_store(path: Path) -> FileStore:
    """The file backend of one policy's memory (reads version-1 files too)."""
    return FileStore(
        path,
        kind="hibernate-idle state",
        upgrade_v1=_upgrade_file_v1,
        validate=InstanceState.model_validate,
    )


def idle_variable_store(
    policy_name: str, client_factory: Callable[[], Any] | None = None
) -> PrefectVariableStore:
    """The Prefect backend: ``barrack-ops-idle--<policy>--<instance slug>-<hash>``."""
    slug = variable_slug(policy_name)
    if not slug:
        raise ValueError(f"policy_name {policy_name!r} has no letters or digits")
    return PrefectVariableStore(
        f"barrack-ops-idle--{slug[:80]}--",
        tag="barrack-ops-idle",
        name_of=lambda instance_id: hashed_variable_slug(instance_id, max_slug=100, separator="-"),
        legacy=_legacy_variable,
        client_factory=client_factory,
    )


class IdleMemory:
    """One policy's memory: :class:`InstanceState` by instance id, in a key-value store.

    An entry that does not validate is skipped with a warning (the instance is warned
    again before anything happens to it); the file backend moves a whole unreadable file
    aside.
    """

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    @classmethod
    def in_file(cls, path: Path) -> IdleMemory:
        """Memory in one JSON file."""
        return cls(idle_file_store(path))

    @classmethod
    def in_prefect(
        cls, policy_name: str, client_factory: Callable[[], Any] | None = None
    ) -> IdleMemory:
        """Memory in Prefect Variables, one per instance with state."""
        return cls(idle_variable_store(policy_name, client_factory))

    @classmethod
    def in_memory(cls) -> IdleMemory:
        """Memory for this process only."""
        return cls(MemoryStore())

    @property
    def path(self) -> Path | None:
        """The file, when the memory is in one."""
        return self.store.path if isinstance(self.store, FileStore) else None

    def variable_name(self, instance_id: str) -> str:
        """The Variable holding ``instance_id``'s state (Prefect backend only)."""
        if not isinstance(self.store, PrefectVariableStore):
            raise TypeError(f"the memory is not in Prefect Variables ({self!r})")
        return self.store.variable_name(instance_id)

    async def load(self) -> dict[str, InstanceState]:
        """Everything remembered."""
        states: dict[str, InstanceState] = {}
        for instance_id, value in (await self.store.items()).items():
            try:
                states[instance_id] = InstanceState.model_validate(value)
            except ValidationError:
                logger.warning("ignoring the unreadable hibernate-idle state of %s", instance_id)
        return states

    async def save(self, changes: Mapping[str, InstanceState | None]) -> None:
        """Replace the given instances' state; None (or an empty state) forgets one."""
        await self.store.update(
            {
                instance_id: None if state is None or state.empty else state.model_dump(mode="json")
                for instance_id, state in changes.items()
            }
        )

    def describe(self) -> str:
        """Where the memory is, for reports."""
        return self.store.describe()

    def __repr__(self) -> str:
        return f"IdleMemory({self.store.describe()})"


def default_state_file(policy_name: str) -> Path:
    """``<state dir>/hibernate-idle-<policy>.json`` (state dir: ``$BARRACK_OPS_STATE_DIR``)."""
    return state_dir() / f"hibernate-idle-{variable_slug(policy_name) or 'default'}.json"


async def select_state_store(
    mode: StateMode, policy_name: str, state_file: Path | None = None
) -> IdleMemory:
    """The memory for ``mode`` (see :func:`state.resolve_mode`).

    ``auto`` defers to ``$BARRACK_OPS_STATE``, then picks Prefect Variables when the API
    answers (asked once per run), else a file. A temporary Prefect server (no
    ``PREFECT_API_URL``) forgets its Variables when the run ends, so ``auto`` then uses
    the file.
    """
    store = await open_store(
        mode,
        file=lambda: idle_file_store(state_file or default_state_file(policy_name)),
        prefect=lambda: idle_variable_store(policy_name),
    )
    return IdleMemory(store)
