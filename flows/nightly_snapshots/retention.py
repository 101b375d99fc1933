"""Which snapshots to keep: the retention policy and the pure planner that applies it.

The rules follow restic's ``forget``; the safety nets follow AWS Data Lifecycle Manager.

Rules (restic semantics). Only the *candidates* count: snapshots of the instance that
this policy made (``owned``), that are ready (``SUCCESS``, legacy ``available``) and that
back no custom image. Walking the candidates newest first, each calendar rule keeps the
newest snapshot of each bucket it meets, until it has kept ``N`` buckets:

* buckets are periods that *contain a candidate*, so missing days are skipped, not
  counted (``keep_daily=7`` keeps the newest snapshot of the 7 latest days that have one);
* buckets are computed on the wall clock of the policy's time zone, as restic files them:
  the local hour (``2026-10-25T02:00``, without its UTC offset, so the hour that happens
  twice at a fall-back change is ONE bucket), the local date, the ISO week
  (``2026-W53``: ISO week-year, Monday first), the month and the year;
* when the walk reaches the oldest candidate and a rule still has counts left, the
  oldest is kept too, even if its bucket already is (restic 0.16+, reason "oldest
  <rule>"): a young history keeps its start until the policy can be met;
* ``keep_last=N`` keeps the N newest candidates; ``keep_within=D`` keeps every candidate
  taken after the newest candidate stepped back by ``D`` (relative to the snapshots,
  never to the clock, so a plan is reproducible). ``D`` is calendar years, months and
  days on the zone's wall clock plus elapsed hours, stepped back as restic does with
  Go's ``AddDate`` (``7d`` across a spring-forward change is 167 hours; 31 March minus
  ``1m`` is 3 March; see ``durations.py``);
* ``keep_within_hourly/daily/weekly/monthly/yearly=D`` keep the newest candidate of
  every bucket newer than the newest candidate stepped back by ``D`` (restic's
  ``--keep-within-<bucket>``, no count; reason ``"daily within 14d: bucket ..."``),
  and the oldest candidate too when it is within ``D`` (restic's "oldest");
* ``-1`` means "unlimited": every bucket is kept, as in restic;
* rules are OR-ed: a snapshot kept by any rule is kept, and every rule that keeps it is
  named in its reasons.

Safety (DLM's bar). Whatever the rules say:

* a snapshot this policy did not make, one that is not ready, and one backing a custom
  image are always kept and never counted in a bucket;
* a pinned snapshot (its description or name contains the policy's ``pin_marker``,
  default ``[keep]``) is always kept, reason ``"pinned ([keep])"``, like restic's
  ``--keep-tag``: it still counts in its buckets;
* a snapshot in use (a restore is still creating an instance from it) is always kept,
  reason ``"in use: ..."``; it still counts in its buckets, as it is a real snapshot;
* the newest ready snapshot of an instance (owned or not) is never deleted;
* when pruning of an instance is suspended (its snapshot of this run failed, or its
  freshness is critical), nothing of it is deleted;
* across the fleet, more deletions than ``max_deletions`` delete nothing at all; the plan
  carries a ``blocked`` reason for a critical alert;
* a policy with every rule off is refused rather than read as "keep nothing".
"""

from __future__ import annotations

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
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from barrack.models import RequestModel
from flows.nightly_snapshots.durations import CalendarDuration, step_back
from flows.nightly_snapshots.schedule import load_timezone

__all__ = [
    "DEFAULT_PIN_MARKER",
    "IN_USE_PREFIX",
    "PINNED_PREFIX",
    "PRESETS",
    "READY_STATUSES",
    "REASON_BACKS_IMAGE",
    "REASON_NEWEST",
    "REASON_NOT_OWNED",
    "REASON_NO_RULE",
    "SUSPENDED_PREFIX",
    "UNLIMITED",
    "CalendarDuration",
    "FleetPlan",
    "InstancePlan",
    "RetentionAction",
    "RetentionDecision",
    "RetentionPolicy",
    "SnapshotRecord",
    "format_duration",
    "parse_duration",
    "plan_fleet",
    "plan_instance",
    "suspension_text",
]

READY_STATUSES: Final = frozenset({"SUCCESS", "AVAILABLE"})
"""Statuses (upper-cased) that mean a snapshot is ready: ``SUCCESS`` and legacy ``available``."""

UNLIMITED: Final = -1
"""A rule count that keeps every bucket (restic's ``-1``)."""

# ---------------------------------------------------------------------------------------
# Durations for keep_within: restic's "7d", "36h", "1y2m3d4h", plus our weeks ("2w3d").
# ---------------------------------------------------------------------------------------


def parse_duration(text: str) -> CalendarDuration:
    """Read a compact duration with restic's units (``y m d h``) and our ``w``.

    Args:
        text: e.g. ``"7d"``, ``"36h"``, ``"2w3d"``, ``"1y2m3d4h"`` (blanks allowed between
            parts), or ISO 8601 (``"P7D"``).

    Returns:
        The calendar duration (years, months and days stay calendar units).

    Raises:
        ValueError: an empty text, an unknown unit or anything that is not
            ``<number><unit>`` pairs.

    Example:
        >>> parse_duration("2w3d")
        CalendarDuration(years=0, months=0, days=17, hours=0)
    """
    return CalendarDuration.parse(text)


def format_duration(value: CalendarDuration) -> str:
    """Write a duration in restic's compact form, the inverse of :func:`parse_duration`.

    Example:
        >>> format_duration(CalendarDuration(days=1, hours=12))
        '1d12h'
    """
    return str(value)


def _read_duration(value: Any) -> CalendarDuration:
    """Accept the compact form, ISO 8601 (how JSON carried it before), a timedelta or itself."""
    if isinstance(value, CalendarDuration):
        duration = value
    elif isinstance(value, str):
        duration = CalendarDuration.parse(value)
    elif isinstance(value, timedelta):
        duration = CalendarDuration.from_timedelta(value)
    else:
        raise ValueError(f"must be a duration such as '7d' or '1y2m', got {value!r}")
    if duration.is_zero:
        raise ValueError("must be positive; leave it empty to turn the rule off")
    return duration


def _reject_bool(value: Any) -> Any:
    """Refuse booleans, which pydantic would otherwise read as 0 or 1."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not a boolean")
    return value


KeepCount = Annotated[int, BeforeValidator(_reject_bool), Field(ge=UNLIMITED)]
"""A rule count: 0 turns the rule off, -1 keeps every bucket."""

KeepDuration = Annotated[
    CalendarDuration,
    PlainValidator(_read_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "examples": ["7d", "36h", "2w3d", "1y2m"]}),
]
"""A positive calendar duration, written ``"7d"``, ``"36h"``, ``"1y2m3d4h"`` (or ISO 8601)."""


# ---------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------

DEFAULT_PIN_MARKER: Final = "[keep]"
"""The text that pins a snapshot unless a policy chooses another."""
_PIN_MARKER_MAX_LENGTH: Final = 40

_WITHIN_RULES: Final = (
    "keep_within_hourly",
    "keep_within_daily",
    "keep_within_weekly",
    "keep_within_monthly",
    "keep_within_yearly",
)
"""restic's --keep-within-<bucket>: the newest of every bucket within a duration."""

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
    keep_within: KeepDuration | None = Field(
        default=None,
        description="Keep every snapshot taken less than this long before the newest one, "
        "in calendar years, months, weeks, days and hours of the policy's time zone: "
        "'7d', '36h', '2w3d', '1y2m' (empty = off).",
    )
    keep_within_hourly: KeepDuration | None = Field(
        default=None,
        description="Keep the newest snapshot of every hour within this long of the newest "
        "snapshot, e.g. '2d' (restic --keep-within-hourly; empty = off).",
    )
    keep_within_daily: KeepDuration | None = Field(
        default=None,
        description="Keep the newest snapshot of every day within this long of the newest "
        "snapshot, e.g. '14d' (restic --keep-within-daily; empty = off).",
    )
    keep_within_weekly: KeepDuration | None = Field(
        default=None,
        description="Keep the newest snapshot of every ISO week within this long of the "
        "newest snapshot, e.g. '2m' (restic --keep-within-weekly; empty = off).",
    )
    keep_within_monthly: KeepDuration | None = Field(
        default=None,
        description="Keep the newest snapshot of every month within this long of the newest "
        "snapshot, e.g. '1y' (restic --keep-within-monthly; empty = off).",
    )
    keep_within_yearly: KeepDuration | None = Field(
        default=None,
        description="Keep the newest snapshot of every year within this long of the newest "
        "snapshot, e.g. '7y' (restic --keep-within-yearly; empty = off).",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone the hour, day, week, month and year buckets are "
        "computed in, e.g. 'Europe/Oslo'.",
    )
    pin_marker: str = Field(
        default=DEFAULT_PIN_MARKER,
        description="A snapshot whose description or name contains this text is pinned: "
        "never deleted by any policy, shown as 'pinned' in every plan and report. It "
        "still counts in its buckets and for freshness.",
    )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        load_timezone(value)
        return value

    @field_validator("pin_marker")
    @classmethod
    def _check_pin_marker(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty: every snapshot would be pinned")
        if value != value.strip():
            raise ValueError(f"{value!r} must not start or end with blanks")
        if len(value) > _PIN_MARKER_MAX_LENGTH:
            raise ValueError(f"must be at most {_PIN_MARKER_MAX_LENGTH} characters")
        if "managed-by=" in value:
            raise ValueError("must not look like an ownership marker (managed-by=)")
        return value

    def is_pinned(self, name: str, description: str | None) -> bool:
        """True when the pin marker is in the snapshot's description or name (case-sensitive)."""
        return self.pin_marker in name or self.pin_marker in (description or "")

    @model_validator(mode="after")
    def _refuse_empty(self) -> RetentionPolicy:
        if not self.is_active:
            raise ValueError(
                "empty retention policy: every rule is off, which would leave nothing to "
                "keep; set at least one of "
                + ", ".join((*_COUNT_RULES, "keep_within", *_WITHIN_RULES))
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
        durations = ("keep_within", *_WITHIN_RULES)
        return any(getattr(self, r) for r in _COUNT_RULES) or any(
            getattr(self, r) is not None for r in durations
        )

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
        for rule in _WITHIN_RULES:
            if (duration := getattr(self, rule)) is not None:
                parts.append(f"{rule.removeprefix('keep_within_')} within {duration}")
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
        in_use_by: what is reading from it right now (a restore still creating an
            instance from it), or None; such a snapshot is never deleted.
        description: its description, where a pin marker may be (see
            :meth:`RetentionPolicy.is_pinned`).
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
    in_use_by: str | None = None
    description: str = ""

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


class RetentionAction(StrEnum):
    """What happens to a snapshot."""

    KEEP = "keep"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    """Keep or delete one snapshot, and every reason why."""

    snapshot: SnapshotRecord
    action: RetentionAction
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        """The reasons as one line."""
        return "; ".join(self.reasons)

    @property
    def holds(self) -> tuple[str, ...]:
        """The reasons that hold the snapshot whatever the rules say (suspended, ...).

        Reports list every held snapshot, so a person sees why it outlives its policy.
        """
        return tuple(r for r in self.reasons if r.startswith(HOLD_PREFIXES))


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
    decisions: tuple[RetentionDecision, ...]
    suspended_reason: str | None = None

    @property
    def deletions(self) -> tuple[RetentionDecision, ...]:
        """The decisions to delete."""
        return tuple(d for d in self.decisions if d.action is RetentionAction.DELETE)

    @property
    def keeps(self) -> tuple[RetentionDecision, ...]:
        """The decisions to keep."""
        return tuple(d for d in self.decisions if d.action is RetentionAction.KEEP)

    @property
    def delete_count(self) -> int:
        """How many snapshots this plan deletes."""
        return sum(d.action is RetentionAction.DELETE for d in self.decisions)

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
    def decisions(self) -> tuple[RetentionDecision, ...]:
        """Every decision, instance by instance, newest first within an instance."""
        return tuple(d for plan in self.instances for d in plan.decisions)

    @property
    def deletions(self) -> tuple[RetentionDecision, ...]:
        """The decisions to delete (empty when blocked)."""
        return tuple(d for plan in self.instances for d in plan.deletions)

    @property
    def keeps(self) -> tuple[RetentionDecision, ...]:
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
SUSPENDED_PREFIX: Final = "pruning suspended: "
IN_USE_PREFIX: Final = "in use: "
PINNED_PREFIX: Final = "pinned"
HOLD_PREFIXES: Final = (SUSPENDED_PREFIX, IN_USE_PREFIX, PINNED_PREFIX)
"""How the reasons that hold a snapshot whatever the rules say begin."""


def suspension_text(reason: str) -> str:
    """The one wording of a suspension, ``"pruning suspended: <reason>"``, for plans and reports."""
    return f"{SUSPENDED_PREFIX}{reason.removeprefix(SUSPENDED_PREFIX)}"


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
        reasons = _protections(snapshot, newest_ready, policy) + rule_reasons.get(snapshot.id, [])
        if reasons:
            decisions.append(RetentionDecision(snapshot, RetentionAction.KEEP, tuple(reasons)))
        elif suspend_pruning_reason is not None:
            suspended = suspension_text(suspend_pruning_reason)
            decisions.append(
                RetentionDecision(snapshot, RetentionAction.KEEP, (REASON_NO_RULE, suspended))
            )
        else:
            decisions.append(RetentionDecision(snapshot, RetentionAction.DELETE, (REASON_NO_RULE,)))
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


def _protections(
    snapshot: SnapshotRecord, newest_ready: SnapshotRecord | None, policy: RetentionPolicy
) -> list[str]:
    """The safety reasons that keep a snapshot whatever the rules say."""
    reasons = []
    if policy.is_pinned(snapshot.name, snapshot.description):
        reasons.append(f"{PINNED_PREFIX} ({policy.pin_marker})")
    if not snapshot.owned:
        reasons.append(REASON_NOT_OWNED)
    if not snapshot.is_ready:
        reasons.append(f"not ready ({snapshot.status})")
    if snapshot.backs_image:
        reasons.append(REASON_BACKS_IMAGE)
    if snapshot.in_use_by:
        reasons.append(f"{IN_USE_PREFIX}{snapshot.in_use_by}")
    if snapshot is newest_ready:
        reasons.append(REASON_NEWEST)
    return reasons


def _rule_reasons(
    candidates: list[SnapshotRecord], policy: RetentionPolicy
) -> dict[str, list[str]]:
    """Apply the rules to the candidates (newest first): snapshot id -> reasons to keep."""
    reasons: dict[str, list[str]] = {}
    if not candidates:
        return reasons
    zone = policy.zone
    local_times = [s.created_at.astimezone(zone) for s in candidates]
    if policy.keep_within is not None:
        # Strictly newer than the horizon, as restic does; the horizon steps back calendar
        # units on the zone's wall clock (Go's AddDate), so "7d" spans 7 local days.
        horizon = step_back(candidates[0].created_at, policy.keep_within, zone)
        text = f"within {format_duration(policy.keep_within)} of newest"
        for snapshot in candidates:
            if snapshot.created_at > horizon:
                reasons.setdefault(snapshot.id, []).append(text)
    for rule, limit, bucket_of in _count_rules(policy):
        for snapshot, reason in _walk_buckets(candidates, local_times, rule, limit, bucket_of):
            reasons.setdefault(snapshot.id, []).append(reason)
    for rule, duration, bucket_of in _within_rules(policy):
        horizon = step_back(candidates[0].created_at, duration, zone)
        for snapshot, reason in _walk_within(
            candidates, local_times, rule, duration, horizon, bucket_of
        ):
            reasons.setdefault(snapshot.id, []).append(reason)
    return reasons


BucketOf = Callable[[datetime, int], str]
"""A snapshot's bucket label from its local time and its position (newest = 0)."""


def _count_rules(policy: RetentionPolicy) -> list[tuple[str, int, BucketOf]]:
    """The count rules in restic's order: (name, count, bucket of a local time)."""
    return [
        # keep_last is a bucket rule too: each snapshot is its own bucket.
        ("last", policy.keep_last, lambda _, index: str(index)),
        ("hourly", policy.keep_hourly, lambda local, _: _hour_bucket(local)),
        ("daily", policy.keep_daily, lambda local, _: local.date().isoformat()),
        ("weekly", policy.keep_weekly, lambda local, _: _week_bucket(local)),
        ("monthly", policy.keep_monthly, lambda local, _: f"{local:%Y-%m}"),
        ("yearly", policy.keep_yearly, lambda local, _: f"{local:%Y}"),
    ]


def _within_rules(policy: RetentionPolicy) -> list[tuple[str, CalendarDuration, BucketOf]]:
    """The keep_within_<bucket> rules that are on, in restic's order."""
    rules: list[tuple[str, CalendarDuration | None, BucketOf]] = [
        ("hourly", policy.keep_within_hourly, lambda local, _: _hour_bucket(local)),
        ("daily", policy.keep_within_daily, lambda local, _: local.date().isoformat()),
        ("weekly", policy.keep_within_weekly, lambda local, _: _week_bucket(local)),
        ("monthly", policy.keep_within_monthly, lambda local, _: f"{local:%Y-%m}"),
        ("yearly", policy.keep_within_yearly, lambda local, _: f"{local:%Y}"),
    ]
    return [(rule, duration, bucket_of) for rule, duration, bucket_of in rules if duration]


def _walk_within(
    candidates: list[SnapshotRecord],
    local_times: list[datetime],
    rule: str,
    duration: CalendarDuration,
    horizon: datetime,
    bucket_of: BucketOf,
) -> Iterator[tuple[SnapshotRecord, str]]:
    """Yield (snapshot, reason) for one keep_within_<bucket> rule, walking as restic does.

    Among the candidates strictly newer than ``horizon``, the first (newest) of each new
    bucket is kept, with no count; the oldest candidate is kept too when it is within
    the horizon (restic's "oldest").
    """
    previous: str | None = None
    oldest = len(candidates) - 1
    for index, (snapshot, local) in enumerate(zip(candidates, local_times, strict=True)):
        if snapshot.created_at <= horizon:
            return  # newest first: everything after this is older still
        bucket = bucket_of(local, index)
        if bucket != previous:
            yield snapshot, f"{rule} within {duration}: bucket {bucket}"
        elif index == oldest:
            yield snapshot, f"oldest {rule} within {duration}"
        previous = bucket


def _walk_buckets(
    candidates: list[SnapshotRecord],
    local_times: list[datetime],
    rule: str,
    limit: int,
    bucket_of: BucketOf,
) -> Iterator[tuple[SnapshotRecord, str]]:
    """Yield (snapshot, reason) for what one count rule keeps, walking as restic does.

    Newest first, the first snapshot of each new bucket is kept until ``limit`` buckets
    are kept. If the walk reaches the oldest candidate with counts left, the oldest is
    kept too even when its bucket is already kept (restic 0.16+, reason "oldest"), so a
    young history is not thinned before the policy can be met.
    """
    if limit == 0:
        return
    left = limit
    kept = 0
    previous: str | None = None
    oldest = len(candidates) - 1
    for index, (snapshot, local) in enumerate(zip(candidates, local_times, strict=True)):
        if left == 0:
            return
        bucket = bucket_of(local, index)
        if bucket != previous:
            kept += 1
            if rule == "last":
                yield snapshot, f"last snapshots ({kept}/{_limit_text(limit)})"
            else:
                yield snapshot, f"{rule} bucket {bucket} ({kept}/{_limit_text(limit)})"
        elif index == oldest:
            yield snapshot, f"oldest {rule}: the rule has counts left ({kept}/{_limit_text(limit)})"
        else:
            continue  # an older snapshot of a bucket whose newest is already kept
        previous = bucket
        if left > 0:
            left -= 1


def _hour_bucket(local: datetime) -> str:
    """The local wall-clock hour without its offset: a repeated fall-back hour is one bucket."""
    return f"{local:%Y-%m-%dT%H}:00"


def _week_bucket(local: datetime) -> str:
    """The ISO week, e.g. ``2026-W53`` (week-year, not calendar year)."""
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def _limit_text(limit: int) -> str:
    return "unlimited" if limit == UNLIMITED else str(limit)


def _block(plan: InstancePlan, blocked: str) -> InstancePlan:
    """Turn every deletion of a plan into a keep that says why."""
    decisions = tuple(
        RetentionDecision(d.snapshot, RetentionAction.KEEP, (*d.reasons, blocked))
        if d.action is RetentionAction.DELETE
        else d
        for d in plan.decisions
    )
    return replace(plan, decisions=decisions)
