"""Which snapshots to keep: the retention policy and the pure planner that applies it.

The rules follow restic's ``forget``; the safety nets follow AWS Data Lifecycle Manager.

Rules (restic semantics). Only the *candidates* count: snapshots of the instance that
this policy made (``owned``), that are ready (``SUCCESS``, legacy ``available``) and that
back no custom image. Walking the candidates newest first, each calendar rule keeps the
newest snapshot of each bucket it meets, until it has kept ``N`` buckets:

* buckets are periods that *contain a candidate*, so missing days are skipped, not
  counted (``keep_daily=7`` keeps the newest snapshot of the 7 latest days that have one);
* buckets are computed in the policy's time zone: the local hour (with its UTC offset,
  so the repeated hour of a fall-back change is two buckets), the local date, the ISO
  week (``2026-W53``: ISO week-year, Monday first), the month and the year;
* ``keep_last=N`` keeps the N newest candidates; ``keep_within=D`` keeps every candidate
  taken less than ``D`` before the newest candidate (relative to the snapshots, never to
  the clock, so a plan is reproducible);
* ``-1`` means "unlimited": every bucket is kept, as in restic;
* rules are OR-ed: a snapshot kept by any rule is kept, and every rule that keeps it is
  named in its reasons.

Safety (DLM's bar). Whatever the rules say:

* a snapshot this policy did not make, one that is not ready, and one backing a custom
  image are always kept and never counted in a bucket;
* the newest ready snapshot of an instance (owned or not) is never deleted;
* when pruning of an instance is suspended (its snapshot of this run failed, or its
  freshness is critical), nothing of it is deleted;
* across the fleet, more deletions than ``max_deletions`` delete nothing at all; the plan
  carries a ``blocked`` reason for a critical alert;
* a policy with every rule off is refused rather than read as "keep nothing".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from barrack.models._base import RequestModel
from flows.nightly_snapshots.schedule import load_timezone

__all__ = [
    "PRESETS",
    "READY_STATUSES",
    "REASON_BACKS_IMAGE",
    "REASON_NEWEST",
    "REASON_NOT_OWNED",
    "REASON_NO_RULE",
    "UNLIMITED",
    "Action",
    "Decision",
    "FleetPlan",
    "InstancePlan",
    "RetentionPolicy",
    "SnapshotRecord",
    "format_duration",
    "parse_duration",
    "plan_fleet",
    "plan_instance",
]

READY_STATUSES: Final = frozenset({"SUCCESS", "AVAILABLE"})
"""Statuses (upper-cased) that mean a snapshot is ready: ``SUCCESS`` and legacy ``available``."""

UNLIMITED: Final = -1
"""A rule count that keeps every bucket (restic's ``-1``)."""

# ---------------------------------------------------------------------------------------
# Durations for keep_within: "7d", "36h", "2w3d", "1d12h".
# ---------------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+)([a-zA-Z]+)")
_DURATION_UNITS: Final = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_DURATION_HELP = (
    "use weeks, days and hours such as '7d', '36h' or '2w3d'; months and years are not "
    "accepted because their length varies (write '30d' or '365d', or use keep_monthly / "
    "keep_yearly)"
)


def parse_duration(text: str) -> timedelta:
    """Read a compact duration made of weeks, days and hours.

    Args:
        text: e.g. ``"7d"``, ``"36h"``, ``"2w3d"``, ``"1d12h"`` (blanks allowed between parts).

    Returns:
        The duration.

    Raises:
        ValueError: an empty text, an unknown unit (``m`` and ``y`` included: a month or a
            year has no fixed length) or anything that is not ``<number><unit>`` pairs.

    Example:
        >>> parse_duration("2w3d")
        datetime.timedelta(days=17)
    """
    compact = "".join(text.split())
    if not compact:
        raise ValueError(f"empty duration; {_DURATION_HELP}")
    total = timedelta(0)
    position = 0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit not in _DURATION_UNITS:
            raise ValueError(f"{text!r}: unknown unit {match.group(2)!r}; {_DURATION_HELP}")
        total += amount * _DURATION_UNITS[unit]
        position = match.end()
    if position != len(compact):
        raise ValueError(f"{text!r} is not a duration; {_DURATION_HELP}")
    return total


def format_duration(value: timedelta) -> str:
    """Write a whole number of hours compactly, the inverse of :func:`parse_duration`.

    Example:
        >>> format_duration(timedelta(days=1, hours=12))
        '1d12h'
    """
    hours = int(value.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "")
    return text or "0h"


def _read_keep_within(value: Any) -> Any:
    """Parse the compact form; leave ISO 8601 (``P7D``, how JSON carries it) to pydantic."""
    if isinstance(value, str) and not value.strip().upper().startswith(("P", "-P")):
        return parse_duration(value)
    return value


def _reject_bool(value: Any) -> Any:
    """Refuse booleans, which pydantic would otherwise read as 0 or 1."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    return value


KeepCount = Annotated[int, BeforeValidator(_reject_bool), Field(ge=UNLIMITED)]
"""A rule count: 0 turns the rule off, -1 keeps every bucket."""

KeepWithin = Annotated[
    timedelta | None,
    BeforeValidator(_read_keep_within),
    PlainSerializer(
        lambda value: None if value is None else format_duration(value),
        return_type=str | None,
        when_used="json",
    ),
]
"""A positive whole number of hours, written ``"7d"``, ``"36h"``, ``"2w3d"`` (or ISO 8601)."""


# ---------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------

_COUNT_RULES: Final = (
    "keep_last",
    "keep_hourly",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "keep_yearly",
)

PRESETS: Final[Mapping[str, Mapping[str, int]]] = MappingProxyType(
    {
        # A safety net while trying the recipe out: the three newest snapshots.
        "minimal": MappingProxyType({"keep_last": 3}),
        # A working week of dailies, a month of weeklies, half a year of monthlies:
        # 17 snapshots at most per instance once it has run for six months.
        "standard": MappingProxyType({"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 6}),
        # Audit-friendly: a month of dailies, a quarter of weeklies, two years of
        # monthlies and seven years of yearlies (a common record-keeping horizon).
        "compliance": MappingProxyType(
            {"keep_daily": 30, "keep_weekly": 12, "keep_monthly": 24, "keep_yearly": 7}
        ),
    }
)
"""Named starting points for :meth:`RetentionPolicy.from_preset`."""


class RetentionPolicy(RequestModel):
    """Which snapshots made by a policy survive pruning (restic's ``forget`` rules).

    Every rule is off by default and the rules are OR-ed; at least one must be on.

    Example:
        >>> RetentionPolicy(keep_daily=7, keep_weekly=4, timezone="Europe/Oslo").describe()
        'daily 7, weekly 4 (buckets in Europe/Oslo)'
    """

    model_config = ConfigDict(frozen=True)

    keep_last: KeepCount = Field(
        default=0, description="Keep the N newest snapshots (0 = off, -1 = all)."
    )
    keep_hourly: KeepCount = Field(
        default=0,
        description="Keep the newest snapshot of each of the last N hours that have one "
        "(0 = off, -1 = every hour).",
    )
    keep_daily: KeepCount = Field(
        default=0,
        description="Keep the newest snapshot of each of the last N days that have one "
        "(0 = off, -1 = every day).",
    )
    keep_weekly: KeepCount = Field(
        default=0,
        description="Keep the newest snapshot of each of the last N ISO weeks that have one "
        "(0 = off, -1 = every week).",
    )
    keep_monthly: KeepCount = Field(
        default=0,
        description="Keep the newest snapshot of each of the last N months that have one "
        "(0 = off, -1 = every month).",
    )
    keep_yearly: KeepCount = Field(
        default=0,
        description="Keep the newest snapshot of each of the last N years that have one "
        "(0 = off, -1 = every year).",
    )
    keep_within: KeepWithin = Field(
        default=None,
        description="Keep every snapshot taken less than this long before the newest one, "
        "in weeks, days and hours: '7d', '36h', '2w3d' (empty = off).",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone the hour, day, week, month and year buckets are "
        "computed in, e.g. 'Europe/Oslo'.",
    )

    @field_validator("keep_within")
    @classmethod
    def _check_keep_within(cls, value: timedelta | None) -> timedelta | None:
        if value is None:
            return None
        if value <= timedelta(0):
            raise ValueError("must be positive; leave it empty to turn the rule off")
        if value % timedelta(hours=1):
            raise ValueError(f"must be a whole number of hours, got {value}")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        load_timezone(value)
        return value

    @model_validator(mode="after")
    def _refuse_empty(self) -> RetentionPolicy:
        if not self.is_active:
            raise ValueError(
                "empty retention policy: every rule is off, which would leave nothing to "
                "keep; set at least one of " + ", ".join(_COUNT_RULES) + " or keep_within"
            )
        return self

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> RetentionPolicy:
        """Build a policy from a named preset, with some fields replaced.

        Args:
            name: a key of :data:`PRESETS` (``minimal``, ``standard``, ``compliance``).
            **overrides: fields to set on top, e.g. ``timezone="Europe/Oslo"`` or
                ``keep_daily=14``; an unknown field is an error.

        Raises:
            ValueError: an unknown preset (pydantic's ``ValidationError``, a ValueError,
                for bad overrides).

        Example:
            >>> RetentionPolicy.from_preset("standard", keep_daily=14).keep_daily
            14
        """
        if name not in PRESETS:
            raise ValueError(
                f"preset: {name!r} is not a preset; choose one of {', '.join(sorted(PRESETS))}"
            )
        return cls.model_validate({**PRESETS[name], **overrides})

    @property
    def is_active(self) -> bool:
        """True when at least one rule is on."""
        return self.keep_within is not None or any(getattr(self, r) for r in _COUNT_RULES)

    @property
    def zone(self) -> ZoneInfo:
        """The policy's time zone."""
        return load_timezone(self.timezone)

    def describe(self) -> str:
        """One line naming the rules that are on, for reports."""
        parts = [
            f"{rule.removeprefix('keep_')} {_limit_text(getattr(self, rule))}"
            for rule in _COUNT_RULES
            if getattr(self, rule)
        ]
        if self.keep_within is not None:
            parts.append(f"within {format_duration(self.keep_within)}")
        return f"{', '.join(parts)} (buckets in {self.timezone})"


# ---------------------------------------------------------------------------------------
# Snapshots in, decisions out
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """What the planner needs to know about one snapshot (built by the flow from the API).

    ``owned`` and ``backs_image`` have no default on purpose: the flow must decide them
    (ownership from the description marker, see ``ownership.py``; image backing from
    ``has_image`` or the snapshot-image relationship).

    Attributes:
        id: snapshot id.
        name: snapshot name.
        instance_id: the instance it was taken from.
        instance_name: that instance's name.
        region: the snapshot's region.
        status: as the API reports it (``SUCCESS``, ``available``, ``CREATING``, ...).
        created_at: creation time, timezone-aware (stored in UTC).
        owned: made by the policy being applied.
        backs_image: a custom image is built on it.
    """

    id: str
    name: str
    instance_id: str
    instance_name: str
    region: str
    status: str
    created_at: datetime
    owned: bool
    backs_image: bool

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("id: must not be empty")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise ValueError(f"created_at: snapshot {self.id} has a naive datetime")
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))

    @property
    def is_ready(self) -> bool:
        """True when the snapshot is ``SUCCESS`` (or the legacy ``available``)."""
        return self.status.upper() in READY_STATUSES


class Action(StrEnum):
    """What happens to a snapshot."""

    KEEP = "keep"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Decision:
    """Keep or delete one snapshot, and every reason why."""

    snapshot: SnapshotRecord
    action: Action
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        """The reasons as one line."""
        return "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class InstancePlan:
    """The decisions for one instance's snapshots, newest first.

    Attributes:
        instance_id: the instance.
        instance_name: its name, as the newest snapshot records it.
        region: the newest snapshot's region.
        decisions: one per snapshot, newest first (ties broken by id).
        suspended_reason: why pruning was suspended, or None.
    """

    instance_id: str
    instance_name: str
    region: str
    decisions: tuple[Decision, ...]
    suspended_reason: str | None = None

    @property
    def deletions(self) -> tuple[Decision, ...]:
        """The decisions to delete."""
        return tuple(d for d in self.decisions if d.action is Action.DELETE)

    @property
    def keeps(self) -> tuple[Decision, ...]:
        """The decisions to keep."""
        return tuple(d for d in self.decisions if d.action is Action.KEEP)

    @property
    def delete_count(self) -> int:
        """How many snapshots this plan deletes."""
        return sum(d.action is Action.DELETE for d in self.decisions)

    @property
    def keep_count(self) -> int:
        """How many snapshots this plan keeps."""
        return len(self.decisions) - self.delete_count


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """The plans of every instance, with the fleet-wide ``max_deletions`` guard applied.

    Attributes:
        instances: one plan per instance, ordered by instance id.
        max_deletions: the guard that was applied (None: no limit).
        requested_deletions: how many deletions the rules asked for, before the guard.
        blocked: why nothing is deleted (the guard tripped), or None.
    """

    instances: tuple[InstancePlan, ...]
    max_deletions: int | None
    requested_deletions: int
    blocked: str | None = None
    _by_id: Mapping[str, InstancePlan] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "_by_id", MappingProxyType({p.instance_id: p for p in self.instances})
        )

    @property
    def by_instance(self) -> Mapping[str, InstancePlan]:
        """The instance plans, by instance id."""
        return self._by_id

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """Every decision, instance by instance, newest first within an instance."""
        return tuple(d for plan in self.instances for d in plan.decisions)

    @property
    def deletions(self) -> tuple[Decision, ...]:
        """The decisions to delete (empty when blocked)."""
        return tuple(d for plan in self.instances for d in plan.deletions)

    @property
    def keeps(self) -> tuple[Decision, ...]:
        """The decisions to keep."""
        return tuple(d for plan in self.instances for d in plan.keeps)

    @property
    def delete_count(self) -> int:
        """How many snapshots this plan deletes."""
        return sum(plan.delete_count for plan in self.instances)

    @property
    def keep_count(self) -> int:
        """How many snapshots this plan keeps."""
        return sum(plan.keep_count for plan in self.instances)


# Reasons, worded once so reports and tests agree.
REASON_NOT_OWNED: Final = "not made by this policy"
REASON_BACKS_IMAGE: Final = "backs a custom image"
REASON_NEWEST: Final = "newest SUCCESS snapshot (never deleted)"
REASON_NO_RULE: Final = "no rule keeps it"


def plan_instance(
    snapshots: Iterable[SnapshotRecord],
    policy: RetentionPolicy,
    *,
    suspend_pruning_reason: str | None = None,
) -> InstancePlan:
    """Decide keep or delete, with reasons, for every snapshot of ONE instance.

    Pure and deterministic: no clock, and the input order does not matter.

    Args:
        snapshots: every snapshot of the instance the flow knows of (owned or not, any
            status).
        policy: the retention rules.
        suspend_pruning_reason: when given, nothing is deleted and the snapshots that
            would have been are kept with ``"pruning suspended: <reason>"``.

    Returns:
        The instance's plan, decisions newest first.

    Raises:
        ValueError: no snapshots, snapshots of several instances, or a repeated id.

    Example:
        >>> taken = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
        >>> record = SnapshotRecord("s1", "auto-a-20261120-0200", "i-1", "a", "NORWAY-1",
        ...                         "SUCCESS", taken, owned=True, backs_image=False)
        >>> plan_instance([record], RetentionPolicy(keep_daily=7)).decisions[0].reasons
        ('newest SUCCESS snapshot (never deleted)', 'daily bucket 2026-11-20 (1/7)')
    """
    ordered = _newest_first(snapshots)
    if not ordered:
        raise ValueError("snapshots: an instance plan needs at least one snapshot")
    instance_ids = {s.instance_id for s in ordered}
    if len(instance_ids) > 1:
        raise ValueError(f"snapshots: plan_instance takes one instance, got {sorted(instance_ids)}")

    rule_reasons = _rule_reasons(
        [s for s in ordered if s.owned and s.is_ready and not s.backs_image], policy
    )
    newest_ready = next((s for s in ordered if s.is_ready), None)
    decisions = []
    for snapshot in ordered:
        reasons = _protections(snapshot, newest_ready) + rule_reasons.get(snapshot.id, [])
        if reasons:
            decisions.append(Decision(snapshot, Action.KEEP, tuple(reasons)))
        elif suspend_pruning_reason is not None:
            suspended = f"pruning suspended: {suspend_pruning_reason}"
            decisions.append(Decision(snapshot, Action.KEEP, (REASON_NO_RULE, suspended)))
        else:
            decisions.append(Decision(snapshot, Action.DELETE, (REASON_NO_RULE,)))
    newest = ordered[0]
    return InstancePlan(
        instance_id=newest.instance_id,
        instance_name=newest.instance_name,
        region=newest.region,
        decisions=tuple(decisions),
        suspended_reason=suspend_pruning_reason,
    )


def plan_fleet(
    snapshots: Mapping[str, Sequence[SnapshotRecord]] | Iterable[SnapshotRecord],
    policy: RetentionPolicy,
    *,
    max_deletions: int | None = None,
    suspended: Mapping[str, str] | None = None,
) -> FleetPlan:
    """Plan every instance, then refuse to delete anything if there is too much to delete.

    Args:
        snapshots: a flat list of snapshots, or snapshots keyed by instance id (a key
            must match its snapshots' ``instance_id``; an empty list plans nothing).
        policy: the retention rules.
        max_deletions: when the rules ask for more deletions than this across the fleet,
            nothing is deleted: each would-be deletion is kept with the reason
            ``"blocked: N deletions exceed max_deletions=M"`` and the plan's ``blocked``
            says the same. None means no limit.
        suspended: instance id -> why its pruning is suspended (its snapshot of this run
            failed, its freshness is critical). Ids without snapshots are ignored.

    Returns:
        The fleet plan, instances ordered by id.

    Raises:
        ValueError: a negative ``max_deletions``, a repeated snapshot id, or a key that
            does not match its snapshots.
    """
    if max_deletions is not None and max_deletions < 0:
        raise ValueError(f"max_deletions: must be >= 0 or None, got {max_deletions}")
    suspended = suspended or {}
    groups = _group_by_instance(snapshots)
    plans = [
        plan_instance(group, policy, suspend_pruning_reason=suspended.get(instance_id))
        for instance_id, group in sorted(groups.items())
    ]
    requested = sum(plan.delete_count for plan in plans)
    if max_deletions is None or requested <= max_deletions:
        return FleetPlan(tuple(plans), max_deletions, requested)
    blocked = f"blocked: {requested} deletions exceed max_deletions={max_deletions}"
    return FleetPlan(
        tuple(_block(plan, blocked) for plan in plans), max_deletions, requested, blocked
    )


def _newest_first(snapshots: Iterable[SnapshotRecord]) -> list[SnapshotRecord]:
    """Sort newest first, ties broken by id so the input order never matters."""
    ordered = sorted(snapshots, key=lambda s: (s.created_at, s.id), reverse=True)
    seen: set[str] = set()
    for snapshot in ordered:
        if snapshot.id in seen:
            raise ValueError(f"snapshots: id {snapshot.id!r} appears more than once")
        seen.add(snapshot.id)
    return ordered


def _group_by_instance(
    snapshots: Mapping[str, Sequence[SnapshotRecord]] | Iterable[SnapshotRecord],
) -> dict[str, list[SnapshotRecord]]:
    """Group snapshots by instance id, checking keys and ids."""
    groups: dict[str, list[SnapshotRecord]] = {}
    if isinstance(snapshots, Mapping):
        for key, group in snapshots.items():
            for snapshot in group:
                if snapshot.instance_id != key:
                    raise ValueError(
                        f"snapshots[{key!r}]: snapshot {snapshot.id!r} belongs to "
                        f"instance {snapshot.instance_id!r}"
                    )
                groups.setdefault(key, []).append(snapshot)
    else:
        for snapshot in snapshots:
            groups.setdefault(snapshot.instance_id, []).append(snapshot)
    _newest_first(s for group in groups.values() for s in group)  # fleet-wide id check
    return groups


def _protections(snapshot: SnapshotRecord, newest_ready: SnapshotRecord | None) -> list[str]:
    """The safety reasons that keep a snapshot whatever the rules say."""
    reasons = []
    if not snapshot.owned:
        reasons.append(REASON_NOT_OWNED)
    if not snapshot.is_ready:
        reasons.append(f"not ready ({snapshot.status})")
    if snapshot.backs_image:
        reasons.append(REASON_BACKS_IMAGE)
    if snapshot is newest_ready:
        reasons.append(REASON_NEWEST)
    return reasons


def _rule_reasons(
    candidates: list[SnapshotRecord], policy: RetentionPolicy
) -> dict[str, list[str]]:
    """Apply the rules to the candidates (newest first): snapshot id -> reasons to keep."""
    reasons: dict[str, list[str]] = {}
    local_times = [s.created_at.astimezone(policy.zone) for s in candidates]
    # keep_last is a bucket rule too: each snapshot is its own bucket.
    for snapshot, _, count in _walk_buckets(
        candidates, [s.id for s in candidates], policy.keep_last
    ):
        reasons.setdefault(snapshot.id, []).append(f"last snapshots {count}")
    calendar: list[tuple[str, int, Callable[[datetime], str]]] = [
        ("hourly", policy.keep_hourly, _hour_bucket),
        ("daily", policy.keep_daily, lambda local: local.date().isoformat()),
        ("weekly", policy.keep_weekly, _week_bucket),
        ("monthly", policy.keep_monthly, lambda local: f"{local:%Y-%m}"),
        ("yearly", policy.keep_yearly, lambda local: f"{local:%Y}"),
    ]
    for rule, limit, bucket_of in calendar:
        buckets = [bucket_of(local) for local in local_times]
        for snapshot, bucket, count in _walk_buckets(candidates, buckets, limit):
            reasons.setdefault(snapshot.id, []).append(f"{rule} bucket {bucket} {count}")
    if policy.keep_within is not None and candidates:
        # Strictly newer than (newest - duration), as restic does.
        horizon = candidates[0].created_at - policy.keep_within
        text = f"within {format_duration(policy.keep_within)} of newest"
        for snapshot in candidates:
            if snapshot.created_at > horizon:
                reasons.setdefault(snapshot.id, []).append(text)
    return reasons


def _walk_buckets(
    candidates: list[SnapshotRecord], buckets: list[str], limit: int
) -> Iterator[tuple[SnapshotRecord, str, str]]:
    """Yield (newest snapshot of the bucket, bucket, "(i/N)") for the first N buckets met."""
    if limit == 0:
        return
    seen: set[str] = set()
    for snapshot, bucket in zip(candidates, buckets, strict=True):
        if limit != UNLIMITED and len(seen) >= limit:
            return
        if bucket in seen:
            continue  # an older snapshot of a bucket whose newest is already kept
        seen.add(bucket)
        yield snapshot, bucket, f"({len(seen)}/{_limit_text(limit)})"


def _hour_bucket(local: datetime) -> str:
    """The local hour with its offset, so a repeated fall-back hour is two buckets."""
    return local.replace(minute=0, second=0, microsecond=0).isoformat(timespec="minutes")


def _week_bucket(local: datetime) -> str:
    """The ISO week, e.g. ``2026-W53`` (week-year, not calendar year)."""
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def _limit_text(limit: int) -> str:
    return "unlimited" if limit == UNLIMITED else str(limit)


def _block(plan: InstancePlan, blocked: str) -> InstancePlan:
    """Turn every deletion of a plan into a keep that says why."""
    decisions = tuple(
        Decision(d.snapshot, Action.KEEP, (*d.reasons, blocked)) if d.action is Action.DELETE else d
        for d in plan.decisions
    )
    return replace(plan, decisions=decisions)
