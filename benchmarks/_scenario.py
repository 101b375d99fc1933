"""The benchmark's fleet: N instances in their nightly steady state, as a scenario document.

The simulator's ``fleet`` generator makes unowned snapshots only, so a nightly run over it
would create but never prune. The benchmark needs the steady state of a customer who has
run the recipe for a week: every ``ACTIVE`` instance holds ``history_days`` snapshots made
by the ``nightly`` policy, one per day at the slot, so tonight's run creates one snapshot
and prunes one per instance. The document is JSON (which YAML reads too) built from the
same spread the generator uses: regions in turn, GPU models and counts drawn from a seeded
generator, 80 % ``ACTIVE``, 10 % ``SHUTOFF``, 10 % ``HIBERNATED``, and a third each of
idle, busy and spiky GPUs.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from simulator.seed_data import REGION_OFFERS

__all__ = ["FleetShape", "fleet_document", "instance_name", "nightly_slot"]

_REGIONS: Final = tuple(REGION_OFFERS)
_GPU_COUNTS: Final = (1, 1, 2, 4, 8)
_PRESETS: Final = ("idle", "busy", "spiky")
INSTANCE_AGE_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class FleetShape:
    """What the generated fleet holds (the floor and the per-instance figures use it).

    Attributes:
        instances: instances in all.
        active: ``ACTIVE`` instances (the only ones a snapshot can be taken of).
        idle_active: ``ACTIVE`` instances whose GPUs are idle (hibernate-idle acts on them).
        snapshots: snapshots at the start (every one owned by the ``nightly`` policy).
        history_days: owned snapshots per ``ACTIVE`` instance.
    """

    instances: int
    active: int
    idle_active: int
    snapshots: int
    history_days: int


def instance_name(n: int) -> str:
    """The name of the ``n``-th instance: ``node-00042``."""
    return f"node-{n:05d}"


def nightly_slot(start: datetime) -> datetime:
    """Tonight's slot for a scenario starting at ``start``: one minute after it.

    The history is one snapshot a day at this time of day on the days before; a slot at
    the start itself would not do, since an accelerated clock is already a little past
    the start when the scenario loads and the loader would count today as history.
    """
    return start.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _status(n: int) -> str:
    # Every tenth instance is stopped and every tenth (offset by five) hibernated: the
    # generator's 80/10/10 spread, without randomness so the counts are exact.
    if n % 10 == 3:
        return "SHUTOFF"
    if n % 10 == 8:
        return "HIBERNATED"
    return "ACTIVE"


def fleet_document(
    instances: int, *, slot: datetime, history_days: int = 7, seed: int = 1
) -> tuple[str, FleetShape]:
    """The scenario document and its shape.

    Args:
        instances: fleet size (>= 1).
        slot: the nightly slot the run will be for (UTC, whole minute); the history is one
            snapshot a day at this time of day on each of the ``history_days`` days before.
        history_days: owned snapshots per ``ACTIVE`` instance (>= 0).
        seed: fixes GPU models, counts and utilisation presets.

    Raises:
        ValueError: naming the bad argument.
    """
    if instances < 1:
        raise ValueError(f"instances: must be at least 1, got {instances}")
    if history_days < 0:
        raise ValueError(f"history_days: must not be negative, got {history_days}")
    rng = random.Random(f"benchmark-fleet:{seed}")
    spec_instances: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    active = idle_active = 0
    for n in range(instances):
        region = _REGIONS[n % len(_REGIONS)]
        status = _status(n)
        preset = _PRESETS[n % len(_PRESETS)]
        name = instance_name(n)
        spec_instances.append(
            {
                "name": name,
                "region": region,
                "gpu_model": rng.choice(REGION_OFFERS[region]),
                "gpu_count": rng.choice(_GPU_COUNTS),
                "status": status,
                "age": f"{INSTANCE_AGE_DAYS}d",
                "status_age": "3d",
                "utilization": {"preset": preset},
            }
        )
        if status == "ACTIVE":
            active += 1
            idle_active += preset == "idle"
            if history_days:
                series.append({"instance": name, "days": history_days, "slot": f"{slot:%H:%M}"})
    document = {
        "name": f"bench-fleet-{instances}",
        "seed": seed,
        # Enough credit for the whole fleet to run for weeks: a benchmark must not meet
        # the low-balance rules by accident (the low-balance recipe measures them on purpose).
        "account": {"currency": "USD", "runway_hours": 24 * 30},
        "ssh_keys": [{"name": "ops"}],
        "instances": spec_instances,
        "snapshot_series": series,
    }
    shape = FleetShape(
        instances=instances,
        active=active,
        idle_active=idle_active,
        snapshots=active * history_days,
        history_days=history_days,
    )
    return json.dumps(document, separators=(",", ":")), shape
