"""Plain-data views of the simulator's state and request log, for the invariant checkers.

The checkers never touch the simulator: they take these frozen views, so a test can
also hand them a doctored view and see a violation reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from simulator.testing import SimHandle
from simulator.timeparse import parse_time

__all__ = [
    "MUTATING_METHODS",
    "ImageView",
    "InstanceView",
    "RequestRecord",
    "SnapshotView",
    "WorldView",
    "capture_world",
    "request_records",
]

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """One snapshot, deleted ones (tombstones) included."""

    id: str
    name: str
    instance_id: str | None
    description: str | None
    status: str
    created_at: datetime
    image_ids: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def ready(self) -> bool:
        """SUCCESS (or the legacy ``available``)."""
        return self.status.upper() in ("SUCCESS", "AVAILABLE")


@dataclass(frozen=True, slots=True)
class InstanceView:
    """One instance, deleted ones (tombstones) included."""

    id: str
    name: str
    status: str
    created_at: datetime
    snapshot_id: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class ImageView:
    """One custom image and the snapshot behind it."""

    id: str
    snapshot_id: str


@dataclass(frozen=True, slots=True)
class WorldView:
    """Everything the checkers need of the simulator at one moment."""

    now: datetime
    snapshots: Mapping[str, SnapshotView] = field(default_factory=dict)
    instances: Mapping[str, InstanceView] = field(default_factory=dict)
    images: Mapping[str, ImageView] = field(default_factory=dict)

    def live_snapshots(self) -> list[SnapshotView]:
        """Snapshots that are not deleted."""
        return [s for s in self.snapshots.values() if not s.deleted]

    def backing_image(self, snapshot_id: str) -> bool:
        """True when some image (now) is built from the snapshot."""
        return any(i.snapshot_id == snapshot_id for i in self.images.values())

    def instance_named(self, name: str) -> InstanceView | None:
        """The live instance called ``name``."""
        return next((i for i in self.instances.values() if i.name == name and not i.deleted), None)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One API request from the simulator's log (or a proxy's, tagged with its run)."""

    method: str
    path: str
    status: int
    time: datetime
    fault: str | None = None
    replayed: bool = False
    latency_ms: float = 0.0
    idempotency_key: str | None = None
    run: str | None = None

    @property
    def mutating(self) -> bool:
        """POST, PUT, PATCH or DELETE."""
        return self.method in MUTATING_METHODS

    @property
    def committed(self) -> bool:
        """The backend made the change: a success, a drop after commit, not a replay."""
        return self.status < 400 and not self.replayed and self.fault in (None, "drop")


def capture_world(sim: SimHandle) -> WorldView:
    """The simulator's state now (call it while nothing else drives the simulator)."""
    state = sim.runtime.backend.world.state
    snapshots: dict[str, SnapshotView] = {}
    for rec in [*state.snapshots.rows.values(), *state.snapshot_tombstones.values()]:
        snapshots[rec.id] = SnapshotView(
            id=rec.id,
            name=rec.name,
            instance_id=rec.instance_id,
            description=rec.description,
            status=rec.status,
            created_at=rec.created_at,
            image_ids=tuple(rec.image_ids),
            deleted=rec.deleted,
        )
    instances: dict[str, InstanceView] = {}
    for inst in state.instances.rows.values():
        instances[inst.id] = _instance(inst, deleted=False)
    for inst in state.instance_tombstones.values():
        instances.setdefault(inst.id, _instance(inst, deleted=True))
    images = {i.id: ImageView(i.id, i.snapshot_id) for i in state.images.rows.values()}
    return WorldView(
        now=sim.runtime.backend.world.now,
        snapshots=snapshots,
        instances=instances,
        images=images,
    )


def _instance(rec: Any, *, deleted: bool) -> InstanceView:
    return InstanceView(
        id=rec.id,
        name=rec.name,
        status="DELETED" if deleted else str(rec.status),
        created_at=rec.created_at,
        snapshot_id=rec.snapshot_id,
        deleted=deleted,
    )


def request_records(
    entries: Iterable[Mapping[str, Any]], run: str | None = None
) -> list[RequestRecord]:
    """The simulator's request log (``sim.requests()``) as records."""
    return [
        RequestRecord(
            method=str(e["method"]),
            path=str(e["path"]),
            status=int(e["status"]),
            time=parse_time(str(e["time"])),
            fault=e.get("fault"),
            replayed=bool(e.get("replayed")),
            latency_ms=float(e.get("latency_ms") or 0.0),
            idempotency_key=e.get("idempotency_key"),
            run=run,
        )
        for e in entries
    ]
