"""What the recipe remembers between runs, per instance, and where it keeps it.

Per instance: when it was warned, when it was last judged idle, and (ssh probe) its idle
streak. Two stores share one small async interface:

* :class:`PrefectVariableStateStore`: one Prefect Variable per instance with state, when
  a Prefect API is reachable (every worker sees the same memory; one Variable per
  instance keeps each value far below Prefect's 5000-character limit);
* :class:`FileStateStore`: one JSON file, changed under an exclusive lock and written
  atomically (temp file, fsync, ``os.replace``; :mod:`notifications.jsonfile`).

A lost or unreadable memory is safe: instances are warned again before anything is
hibernated.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import anyio
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from flows.hibernate_idle.streaks import IdleStreak
from notifications.jsonfile import LockedJsonFile
from notifications.state import (
    default_state_dir,
    hashed_variable_slug,
    prefect_api_reachable,
    variable_slug,
)

__all__ = [
    "FileStateStore",
    "IdleStateStore",
    "InstanceState",
    "PrefectVariableStateStore",
    "StateMode",
    "changed_states",
    "default_state_file",
    "select_state_store",
]

logger = logging.getLogger(__name__)

StateMode = Literal["auto", "prefect", "file"]
_FORMAT_VERSION: Final = 1
_PAGE: Final = 200  # the Prefect API's largest page


class InstanceState(BaseModel):
    """What the recipe remembers about one instance.

    Attributes:
        warned_at: when the idle warning went out (None: not warned).
        last_idle_at: the last run that judged it idle.
        streak: consecutive idle observations (ssh probe only).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    warned_at: AwareDatetime | None = None
    last_idle_at: AwareDatetime | None = None
    streak: IdleStreak | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to remember (the store forgets the instance)."""
        return self.warned_at is None and self.last_idle_at is None and self.streak is None


def changed_states(
    remembered: Mapping[str, InstanceState], wanted: Mapping[str, InstanceState | None]
) -> dict[str, InstanceState | None]:
    """What a save must write: ``wanted`` without the entries that are already so.

    An empty state and no state are the same (nothing to remember), so an instance with
    neither before nor after costs no write: at 5,000 instances, saving every instance
    took a minute of Prefect API calls after the run's last action.
    """
    changes: dict[str, InstanceState | None] = {}
    for instance_id, state in wanted.items():
        after = None if state is None or state.empty else state
        if after != remembered.get(instance_id):
            changes[instance_id] = after
    return changes


class IdleStateStore(Protocol):
    """Per-instance memory of one policy, by instance id."""

    async def load(self) -> dict[str, InstanceState]:
        """Everything remembered."""
        ...

    async def save(self, changes: Mapping[str, InstanceState | None]) -> None:
        """Replace the given instances' state; None (or an empty state) forgets one."""
        ...

    def describe(self) -> str:
        """Where the memory is, for reports."""
        ...


def _apply(states: dict[str, InstanceState], changes: Mapping[str, InstanceState | None]) -> None:
    for instance_id, state in changes.items():
        if state is None or state.empty:
            states.pop(instance_id, None)
        else:
            states[instance_id] = state


class FileStateStore:
    """Memory in one JSON file: ``{"version": 1, "instances": {id: state}}``.

    Changes read, modify and rewrite the whole file under an exclusive lock, atomically
    (see :class:`notifications.jsonfile.LockedJsonFile`), so a crash leaves the old or the
    new file, never half. A file that does not parse is moved aside
    (``<file>.corrupt-<time>``) and the memory starts empty.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = LockedJsonFile(path, kind="hibernate-idle state", version=_FORMAT_VERSION)

    async def load(self) -> dict[str, InstanceState]:
        """Everything remembered."""
        return await anyio.to_thread.run_sync(self._read)

    async def save(self, changes: Mapping[str, InstanceState | None]) -> None:
        """Apply the changes atomically."""
        await anyio.to_thread.run_sync(self._save, dict(changes))

    def describe(self) -> str:
        """``file <path>``."""
        return f"file {self.path}"

    def __repr__(self) -> str:
        return f"FileStateStore({str(self.path)!r})"

    def _save(self, changes: dict[str, InstanceState | None]) -> None:
        with self._file.locked():
            states = self._read()
            _apply(states, changes)
            self._file.write(
                {"instances": {k: v.model_dump(mode="json") for k, v in sorted(states.items())}}
            )

    def _read(self) -> dict[str, InstanceState]:
        return self._file.read_as(_states_from_payload) or {}


def _states_from_payload(payload: dict[str, Any]) -> dict[str, InstanceState]:
    raw = payload.get("instances")
    if not isinstance(raw, dict):
        raise ValueError("'instances' is not a mapping")
    return {str(k): InstanceState.model_validate(v) for k, v in raw.items()}


_WRITES_IN_FLIGHT: Final = 8
"""Variable writes at once: each is its own Prefect API call (two for an upsert)."""


class PrefectVariableStateStore:
    """Memory in Prefect Variables, one per instance with state.

    Names are ``barrack-ops-idle--<policy>--<instance slug>-<hash>`` (Variable names allow
    only lowercase letters, digits, ``-`` and ``_``; the hash keeps ids that differ only
    in case apart); the value holds the exact instance id and its state. Every Variable
    carries the tag ``barrack-ops-idle``.

    Args:
        policy_name: the recipe's policy; each policy has its own memory.
        client_factory: returns an async Prefect client used as a context manager
            (default ``prefect.get_client()``).
    """

    TAG: Final = "barrack-ops-idle"

    def __init__(self, policy_name: str, client_factory: Any | None = None) -> None:
        slug = variable_slug(policy_name)
        if not slug:
            raise ValueError(f"policy_name {policy_name!r} has no letters or digits")
        self.prefix = f"barrack-ops-idle--{slug[:80]}--"
        self._client_factory = client_factory or _default_client

    def variable_name(self, instance_id: str) -> str:
        """The Variable holding ``instance_id``'s state."""
        return f"{self.prefix}{hashed_variable_slug(instance_id, max_slug=100, separator='-')}"

    async def load(self) -> dict[str, InstanceState]:
        """Every Variable of this policy (paged)."""
        states: dict[str, InstanceState] = {}
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
                    },
                )
                page = response.json()
                for variable in page:
                    name, value = variable.get("name", ""), variable.get("value")
                    if not name.startswith(self.prefix) or not isinstance(value, dict):
                        continue
                    try:
                        states[str(value["instance_id"])] = InstanceState.model_validate(
                            value["state"]
                        )
                    except (KeyError, ValidationError):
                        logger.warning("ignoring unreadable hibernate-idle Variable %s", name)
                if len(page) < _PAGE:
                    return states
                offset += _PAGE

    async def save(self, changes: Mapping[str, InstanceState | None]) -> None:
        """Create, update or delete one Variable per changed instance, a few at a time."""
        from prefect.client.schemas.actions import VariableCreate, VariableUpdate
        from prefect.exceptions import ObjectNotFound

        async with self._client_factory() as client:

            async def write(instance_id: str, state: InstanceState | None) -> None:
                name = self.variable_name(instance_id)
                if state is None or state.empty:
                    with suppress(ObjectNotFound):
                        await client.delete_variable_by_name(name)
                    return
                value = {"instance_id": instance_id, "state": state.model_dump(mode="json")}
                if await client.read_variable_by_name(name) is None:
                    await client.create_variable(
                        VariableCreate(name=name, value=value, tags=[self.TAG])
                    )
                else:
                    await client.update_variable(
                        VariableUpdate(name=name, value=value, tags=[self.TAG])
                    )

            gate = anyio.Semaphore(_WRITES_IN_FLIGHT)

            async def bounded(instance_id: str, state: InstanceState | None) -> None:
                async with gate:
                    await write(instance_id, state)

            async with anyio.create_task_group() as group:
                for instance_id, state in changes.items():
                    group.start_soon(bounded, instance_id, state)

    def describe(self) -> str:
        """``prefect variables <prefix>*``."""
        return f"prefect variables {self.prefix}*"

    def __repr__(self) -> str:
        return f"PrefectVariableStateStore(prefix={self.prefix!r})"


def _default_client() -> Any:
    from prefect import get_client

    return get_client()


def default_state_file(policy_name: str) -> Path:
    """``<state dir>/hibernate-idle-<policy>.json`` (state dir: ``$BARRACK_OPS_STATE_DIR``)."""
    return default_state_dir() / f"hibernate-idle-{variable_slug(policy_name) or 'default'}.json"


async def select_state_store(
    mode: StateMode, policy_name: str, state_file: Path | None = None
) -> IdleStateStore:
    """The store for ``mode``; ``auto`` is Prefect Variables when the API answers, else a file.

    A temporary Prefect server (no ``PREFECT_API_URL``) forgets its Variables when the
    run ends, so ``auto`` then uses the file.
    """
    if mode == "auto":
        mode = "prefect" if await anyio.to_thread.run_sync(prefect_api_reachable) else "file"
    if mode == "prefect":
        return PrefectVariableStateStore(policy_name)
    return FileStateStore(state_file or default_state_file(policy_name))
