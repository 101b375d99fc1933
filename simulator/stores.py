"""Where the backend keeps its records, and which of them are per region or account-wide.

:data:`STORE_SCOPES` is the one declaration of scope (LocalStack's "declared stores"): a
regional store indexes every record by region and the backend refuses to combine records
of different regions (attach a volume, a firewall; restore lands in one region); an
account-wide store is shared by every region. Every table keeps ids unique, names unique
(when it has names) and secondary indexes for the list filters, so a lookup is O(1) and a
filtered list does not scan the whole table. Lists come newest first (``created_at``
descending, then id), as the contract says.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from simulator.errors import NotFound
from simulator.records import (
    AccountRec,
    AIUsageRec,
    FirewallRec,
    ImageRec,
    InstanceRec,
    Record,
    ScriptRec,
    SnapshotRec,
    SSHKeyRec,
    VolumeRec,
)

__all__ = ["STORE_SCOPES", "RegionCatalog", "Scope", "State", "Table"]


class Scope(StrEnum):
    """Where a store's records live."""

    ACCOUNT = "account"
    REGION = "region"


STORE_SCOPES: Final[dict[str, Scope]] = {
    # account-wide
    "account": Scope.ACCOUNT,
    "billing": Scope.ACCOUNT,
    "ssh_keys": Scope.ACCOUNT,
    "scripts": Scope.ACCOUNT,
    "ai_usage": Scope.ACCOUNT,
    "prices": Scope.ACCOUNT,
    # per region
    "regions": Scope.REGION,
    "stock": Scope.REGION,
    "os_images": Scope.REGION,
    "instances": Scope.REGION,
    "snapshots": Scope.REGION,
    "volumes": Scope.REGION,
    "firewalls": Scope.REGION,
    "images": Scope.REGION,
}
"""The one declaration of what is per region and what is account-wide."""

R = TypeVar("R", bound=Record)

_MAX_CACHED_LISTS: Final = 256


class Table(Generic[R]):
    """Records of one kind: by id, by unique name, and by indexed attributes.

    Args:
        kind: the resource kind, for errors (``"instance"``).
        store: its key in :data:`STORE_SCOPES` (regional stores get a ``region`` index).
        indexes: further attributes to index for list filters.
        stable: indexed attributes that never change after creation.
    """

    def __init__(
        self,
        kind: str,
        store: str,
        indexes: Iterable[str] = (),
        stable: Iterable[str] = (),
        named: bool = True,
    ) -> None:
        self.kind = kind
        self.scope = STORE_SCOPES[store]
        attrs = list(indexes)
        stable_attrs = set(stable)
        if self.scope is Scope.REGION:
            attrs.insert(0, "region")
            stable_attrs.add("region")
        self._index_attrs = tuple(attrs)
        self._stable = frozenset(stable_attrs)
        self.rows: dict[str, R] = {}
        self.names: dict[str, str] | None = {} if named else None
        self._index: dict[str, dict[Any, dict[str, None]]] = {a: {} for a in attrs}
        self._seq = itertools.count(1)
        self.version = 0
        self._list_cache: dict[tuple[tuple[str, Any], ...], list[R]] = {}
        self._cache_version = 0

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, record_id: str) -> R | None:
        """The record with this id, or None."""
        return self.rows.get(record_id)

    def require(self, record_id: str) -> R:
        """The record with this id.

        Raises:
            NotFound: there is none.
        """
        record = self.rows.get(record_id)
        if record is None:
            raise NotFound(self.kind, record_id)
        return record

    def by_name(self, name: str) -> R | None:
        """The record with this name, or None."""
        if self.names is None:
            return None
        record_id = self.names.get(name)
        return None if record_id is None else self.rows[record_id]

    def add(self, record: R) -> R:
        """Store a new record (ids and names must be free; the backend checks names)."""
        if record.id in self.rows:
            raise ValueError(f"{self.kind} id {record.id} already stored")
        if self.names is not None and _name(record) in self.names:
            raise ValueError(f"a {self.kind} named {_name(record)!r} already exists")
        record.seq = next(self._seq)
        self.rows[record.id] = record
        if self.names is not None:
            self.names[_name(record)] = record.id
        for attr in self._index_attrs:
            self._index[attr].setdefault(getattr(record, attr), {})[record.id] = None
        self.version += 1
        return record

    def remove(self, record_id: str) -> R:
        """Drop a record and its index entries."""
        record = self.rows.pop(record_id)
        if self.names is not None:
            self.names.pop(_name(record), None)
        for attr in self._index_attrs:
            self._index[attr].get(getattr(record, attr), {}).pop(record_id, None)
        self.version += 1
        return record

    def update(self, record: R, **changes: Any) -> None:
        """Change attributes of a stored record, keeping names and indexes right."""
        for attr, value in changes.items():
            old = getattr(record, attr)
            if old == value:
                continue
            if attr == "name" and self.names is not None:
                self.names.pop(old, None)
                self.names[value] = record.id
            if attr in self._index:
                if attr in self._stable:
                    raise ValueError(f"{self.kind}.{attr} never changes")
                self._index[attr].get(old, {}).pop(record.id, None)
                self._index[attr].setdefault(value, {})[record.id] = None
            setattr(record, attr, value)
        self.version += 1

    def select(self, **filters: Any) -> list[R]:
        """Records matching every ``attr=value`` filter (None skips a filter), newest first.

        The result is cached until the table changes, so paging through a long list costs
        one selection, not one per page. Callers must not modify the returned list.
        """
        if self._cache_version != self.version or len(self._list_cache) > _MAX_CACHED_LISTS:
            self._list_cache.clear()
            self._cache_version = self.version
        active = tuple(sorted((k, v) for k, v in filters.items() if v is not None))
        result = self._list_cache.get(active)
        if result is None:
            result = self._list_cache[active] = self._select(active)
        return result

    def _select(self, active: tuple[tuple[str, Any], ...]) -> list[R]:
        """Filter through the smallest matching index, then check the other filters."""
        indexed = [(a, v) for a, v in active if a in self._index]
        used = ""
        if indexed:
            used, value = min(indexed, key=lambda av: len(self._index[av[0]].get(av[1], ())))
            result = [self.rows[i] for i in self._index[used].get(value, {})]
        else:
            result = list(self.rows.values())
        others = [(a, v) for a, v in active if a != used]
        if others:
            result = [r for r in result if all(getattr(r, a) == v for a, v in others)]
        # The contract's list order: newest first, ties by id (two stable sorts).
        result.sort(key=_id_of)
        result.sort(key=_created_of, reverse=True)
        return result

    def clear(self) -> None:
        """Drop every record."""
        self.rows.clear()
        if self.names is not None:
            self.names.clear()
        for index in self._index.values():
            index.clear()
        self._list_cache.clear()
        self.version += 1


def _id_of(record: Record) -> str:
    return record.id


def _created_of(record: Record) -> datetime:
    return record.created_at


def _name(record: Record) -> str:
    name = getattr(record, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"{type(record).__name__} has no name")
    return name


@dataclass(slots=True)
class RegionCatalog:
    """What one region offers: whether it is open, its location, stock and OS images."""

    name: str
    location: str
    available: bool
    private_prefix: str
    stock: dict[str, int] = field(default_factory=dict)
    os_images: dict[str, tuple[str, str, str, int]] = field(default_factory=dict)
    """OS image id -> (name, os, version, size_gb)."""


@dataclass(slots=True)
class State:
    """Everything the backend knows, laid out as :data:`STORE_SCOPES` declares."""

    account: AccountRec = field(default_factory=AccountRec)
    prices: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    regions: dict[str, RegionCatalog] = field(default_factory=dict)
    ssh_keys: Table[SSHKeyRec] = field(
        default_factory=lambda: Table[SSHKeyRec]("ssh_key", "ssh_keys")
    )
    scripts: Table[ScriptRec] = field(default_factory=lambda: Table[ScriptRec]("script", "scripts"))
    ai_usage: Table[AIUsageRec] = field(
        default_factory=lambda: Table[AIUsageRec]("ai_usage", "ai_usage", named=False)
    )
    instances: Table[InstanceRec] = field(
        default_factory=lambda: Table[InstanceRec]("instance", "instances", indexes=("status",))
    )
    snapshots: Table[SnapshotRec] = field(
        default_factory=lambda: Table[SnapshotRec](
            "snapshot", "snapshots", indexes=("instance_id",), stable=("instance_id",)
        )
    )
    volumes: Table[VolumeRec] = field(default_factory=lambda: Table[VolumeRec]("volume", "volumes"))
    firewalls: Table[FirewallRec] = field(
        default_factory=lambda: Table[FirewallRec]("firewall", "firewalls")
    )
    images: Table[ImageRec] = field(default_factory=lambda: Table[ImageRec]("image", "images"))
    snapshot_tombstones: dict[str, SnapshotRec] = field(default_factory=dict)
    instance_tombstones: dict[str, InstanceRec] = field(default_factory=dict)
    volume_tombstones: dict[str, VolumeRec] = field(default_factory=dict)
    """Deleted volumes, kept for their bills (the account's billing records name them)."""

    def region(self, name: str) -> RegionCatalog | None:
        """A region's catalog, or None when the region does not exist."""
        return self.regions.get(name)
