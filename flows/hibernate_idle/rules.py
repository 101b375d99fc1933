"""The decision rules of the hibernate-idle recipe: pure functions with a reason for each verdict.

For each selected instance, in this order:

==================  ===========================================================  ==========
verdict             when                                                         memory
==================  ===========================================================  ==========
``exempt``          its id is in ``exempt_ids`` or its name matches a glob       forgotten
``snoozed``         an unexpired snooze names its id or matches its name         forgotten
``not active``      its status is not ``ACTIVE``                                 forgotten
``not armed``       up for less than ``min_uptime``                              no warning
``probe failed``    the probe errored or timed out (counts as busy)              no warning
``busy``            peak utilisation or memory at or above its threshold         no warning
``not enough data`` no samples, fewer GPUs seen than the instance has, or a      no warning
                    hole in the window longer than tolerated
``warn``            idle, not (validly) warned yet                               warned now
``waiting``         idle, warned less than ``grace`` ago                         kept
``hibernate``       idle, warned at least ``grace`` ago on an earlier run (or    kept
                    due within ``due_wait``: the act waits until it is due)
==================  ===========================================================  ==========

A warning stays valid only while the instance is judged idle on every run: a busy, failed
or missing verdict clears it, and so does a pause between two idle verdicts longer than
the window (idleness is then no longer known to be continuous since the warning).
Then :func:`limit_actions` holds hibernations beyond ``max_actions`` (the biggest savings
go first). Right before acting, :func:`judge_recheck` reads a short fresh window once more:
busy, unreadable or missing GPUs there cancel the hibernation.

Times are real moments: the window ends when the run actually evaluates (not when it was
scheduled), and a warning counts from when it was actually sent. Sent a few seconds after
its run started, a warning falls due a few seconds after the run two slots later starts;
``due_wait`` lets that run act once it is due instead of leaving it to the next slot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fnmatch import fnmatchcase

from pydantic import AwareDatetime, Field, field_validator

from barrack.models import RequestModel, VMInstance
from flows.hibernate_idle.remembered import InstanceState
from flows.hibernate_idle.streaks import IdleStreak, below_thresholds
from tasks.probes.base import UtilizationEvidence

__all__ = [
    "IdleJudgement",
    "IdleRules",
    "IdleVerdict",
    "InstanceFacts",
    "Snooze",
    "decide",
    "judge_evidence",
    "judge_recheck",
    "limit_actions",
    "verdict_without_telemetry",
]


class IdleVerdict(StrEnum):
    """What the rules concluded about one instance."""

    EXEMPT = "exempt"
    SNOOZED = "snoozed"
    NOT_ACTIVE = "not active"
    NOT_ARMED = "not armed"
    PROBE_FAILED = "probe failed"
    NO_DATA = "not enough data"
    BUSY = "busy"
    WARN = "warn"
    WAITING = "waiting"
    HIBERNATE = "hibernate"
    HELD = "held"

    @property
    def idle(self) -> bool:
        """True for the verdicts that found the instance idle."""
        return self in (
            IdleVerdict.WARN,
            IdleVerdict.WAITING,
            IdleVerdict.HIBERNATE,
            IdleVerdict.HELD,
        )


class Snooze(RequestModel):
    """Keep an instance awake until a time.

    Example:
        >>> snooze = Snooze(instance="notebook-*", until="2026-12-01T18:00:00Z")
        >>> snooze.covers("BRK-1A2B3C4", "notebook-anna", snooze.until - timedelta(hours=1))
        True
    """

    instance: str = Field(description="An instance id, or a name pattern such as 'notebook-*'.")
    until: AwareDatetime = Field(description="When the snooze ends (with a time zone).")
    reason: str | None = Field(default=None, max_length=200, description="Why, for the report.")

    @field_validator("instance")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name an instance id or a name pattern")
        return value.strip()

    def covers(self, instance_id: str, name: str, now: datetime) -> bool:
        """True when it names this instance and has not expired at ``now``."""
        named = self.instance == instance_id or fnmatchcase(name, self.instance)
        return named and now < self.until


@dataclass(frozen=True, slots=True)
class IdleRules:
    """The thresholds and exemptions one run decides by."""

    util_threshold_pct: float
    memory_threshold_mib: float
    window: timedelta
    min_uptime: timedelta
    grace: timedelta
    exempt_name_globs: tuple[str, ...] = ()
    exempt_ids: tuple[str, ...] = ()
    snoozes: tuple[Snooze, ...] = ()
    due_wait: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class InstanceFacts:
    """What the rules need to know about an instance.

    ``active_since`` is the instance's last change (``updated_at``), else its creation:
    a status change (a restore, a start) moves it, so uptime counts from there. Other
    changes move it too, which only delays arming: the safe direction.
    """

    id: str
    name: str
    region: str
    status: str
    active_since: datetime
    gpu_model: str = ""
    gpu_count: int = 1

    @classmethod
    def from_instance(cls, vm: VMInstance) -> InstanceFacts:
        """The facts of an API instance."""
        return cls(
            id=vm.id,
            name=vm.name,
            region=str(vm.region),
            status=str(vm.status),
            active_since=max(vm.created_at, vm.updated_at or vm.created_at),
            gpu_model=str(vm.flavor.gpu_model),
            gpu_count=int(vm.flavor.gpu_count),
        )


@dataclass(frozen=True, slots=True)
class IdleJudgement:
    """One instance's verdict, why, the evidence, and what to remember."""

    instance: InstanceFacts
    verdict: IdleVerdict
    reason: str
    evidence: UtilizationEvidence | None = None
    state: InstanceState | None = None
    hibernate_after: datetime | None = None


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.0f} min"


def verdict_without_telemetry(
    facts: InstanceFacts, rules: IdleRules, now: datetime
) -> tuple[IdleVerdict, str] | None:
    """The verdict that needs no telemetry (exempt, snoozed, not active), or None to probe."""
    if facts.id in rules.exempt_ids:
        return IdleVerdict.EXEMPT, "exempt by id"
    for glob in rules.exempt_name_globs:
        if fnmatchcase(facts.name, glob):
            return IdleVerdict.EXEMPT, f"exempt by pattern {glob!r}"
    for snooze in rules.snoozes:
        if snooze.covers(facts.id, facts.name, now):
            why = f": {snooze.reason}" if snooze.reason else ""
            return IdleVerdict.SNOOZED, f"snoozed until {snooze.until:%Y-%m-%d %H:%M}Z{why}"
    if facts.status != "ACTIVE":
        return IdleVerdict.NOT_ACTIVE, f"{facts.status}: only ACTIVE instances are hibernated"
    return None


def judge_evidence(
    evidence: UtilizationEvidence | None, rules: IdleRules
) -> tuple[IdleVerdict, str]:
    """Failed, busy, not enough data, or idle (``IdleVerdict.WARN`` stands for idle here).

    A peak over a threshold is busy even when the samples do not cover the window: seen
    activity needs no more proof, only idleness does.
    """
    if evidence is None:
        return IdleVerdict.PROBE_FAILED, "no evidence returned by the probe (counted as busy)"
    if evidence.error:
        return (
            IdleVerdict.PROBE_FAILED,
            f"{evidence.probe} probe: {evidence.error} (counted as busy)",
        )
    if evidence.sample_count == 0 or evidence.max_util_pct is None:
        return IdleVerdict.NO_DATA, f"{evidence.probe}: no samples in the window (counted as busy)"
    if not below_thresholds(
        evidence,
        util_threshold_pct=rules.util_threshold_pct,
        memory_threshold_mib=rules.memory_threshold_mib,
    ):
        return IdleVerdict.BUSY, _busy_reason(evidence, rules)
    missing = _missing_gpus(evidence)
    if missing is not None:
        return IdleVerdict.NO_DATA, missing
    tolerance = evidence.gap_tolerance_seconds
    gap = evidence.largest_gap_seconds
    if gap is None or gap > tolerance:
        seen = (
            f"{evidence.covered_from:%H:%M}-{evidence.covered_to:%H:%M}Z"
            if evidence.covered_from and evidence.covered_to
            else "nothing"
        )
        hole = "unknown" if gap is None else f"{gap / 60:.0f} min"
        return IdleVerdict.NO_DATA, (
            f"not enough data: samples cover {seen} of the {_minutes(rules.window)} window "
            f"(largest hole {hole}, at most {tolerance / 60:.0f} min allowed)"
        )
    memory = (
        "" if evidence.max_memory_mib is None else f", memory < {rules.memory_threshold_mib:g} MiB"
    )
    return IdleVerdict.WARN, (
        f"idle for the whole {_minutes(rules.window)} window: peak "
        f"{evidence.max_util_pct:.1f} % < {rules.util_threshold_pct:g} %{memory}"
    )


def _missing_gpus(evidence: UtilizationEvidence) -> str | None:
    """Why the GPUs seen do not stand for the whole instance, or None when they do."""
    seen, expected = evidence.gpus_seen, evidence.gpus_expected
    if seen is None or expected is None or seen >= expected:
        return None
    return (
        f"not enough data: {evidence.probe} shows {seen} of the instance's {expected} GPUs; "
        f"the other {expected - seen} are unknown (counted as busy)"
    )


def judge_recheck(evidence: UtilizationEvidence | None, rules: IdleRules) -> str | None:
    """Why not to act after all, from the fresh re-read right before acting; None: act.

    Busy now, a failed or empty re-read, and GPUs missing from it all cancel: the
    hibernation waits for a later run that sees the instance idle again.
    """
    if evidence is None or evidence.error:
        why = "no answer" if evidence is None else f"{evidence.probe} probe: {evidence.error}"
        return f"could not re-check utilisation right before acting ({why}): not hibernated"
    if evidence.sample_count == 0 or evidence.max_util_pct is None:
        return f"{evidence.probe}: no samples in the re-check right before acting: not hibernated"
    if not below_thresholds(
        evidence,
        util_threshold_pct=rules.util_threshold_pct,
        memory_threshold_mib=rules.memory_threshold_mib,
    ):
        busy = _busy_reason(evidence, rules)
        return f"{busy} in the re-check right before acting: not hibernated"
    missing = _missing_gpus(evidence)
    if missing is not None:
        return f"{missing} in the re-check right before acting: not hibernated"
    return None


def _busy_reason(evidence: UtilizationEvidence, rules: IdleRules) -> str:
    util = evidence.max_util_pct
    if util is not None and util >= rules.util_threshold_pct:
        return f"busy: peak utilisation {util:.1f} % >= {rules.util_threshold_pct:g} %"
    memory = evidence.max_memory_mib
    return f"busy: GPU memory {memory or 0:,.0f} MiB >= {rules.memory_threshold_mib:g} MiB"


def decide(
    facts: InstanceFacts,
    evidence: UtilizationEvidence | None,
    prior: InstanceState | None,
    rules: IdleRules,
    now: datetime,
    *,
    streak: IdleStreak | None = None,
) -> IdleJudgement:
    """The verdict for one instance (the table in the module docstring).

    Args:
        facts: the instance as listed.
        evidence: what the probe saw (None: not probed or nothing returned).
        prior: what was remembered from earlier runs.
        rules: thresholds, window, grace, exemptions, snoozes.
        now: the evaluation time.
        streak: the instance's idle streak after this run's observation (ssh probe).
    """
    screened = verdict_without_telemetry(facts, rules, now)
    if screened is not None:
        return IdleJudgement(facts, screened[0], screened[1], evidence, None)
    resting = InstanceState(streak=streak)  # what is kept when there is no valid warning
    uptime = now - facts.active_since
    if uptime < rules.min_uptime:
        return IdleJudgement(
            facts,
            IdleVerdict.NOT_ARMED,
            f"up {_minutes(uptime)}; armed after {_minutes(rules.min_uptime)}",
            evidence,
            resting,
        )
    verdict, reason = judge_evidence(evidence, rules)
    if verdict is not IdleVerdict.WARN:
        return IdleJudgement(facts, verdict, reason, evidence, resting)
    return _idle_decision(facts, evidence, prior, rules, now, streak, reason)


def _idle_decision(
    facts: InstanceFacts,
    evidence: UtilizationEvidence | None,
    prior: InstanceState | None,
    rules: IdleRules,
    now: datetime,
    streak: IdleStreak | None,
    idle_reason: str,
) -> IdleJudgement:
    warned_at = prior.warned_at if prior else None
    last_idle = prior.last_idle_at if prior else None
    if warned_at is None or last_idle is None or now - last_idle > rules.window:
        lapsed = (
            ""
            if warned_at is None
            else f" (the warning of {warned_at:%H:%M}Z lapsed: no idle verdict for more than "
            f"the {_minutes(rules.window)} window)"
        )
        due = now + rules.grace
        return IdleJudgement(
            facts,
            IdleVerdict.WARN,
            f"{idle_reason}; warned now, hibernates after {due:%H:%M}Z if still idle{lapsed}",
            evidence,
            InstanceState(warned_at=now, last_idle_at=now, streak=streak),
            due,
        )
    due = warned_at + rules.grace
    state = InstanceState(warned_at=warned_at, last_idle_at=now, streak=streak)
    # A rerun at the warning's own time is not a later run; a hibernation due within
    # due_wait is decided now and carried out once due (the act waits for it).
    if now <= warned_at or now + rules.due_wait < due:
        return IdleJudgement(
            facts,
            IdleVerdict.WAITING,
            f"{idle_reason}; warned at {warned_at:%H:%M}Z, hibernates after {due:%H:%M}Z "
            "on a later run",
            evidence,
            state,
            due,
        )
    return IdleJudgement(
        facts,
        IdleVerdict.HIBERNATE,
        f"{idle_reason}; warned at {warned_at:%H:%M}Z and still idle after the "
        f"{_minutes(rules.grace)} grace",
        evidence,
        state,
        due,
    )


def limit_actions(
    decisions: Sequence[IdleJudgement], max_actions: int, priority: Mapping[str, Decimal]
) -> list[IdleJudgement]:
    """Hold the hibernations beyond ``max_actions``; the biggest ``priority`` goes first.

    Held instances keep their warning and are hibernated on a later run.
    """
    hibernations = sorted(
        (d for d in decisions if d.verdict is IdleVerdict.HIBERNATE),
        key=lambda d: (-priority.get(d.instance.id, Decimal(0)), d.instance.name, d.instance.id),
    )
    held = {d.instance.id for d in hibernations[max_actions:]}
    return [
        replace(
            d,
            verdict=IdleVerdict.HELD,
            reason=f"{d.reason}; held: max_actions ({max_actions}) reached this run",
        )
        if d.instance.id in held
        else d
        for d in decisions
    ]
