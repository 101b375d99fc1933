"""The protective plan: what to hibernate (or stop) to stretch a critical runway to a target.

Pure: the flow gives it the fleet, the snapshots, the price index, the balance and the
burn; it answers which instances to act on, in which order, and why each other one is
left alone. Off by default; the flow acts only when the policy is enabled, the run is
not a dry run, the critical runway survives a second look
(:mod:`flows.low_balance.evidence`), and within ``max_actions``.

Which action: the one of ``actions`` that saves the most. Under A3 a SHUTOFF instance
pays the full rate, so *stopping saves nothing* and the planner never picks it unless a
price list says otherwise; hibernating cuts an instance to the hibernation rate.

Which instances first (Barrack tells us nothing about what a workload is worth, so
"value" is what the user declares plus what the API shows):

1. never an exempt one (``exempt_name_globs``, ``exempt_ids``), nor one that is not
   ``ACTIVE`` (only ACTIVE can be hibernated; a transitional or unknown state is not
   safe to act on);
2. ``expendable_name_globs`` first (dev boxes, notebooks: the user's own "least valuable");
3. then instances whose data is already safe (a ready snapshot younger than
   ``snapshot_max_age_hours``): cheapest to restore, nothing to wait for;
4. then the largest saving first, so the target is reached by disrupting the fewest
   workloads; ties by name.

Data at risk: once hibernated (or stopped), an instance cannot be snapshotted without
being restored to ACTIVE at the full rate, and under B6 an instance in *any* state is
deleted, its disk with it, after 24 h at zero balance; snapshots are kept. So an instance
without a ready snapshot younger than ``snapshot_max_age_hours`` is "at risk" and is
snapshotted first; if that snapshot fails, it is not hibernated (it stays ACTIVE, where
a later run, or a person, can still snapshot it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fnmatch import fnmatchcase

from pydantic import Field, field_validator

from barrack.models import RequestModel, Snapshot, VMInstance, VMStatus
from flows.common.burn import instance_rate
from flows.common.pricing import PriceIndex
from notifications.text import describe_duration

__all__ = [
    "Passed",
    "ProtectionPlan",
    "ProtectionPolicy",
    "ProtectiveAction",
    "ProtectiveStep",
    "plan_protection",
]


class ProtectiveAction(StrEnum):
    """What the plan may do to an instance."""

    HIBERNATE = "hibernate"
    STOP = "stop"

    @property
    def status_after(self) -> VMStatus:
        """The state the instance settles in."""
        return VMStatus.HIBERNATED if self is ProtectiveAction.HIBERNATE else VMStatus.SHUTOFF


class ProtectionPolicy(RequestModel):
    """When the runway is critical: what may be hibernated or stopped to stretch it."""

    enabled: bool = Field(
        default=False,
        description="Act on the plan. Off: the plan is only reported. A dry run never acts.",
    )
    target_runway_hours: Decimal = Field(
        default=Decimal(72), gt=0, description="Stop planning once the runway reaches this."
    )
    max_actions: int = Field(
        default=3, ge=0, le=100, description="At most this many instances acted on per run."
    )
    actions: list[ProtectiveAction] = Field(
        default_factory=lambda: [ProtectiveAction.HIBERNATE],
        min_length=1,
        description="Allowed actions; each instance gets the one that saves the most.",
    )
    exempt_name_globs: list[str] = Field(
        default_factory=list, description="Instance name patterns never acted on."
    )
    exempt_ids: list[str] = Field(default_factory=list, description="Instance ids never acted on.")
    expendable_name_globs: list[str] = Field(
        default_factory=list,
        description="Instance name patterns acted on first, e.g. 'dev-*', 'notebook-*'.",
    )
    snapshot_max_age_hours: Decimal = Field(
        default=Decimal(24),
        ge=0,
        description="Snapshot an instance first unless it has a ready snapshot younger than this.",
    )
    snapshot_wait_minutes: float = Field(
        default=60, gt=0, description="How long to wait for those snapshots to be ready."
    )

    @field_validator("exempt_name_globs", "exempt_ids", "expendable_name_globs")
    @classmethod
    def _no_blank_entries(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("entries must not be empty")
        return cleaned

    @field_validator("actions")
    @classmethod
    def _unique_actions(cls, values: list[ProtectiveAction]) -> list[ProtectiveAction]:
        if len(set(values)) != len(values):
            raise ValueError("each action at most once")
        return values

    def exemption(self, vm: VMInstance) -> str | None:
        """Why ``vm`` is exempt, or None."""
        if vm.id in self.exempt_ids:
            return "exempt by id"
        for glob in self.exempt_name_globs:
            if fnmatchcase(vm.name, glob):
                return f"exempt by pattern {glob!r}"
        return None

    def expendable_by(self, vm: VMInstance) -> str | None:
        """The expendable pattern ``vm`` matches, or None."""
        return next((g for g in self.expendable_name_globs if fnmatchcase(vm.name, g)), None)


@dataclass(frozen=True, slots=True)
class ProtectiveStep:
    """One instance to act on."""

    instance_id: str
    instance_name: str
    region: str
    action: ProtectiveAction
    rate_before: Decimal
    rate_after: Decimal
    snapshot_first: bool
    reason: str
    runway_after_hours: Decimal | None

    @property
    def saving_per_hour(self) -> Decimal:
        """What the action takes off the burn."""
        return self.rate_before - self.rate_after


@dataclass(frozen=True, slots=True)
class Passed:
    """An instance the plan leaves alone, and why."""

    instance_id: str
    instance_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProtectionPlan:
    """What the plan would do, and where it would leave the runway."""

    triggered: bool
    note: str
    target_hours: Decimal
    burn_before: Decimal
    burn_after: Decimal
    runway_before_hours: Decimal | None
    runway_after_hours: Decimal | None
    steps: tuple[ProtectiveStep, ...] = ()
    passed: tuple[Passed, ...] = ()

    @property
    def target_reached(self) -> bool:
        """True when the runway after the plan reaches the target (or nothing burns)."""
        return self.runway_after_hours is None or self.runway_after_hours >= self.target_hours


def _hours(balance: Decimal, burn: Decimal) -> Decimal | None:
    if balance <= 0:
        return Decimal(0)
    return None if burn <= 0 else balance / burn


@dataclass(frozen=True, slots=True)
class _Candidate:
    vm: VMInstance
    action: ProtectiveAction
    rate_before: Decimal
    rate_after: Decimal
    expendable: str | None
    snapshot_first: bool
    snapshot_note: str

    @property
    def saving(self) -> Decimal:
        return self.rate_before - self.rate_after

    def order(self) -> tuple[bool, bool, Decimal, str, str]:
        return (
            self.expendable is None,
            self.snapshot_first,
            -self.saving,
            self.vm.name,
            self.vm.id,
        )


def _snapshot_need(
    vm: VMInstance, ready_at: dict[str, datetime], now: datetime, max_age: Decimal
) -> tuple[bool, str]:
    newest = ready_at.get(vm.id)
    if newest is None:
        return True, "no ready snapshot: snapshot first"
    age = now - newest
    if age > timedelta(seconds=int(max_age * 3600)):
        return True, f"newest snapshot {describe_duration(age)} old: snapshot first"
    return False, f"data safe (snapshot {describe_duration(age)} old)"


def plan_protection(
    *,
    policy: ProtectionPolicy,
    critical: bool,
    instances: Iterable[VMInstance],
    snapshots: Iterable[Snapshot],
    index: PriceIndex,
    balance: Decimal,
    burn_per_hour: Decimal,
    now: datetime,
) -> ProtectionPlan:
    """Plan which instances to hibernate (or stop) to bring the runway to the target.

    Args:
        policy: the protection policy.
        critical: whether the runway is at a critical level; otherwise nothing is planned.
        instances: every instance of the account.
        snapshots: every snapshot (to tell whose data is safe).
        index: prices in the account currency.
        balance: the balance.
        burn_per_hour: the burn the runway uses.
        now: the evaluation time.

    Returns:
        The steps in the order they would be taken, each with its reason and the runway
        after it, and every other instance with the reason it is left alone.
    """
    before = _hours(balance, burn_per_hour)
    if not critical:
        return ProtectionPlan(
            triggered=False,
            note="runway not critical",
            target_hours=policy.target_runway_hours,
            burn_before=burn_per_hour,
            burn_after=burn_per_hour,
            runway_before_hours=before,
            runway_after_hours=before,
        )
    ready_at: dict[str, datetime] = {}
    for snap in snapshots:
        if snap.status.is_ready and snap.instance_id:
            known = ready_at.get(snap.instance_id)
            if known is None or snap.created_at > known:
                ready_at[snap.instance_id] = snap.created_at
    candidates: list[_Candidate] = []
    passed: list[Passed] = []
    for vm in sorted(instances, key=lambda v: (v.name, v.id)):
        if vm.status in (VMStatus.HIBERNATED, VMStatus.DELETED):
            continue  # nothing left to save
        exemption = policy.exemption(vm)
        if exemption is not None:
            passed.append(Passed(vm.id, vm.name, exemption))
            continue
        if vm.status == VMStatus.SHUTOFF:
            passed.append(
                Passed(
                    vm.id,
                    vm.name,
                    "SHUTOFF pays the full rate, but only an ACTIVE instance can be "
                    "hibernated: start and hibernate it, or delete it, by hand",
                )
            )
            continue
        if vm.status != VMStatus.ACTIVE:
            passed.append(Passed(vm.id, vm.name, f"{vm.status}: not safe to act on"))
            continue
        candidate = _best_action(vm, policy, index)
        if isinstance(candidate, str):
            passed.append(Passed(vm.id, vm.name, candidate))
            continue
        action, rate_before, rate_after = candidate
        need, note = _snapshot_need(vm, ready_at, now, policy.snapshot_max_age_hours)
        candidates.append(
            _Candidate(vm, action, rate_before, rate_after, policy.expendable_by(vm), need, note)
        )
    steps: list[ProtectiveStep] = []
    burn = burn_per_hour
    for cand in sorted(candidates, key=_Candidate.order):
        runway = _hours(balance, burn)
        if runway is None or runway >= policy.target_runway_hours:
            passed.append(Passed(cand.vm.id, cand.vm.name, "not needed: target reached"))
            continue
        if len(steps) >= policy.max_actions:
            passed.append(
                Passed(cand.vm.id, cand.vm.name, f"max_actions ({policy.max_actions}) reached")
            )
            continue
        burn = max(Decimal(0), burn - cand.saving)
        why = [f"saves {cand.saving}/h"]
        if cand.expendable:
            why.insert(0, f"expendable ({cand.expendable})")
        why.append(cand.snapshot_note)
        steps.append(
            ProtectiveStep(
                cand.vm.id,
                cand.vm.name,
                str(cand.vm.region),
                cand.action,
                cand.rate_before,
                cand.rate_after,
                cand.snapshot_first,
                "; ".join(why),
                _hours(balance, burn),
            )
        )
    after = _hours(balance, burn)
    if not steps:
        note = "nothing to act on" if not candidates else "target already reached"
    elif after is not None and after < policy.target_runway_hours:
        note = f"target {policy.target_runway_hours} h not reachable with {len(steps)} action(s)"
    else:
        note = f"{len(steps)} action(s) reach the target {policy.target_runway_hours} h"
    return ProtectionPlan(
        triggered=True,
        note=note,
        target_hours=policy.target_runway_hours,
        burn_before=burn_per_hour,
        burn_after=burn,
        runway_before_hours=before,
        runway_after_hours=after,
        steps=tuple(steps),
        passed=tuple(passed),
    )


def _best_action(
    vm: VMInstance, policy: ProtectionPolicy, index: PriceIndex
) -> tuple[ProtectiveAction, Decimal, Decimal] | str:
    """The allowed action that saves the most, with the rates; or why there is none."""
    now_rate = instance_rate(vm, VMStatus.ACTIVE, index)
    if now_rate is None:
        return "no price known: its saving cannot be computed"
    best: tuple[ProtectiveAction, Decimal, Decimal] | None = None
    for action in policy.actions:
        after = instance_rate(vm, action.status_after, index)
        if after is None:
            continue
        if best is None or now_rate.per_hour - after.per_hour > best[1] - best[2]:
            best = (action, now_rate.per_hour, after.per_hour)
    if best is None:
        return "no price known for the state after any allowed action"
    if best[1] - best[2] <= 0:
        if best[0] is ProtectiveAction.STOP:
            return "stopping saves nothing: SHUTOFF pays the full rate (A3)"
        return f"{best[0].value} saves nothing at these prices"
    return best
