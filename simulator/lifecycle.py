"""Life cycles as transition tables (B4, B5): what may start from where, and how long it takes.

An action is allowed only from its ``sources``; it puts the resource in ``via`` (a
transitional state) at once and, after a duration drawn from ``seconds`` (fixed by the
seed), settles it in ``target``, or in ``ERROR`` when the step fails. Nothing is finished
at creation: creating is an action too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "FULL_RATE_STATUSES",
    "IMAGE_TRANSITIONS",
    "INSTANCE_TRANSITIONS",
    "SNAPSHOT_TRANSITIONS",
    "VOLUME_TRANSITIONS",
    "Transition",
]


@dataclass(frozen=True, slots=True)
class Transition:
    """One action of a life cycle.

    Attributes:
        action: its name (``"stop"``).
        sources: states it may start from (empty: it creates the resource).
        via: the transitional state while it runs.
        target: the state it settles in when it succeeds.
        seconds: the range its base duration is drawn from.
    """

    action: str
    sources: frozenset[str]
    via: str
    target: str
    seconds: tuple[float, float]


def _table(*transitions: Transition) -> dict[str, Transition]:
    return {t.action: t for t in transitions}


_SETTLED_INSTANCE: Final = frozenset({"ACTIVE", "SHUTOFF", "HIBERNATED", "ERROR"})

INSTANCE_TRANSITIONS: Final[dict[str, Transition]] = _table(
    Transition("deploy", frozenset(), "CREATING", "ACTIVE", (60, 180)),
    # A restore also copies the snapshot's disk: see ``restore_seconds`` in the backend.
    Transition("restore", frozenset(), "CREATING", "ACTIVE", (60, 120)),
    Transition("stop", frozenset({"ACTIVE"}), "STOPPING", "SHUTOFF", (10, 30)),
    Transition("start", frozenset({"SHUTOFF"}), "STARTING", "ACTIVE", (20, 50)),
    Transition("reboot", frozenset({"ACTIVE"}), "REBOOTING", "ACTIVE", (20, 60)),
    Transition("hibernate", frozenset({"ACTIVE"}), "HIBERNATING", "HIBERNATED", (60, 120)),
    Transition("hibernate_restore", frozenset({"HIBERNATED"}), "RESTORING", "ACTIVE", (60, 150)),
    Transition("delete", _SETTLED_INSTANCE, "DELETING", "DELETED", (5, 20)),
)
"""B4. Delete is allowed from any settled state (``DELETED`` itself is gone from the API)."""

SNAPSHOT_TRANSITIONS: Final[dict[str, Transition]] = _table(
    # Base time; the backend adds time in proportion to the stored size.
    Transition("create", frozenset(), "CREATING", "SUCCESS", (20, 40)),
)
"""B5. Delete is immediate, so it is not a transition."""

VOLUME_TRANSITIONS: Final[dict[str, Transition]] = _table(
    Transition("create", frozenset(), "CREATING", "AVAILABLE", (10, 30)),
    Transition("clone", frozenset(), "CREATING", "AVAILABLE", (20, 60)),
    Transition("resize", frozenset({"AVAILABLE", "IN_USE"}), "RESIZING", "AVAILABLE", (15, 45)),
)
"""Volumes (the project's choice): a resize settles back in ``IN_USE`` when attached."""

IMAGE_TRANSITIONS: Final[dict[str, Transition]] = _table(
    Transition("create", frozenset(), "CREATING", "ACTIVE", (60, 180)),
)
"""Custom images (the project's choice)."""

FULL_RATE_STATUSES: Final = frozenset({"ACTIVE", "SHUTOFF"})
"""A3: instance states billed at the full hourly price (HIBERNATED has its own rate)."""
