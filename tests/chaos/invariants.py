"""The invariants every chaos scenario must keep, as pure checker functions.

Each checker takes plain data (world views before and after, the request log, what the
reports say, what the notifications said) and returns the violations it finds, each
naming the invariant and the resource. An empty list means the invariant held.
The checkers decide by their own rules, never by calling the recipes' planners, so a
bug in a planner cannot hide from them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from tests.chaos.world import RequestRecord, SnapshotView, WorldView

__all__ = [
    "INTERNAL_ERRORS",
    "Checks",
    "RunOutcome",
    "Violation",
    "abandoned_calls_reported",
    "at_most_one_new_snapshot_per_instance",
    "at_most_one_restore_per_request",
    "at_most_one_snapshot_per_slot",
    "changes_accounted_for",
    "deletions_are_safe",
    "failed_runs_alerted",
    "failures_are_alerted",
    "no_action_on_protected_instances",
    "no_interleaving",
    "refused_runs_did_nothing",
    "runs_end_clearly",
    "snapshotted_before_hibernation",
]

_MARKER = re.compile(
    r"(?<!\S)managed-by=barrack-ops policy=(?P<policy>\S+) slot=(?P<slot>\S+)(?!\S)"
)
_SNAPSHOT_PATH = re.compile(r"^/api/snapshots/(?P<id>[^/]+)/$")
_INSTANCE_ACTION = re.compile(r"^/api/instances/(?P<id>[^/]+)/(?P<action>[a-z-]+)/$")
_INSTANCE_PATH = re.compile(r"^/api/instances/(?P<id>[^/]+)/$")

INTERNAL_ERRORS = (
    "KeyError",
    "TypeError",
    "AttributeError",
    "IndexError",
    "AssertionError",
    "UnboundLocalError",
    "NameError",
    "ZeroDivisionError",
    "RecursionError",
)
"""Exception names that mean a bug, never a clear error a person can act on."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant: which, and about what."""

    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


@dataclass
class Checks:
    """Runs checkers and keeps count: how many invariants were checked, what broke."""

    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    def add(self, found: Iterable[Violation]) -> list[Violation]:
        """Record one invariant check and what it found."""
        found = list(found)
        self.checked += 1
        self.violations.extend(found)
        return found


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How one flow run ended.

    Attributes:
        label: which run of the scenario (``first``, ``rerun``, ``overlap-b``...).
        state: ``COMPLETED``, ``FAILED``, ``CRASHED``, ``KILLED`` (on purpose) or
            ``TIMED_OUT`` (it outlived its budget and was stopped).
        error: the failure in words (the exception, or the Prefect state message).
        flow_run_id: the Prefect flow run, when known.
        elapsed: real seconds it ran.
        budget: real seconds it was allowed.
    """

    label: str
    state: str
    error: str = ""
    flow_run_id: str | None = None
    elapsed: float = 0.0
    budget: float = 0.0


# -- helpers -------------------------------------------------------------------------------


def _owned_slot(snapshot: SnapshotView, policy: str) -> str | None:
    match = _MARKER.search(snapshot.description or "")
    if match is None or match["policy"] != policy:
        return None
    return match["slot"]


def _deleted_during(before: WorldView, after: WorldView) -> list[SnapshotView]:
    """Snapshots live before (or made since) and deleted by the end."""
    return [
        s
        for s in after.snapshots.values()
        if s.deleted and not (s.id in before.snapshots and before.snapshots[s.id].deleted)
    ]


def _committed(requests: Iterable[RequestRecord]) -> list[RequestRecord]:
    return [r for r in requests if r.mutating and r.committed]


# -- the invariants -------------------------------------------------------------------------


def at_most_one_snapshot_per_slot(after: WorldView, policy: str) -> list[Violation]:
    """At most one snapshot per instance per schedule slot (deleted ones counted too)."""
    per_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    for snap in after.snapshots.values():
        slot = _owned_slot(snap, policy)
        if slot is not None and snap.instance_id:
            per_slot[(snap.instance_id, slot)].append(snap.name)
    return [
        Violation("one snapshot per slot", f"{instance} slot {slot}: {sorted(names)}")
        for (instance, slot), names in sorted(per_slot.items())
        if len(names) > 1
    ]


def at_most_one_new_snapshot_per_instance(
    before: WorldView, after: WorldView, *, prefix: str
) -> list[Violation]:
    """At most one new snapshot named ``<prefix>...`` per instance (one run key: one ``now``)."""
    made: dict[str, list[str]] = defaultdict(list)
    for snap in after.snapshots.values():
        if snap.id not in before.snapshots and snap.name.startswith(prefix) and snap.instance_id:
            made[snap.instance_id].append(snap.name)
    return [
        Violation("one new snapshot per instance", f"{instance}: {sorted(names)}")
        for instance, names in sorted(made.items())
        if len(names) > 1
    ]


def deletions_are_safe(
    before: WorldView,
    after: WorldView,
    *,
    policy: str,
    keep_daily: int,
    planned: Collection[str] | None,
) -> list[Violation]:
    """No deletion of a snapshot that is unowned, the newest, backing an image or unplanned.

    Args:
        before: the world before the scenario.
        after: the world after it.
        policy: the nightly policy whose snapshots may be pruned.
        keep_daily: the policy's ``keep_daily``: a deleted snapshot must leave at least this
            many newer ready owned snapshots of its instance, on distinct days.
        planned: ids some run's report planned to delete (None: no report to compare with,
            for example after a kill).
    """
    found: list[Violation] = []
    everything = list(before.snapshots.values()) + [
        s for s in after.snapshots.values() if s.id not in before.snapshots
    ]
    for gone in _deleted_during(before, after):
        label = f"{gone.name} ({gone.id})"
        if _owned_slot(gone, policy) is None:
            found.append(Violation("delete only owned", f"{label} is not owned by {policy}"))
        was = before.snapshots.get(gone.id)
        if gone.image_ids or (was is not None and was.image_ids) or after.backing_image(gone.id):
            found.append(Violation("never delete image backing", f"{label} backs an image"))
        ready = [s for s in everything if s.instance_id == gone.instance_id and s.ready]
        if ready and max(ready, key=lambda s: (s.created_at, s.id)).id == gone.id:
            found.append(Violation("never delete the newest", f"{label} was the newest ready"))
        newer_days = {
            s.created_at.date()
            for s in after.live_snapshots()
            if s.instance_id == gone.instance_id
            and s.ready
            and _owned_slot(s, policy) is not None
            and s.created_at.date() > gone.created_at.date()
        }
        if len(newer_days) < keep_daily:
            found.append(
                Violation(
                    "keep the retention window",
                    f"{label}: only {len(newer_days)} newer day(s) kept, policy keeps {keep_daily}",
                )
            )
        if planned is not None and gone.id not in planned:
            found.append(Violation("delete only what the plan says", f"{label} not in a plan"))
    return found


def no_action_on_protected_instances(
    requests: Iterable[RequestRecord],
    names: Mapping[str, str],
    protected: Mapping[str, str],
    actions: Collection[str] = ("hibernate", "stop"),
) -> list[Violation]:
    """No hibernation (or stop) of a busy, exempt, snoozed or otherwise protected instance.

    Args:
        requests: the request log.
        names: instance names by id.
        protected: why each protected instance (by name) must be left alone.
        actions: the instance actions that count.
    """
    found = []
    for request in _committed(requests):
        match = _INSTANCE_ACTION.match(request.path)
        if match is None or match["action"] not in actions:
            continue
        name = names.get(match["id"], match["id"])
        if name in protected:
            found.append(
                Violation(
                    "leave protected instances alone",
                    f"{match['action']} of {name}, which is {protected[name]}",
                )
            )
    return found


def snapshotted_before_hibernation(
    before: WorldView,
    after: WorldView,
    requests: Iterable[RequestRecord],
    at_risk: Collection[str],
) -> list[Violation]:
    """An instance whose data was at risk is hibernated only after a new snapshot is ready.

    Args:
        before: the world before the scenario.
        after: the world after it.
        requests: the request log.
        at_risk: ids of instances with no recent ready snapshot before the scenario.
    """
    found = []
    for request in _committed(requests):
        match = _INSTANCE_ACTION.match(request.path)
        if match is None or match["action"] not in ("hibernate", "stop"):
            continue
        instance_id = match["id"]
        if instance_id not in at_risk:
            continue
        fresh = [
            s
            for s in after.snapshots.values()
            if s.instance_id == instance_id
            and s.id not in before.snapshots
            and s.ready
            and s.created_at <= request.time
        ]
        if not fresh:
            found.append(
                Violation(
                    "snapshot data at risk first",
                    f"{instance_id} hibernated at {request.time:%H:%M:%S} without a new snapshot",
                )
            )
    return found


def at_most_one_restore_per_request(
    before: WorldView, after: WorldView, snapshot_id: str
) -> list[Violation]:
    """At most one instance restored from ``snapshot_id`` for the one request of a scenario."""
    made = [
        i
        for i in after.instances.values()
        if i.id not in before.instances and i.snapshot_id == snapshot_id
    ]
    if len(made) <= 1:
        return []
    listed = ", ".join(f"{i.name} ({i.id}, {i.status})" for i in made)
    return [Violation("one restored instance per request", f"{len(made)} made: {listed}")]


def changes_accounted_for(
    before: WorldView,
    after: WorldView,
    requests: Iterable[RequestRecord],
    reported: Collection[str],
    *,
    kinds: Collection[str] = ("snapshot", "instance", "delete", "hibernate"),
) -> list[Violation]:
    """Nothing lost: every change the API made is in some run's report.

    New snapshots and instances (made since ``before``) and the resources of every
    committed delete or instance action must be among the ids the reports name as done.

    Args:
        before: the world before the scenario.
        after: the world after it.
        requests: the request log.
        reported: ids the reports name as created, adopted, deleted or acted on.
        kinds: which changes to check (``snapshot``, ``instance``: new resources;
            ``delete``, ``hibernate``: committed requests on a resource).
    """
    found = []
    if "snapshot" in kinds:
        for snap in after.snapshots.values():
            if snap.id not in before.snapshots and snap.id not in reported:
                found.append(Violation("report every change", f"snapshot {snap.name} unreported"))
    if "instance" in kinds:
        for inst in after.instances.values():
            if inst.id not in before.instances and inst.id not in reported:
                found.append(Violation("report every change", f"instance {inst.name} unreported"))
    for request in _committed(requests):
        target = _target(request)
        if target is None:
            continue
        kind, resource = target
        if kind in kinds and resource not in reported:
            found.append(
                Violation(
                    "report every change", f"{request.method} {request.path} done, not reported"
                )
            )
    return found


def _target(request: RequestRecord) -> tuple[str, str] | None:
    if request.method == "DELETE":
        match = _SNAPSHOT_PATH.match(request.path) or _INSTANCE_PATH.match(request.path)
        return ("delete", match["id"]) if match else None
    match = _INSTANCE_ACTION.match(request.path)
    if request.method == "POST" and match and match["action"] in ("hibernate", "stop"):
        return ("hibernate", match["id"])
    return None


def abandoned_calls_reported(
    requests: Iterable[RequestRecord], accounted: Collection[str]
) -> list[Violation]:
    """Every failure visible: a resource whose every delete or action attempt failed is in
    the report (failed, refused or skipped, with its reason)."""
    attempts: dict[tuple[str, str], list[RequestRecord]] = defaultdict(list)
    for request in requests:
        target = _target(request)
        if target is not None:
            attempts[target].append(request)
    found = []
    for (kind, resource), tries in sorted(attempts.items()):
        done = any(t.committed or t.status == 404 for t in tries)
        if not done and resource not in accounted:
            statuses = ",".join(str(t.status) for t in tries)
            found.append(
                Violation(
                    "report every failure",
                    f"{kind} of {resource} failed ({statuses}) and the report does not say so",
                )
            )
    return found


def failures_are_alerted(
    failed: Iterable[str], notifications: Iterable[str], *, report_text: str
) -> list[Violation]:
    """Every failed resource is named in the report and in an alert.

    Args:
        failed: names of the resources the report marks failed.
        notifications: the text (title and body) of every notification received.
        report_text: the report's Markdown.
    """
    texts = list(notifications)
    found = []
    for name in failed:
        if name not in report_text:
            found.append(Violation("failures in the report", f"{name} not in the report"))
        if not any(name in text for text in texts):
            found.append(Violation("failures alerted", f"no notification names {name}"))
    return found


def failed_runs_alerted(
    outcomes: Iterable[RunOutcome], flow_name: str, titles: Iterable[str]
) -> list[Violation]:
    """A run that failed sent the ``flow-failed`` alert (its failure is never silent)."""
    titles = list(titles)
    return [
        Violation("failed runs alerted", f"run {o.label} failed and no alert says so")
        for o in outcomes
        if o.state == "FAILED" and not any(f"Flow {flow_name} failed" in t for t in titles)
    ]


def runs_end_clearly(
    outcomes: Iterable[RunOutcome],
    *,
    clear: Callable[[str], bool] | None = None,
) -> list[Violation]:
    """Each run finishes, or fails with a clear error, within its time budget.

    A run killed on purpose is exempt; a run stopped at its budget, a crash, or a failure
    whose error is empty or a Python internal error (a bug, not a message) is a violation.
    """
    found = []
    for outcome in outcomes:
        label = f"run {outcome.label}"
        if outcome.state == "KILLED":
            continue
        if outcome.state == "TIMED_OUT":
            found.append(
                Violation(
                    "finish within budget", f"{label} still running after {outcome.budget:g} s"
                )
            )
        elif outcome.state not in ("COMPLETED", "FAILED"):
            found.append(Violation("finish or fail clearly", f"{label} ended {outcome.state}"))
        elif outcome.state == "FAILED":
            error = outcome.error.strip()
            if not error:
                found.append(Violation("fail with a clear error", f"{label} failed without a word"))
            elif any(name in error for name in INTERNAL_ERRORS) or (clear and not clear(error)):
                found.append(Violation("fail with a clear error", f"{label}: {error[:300]}"))
    return found


def no_interleaving(
    runs: Mapping[str, Iterable[tuple[float, float, bool]]],
) -> list[Violation]:
    """Two overlapping runs of a recipe never act at the same time.

    Args:
        runs: for each run, its API requests as ``(started, ended, mutating)`` (real time).
            A run that acted must have made all its requests after every request of the
            other, or before it: one holds the scope while the other waits or gives up.
    """
    spans: dict[str, tuple[float, float]] = {}
    acted: dict[str, bool] = {}
    for name, requests in runs.items():
        listed = list(requests)
        if listed:
            spans[name] = (min(r[0] for r in listed), max(r[1] for r in listed))
            acted[name] = any(r[2] for r in listed)
    found = []
    names = sorted(spans)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            (a0, a1), (b0, b1) = spans[first], spans[second]
            if a0 < b1 and b0 < a1 and (acted[first] or acted[second]):
                found.append(
                    Violation(
                        "no overlapping action",
                        f"runs {first} and {second} were both at the API between "
                        f"{max(a0, b0):.2f} and {min(a1, b1):.2f}",
                    )
                )
    return found


def refused_runs_did_nothing(
    refused: Collection[str], runs: Mapping[str, Iterable[tuple[float, float, bool]]]
) -> list[Violation]:
    """A run the guard turned away made no API call at all."""
    found = []
    for name in sorted(refused):
        calls = list(runs.get(name, ()))
        if calls:
            found.append(
                Violation("a refused run does nothing", f"run {name} made {len(calls)} call(s)")
            )
    return found
