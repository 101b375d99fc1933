"""The protective plan: who is hibernated first, why, and where it leaves the runway."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from barrack.models import Snapshot, VMInstance
from flows.common.burn import fleet_burn
from flows.low_balance.evidence import protection_evidence
from flows.low_balance.history import BalanceSample, MeasuredBurn
from flows.low_balance.protection import (
    ProtectionPlan,
    ProtectionPolicy,
    ProtectiveAction,
    plan_protection,
)
from flows.low_balance.thresholds import Thresholds
from flows.low_balance.unmodelled import UnmodelledSpend
from tests.flows.test_low_balance_factories import T0, d, make_index, make_snapshot, make_vm

H100, A40, A6000 = "H100-SXM5-80GB", "A40", "RTX-A6000"
INDEX = make_index("USD", {H100: "2.49", A40: "0.69", A6000: "0.69"})  # per GPU-hour

FLEET = [
    make_vm("train-1", gpu_count=8, vm_id="BRK-TRAIN01"),  # 19.92, exempt below
    make_vm("dev-a40", gpu_model=A40, vm_id="BRK-DEVA400"),  # 0.69, expendable, data safe
    make_vm("nb", gpu_model=A6000, vm_id="BRK-NB00000"),  # 0.69, no snapshot
    make_vm("big", gpu_count=4, vm_id="BRK-BIG0000"),  # 9.96, data safe
    make_vm("render", "SHUTOFF", gpu_model=A6000, gpu_count=2, vm_id="BRK-RENDER0"),  # 1.38
    make_vm("old", "HIBERNATED", vm_id="BRK-OLD0000"),  # 0.01
    make_vm("busy", "STOPPING", vm_id="BRK-BUSY000"),  # 0
]
SNAPSHOTS = [
    make_snapshot("dev-1", instance_id="BRK-DEVA400", created_at=T0 - timedelta(hours=3)),
    make_snapshot("big-1", instance_id="BRK-BIG0000", created_at=T0 - timedelta(hours=2)),
    make_snapshot("big-0", instance_id="BRK-BIG0000", created_at=T0 - timedelta(days=9)),
    # Not ready, or too old: nb's data is at risk.
    make_snapshot("nb-new", instance_id="BRK-NB00000", status="CREATING", created_at=T0),
    make_snapshot("nb-old", instance_id="BRK-NB00000", created_at=T0 - timedelta(hours=30)),
]
BURN = fleet_burn(index=INDEX, instances=FLEET).total  # 32.65


def policy(**changes: object) -> ProtectionPolicy:
    base: dict[str, object] = {
        "enabled": True,
        "exempt_name_globs": ["train-*"],
        "expendable_name_globs": ["dev-*"],
    }
    return ProtectionPolicy.model_validate({**base, **changes})


def plan(
    balance: str = "100",
    *,
    critical: bool = True,
    the_policy: ProtectionPolicy | None = None,
    instances: list[VMInstance] | None = None,
    snapshots: list[Snapshot] | None = None,
    burn: Decimal | None = None,
) -> ProtectionPlan:
    return plan_protection(
        policy=the_policy or policy(),
        critical=critical,
        instances=FLEET if instances is None else instances,
        snapshots=SNAPSHOTS if snapshots is None else snapshots,
        index=INDEX,
        balance=d(balance),
        burn_per_hour=BURN if burn is None else burn,
        now=T0,
    )


def test_the_fleet_burn_of_the_example() -> None:
    assert d("32.65") == BURN


def test_nothing_is_planned_unless_the_runway_is_critical() -> None:
    result = plan(critical=False)
    assert not result.triggered
    assert result.steps == ()
    assert result.runway_after_hours == result.runway_before_hours == d(100) / BURN


def test_order_expendable_then_data_safe_then_largest_saving() -> None:
    result = plan()
    assert result.triggered
    assert [(s.instance_name, s.action, s.snapshot_first) for s in result.steps] == [
        ("dev-a40", ProtectiveAction.HIBERNATE, False),
        ("big", ProtectiveAction.HIBERNATE, False),
        ("nb", ProtectiveAction.HIBERNATE, True),
    ]
    dev, big, nb = result.steps
    # Exact savings: full rate minus A3's hibernation rate.
    assert dev.saving_per_hour == d("0.68")
    assert big.saving_per_hour == d("9.95")
    assert nb.saving_per_hour == d("0.68")
    assert dev.reason == "expendable (dev-*); saves 0.68/h; data safe (snapshot 3h old)"
    assert "newest snapshot 1d 6h old: snapshot first" in nb.reason
    assert dev.runway_after_hours == d(100) / d("31.97")
    assert big.runway_after_hours == d(100) / d("22.02")
    assert result.burn_after == d("21.34")
    assert result.runway_after_hours == d(100) / d("21.34")
    assert not result.target_reached
    assert result.note == "target 72 h not reachable with 3 action(s)"
    passed = {p.instance_name: p.reason for p in result.passed}
    assert passed == {
        "train-1": "exempt by pattern 'train-*'",
        "render": "SHUTOFF pays the full rate, but only an ACTIVE instance can be hibernated: "
        "start and hibernate it, or delete it, by hand",
        "busy": "STOPPING: not safe to act on",
    }


def test_max_actions_caps_the_plan() -> None:
    result = plan(the_policy=policy(max_actions=1))
    assert [s.instance_name for s in result.steps] == ["dev-a40"]
    passed = {p.instance_name: p.reason for p in result.passed}
    assert passed["big"] == passed["nb"] == "max_actions (1) reached"
    assert plan(the_policy=policy(max_actions=0)).steps == ()


def test_the_plan_stops_at_the_target() -> None:
    # 900 at 32.65/h is 27.6 h; the target 30 h needs the burn at or under 30/h.
    result = plan("900", the_policy=policy(target_runway_hours=30))
    assert [s.instance_name for s in result.steps] == ["dev-a40", "big"]
    assert result.target_reached
    assert {p.instance_name: p.reason for p in result.passed}["nb"] == "not needed: target reached"
    assert result.note == "2 action(s) reach the target 30 h"
    already = plan("2000", the_policy=policy(target_runway_hours=30))
    assert already.steps == ()
    assert already.note == "target already reached"


def test_exempt_ids_and_no_expendables() -> None:
    result = plan(
        the_policy=policy(exempt_ids=["BRK-BIG0000"], expendable_name_globs=[], max_actions=5)
    )
    # Data safe first (dev-a40), then at risk (nb); within a tier the largest saving.
    assert [s.instance_name for s in result.steps] == ["dev-a40", "nb"]
    assert {p.instance_name: p.reason for p in result.passed}["big"] == "exempt by id"


def test_stopping_saves_nothing_under_a3() -> None:
    only_stop = plan(the_policy=policy(actions=["stop"]))
    assert only_stop.steps == ()
    assert only_stop.note == "nothing to act on"
    reasons = {p.instance_name: p.reason for p in only_stop.passed}
    assert reasons["big"] == "stopping saves nothing: SHUTOFF pays the full rate (A3)"
    both = plan(the_policy=policy(actions=["stop", "hibernate"]))
    assert {s.action for s in both.steps} == {ProtectiveAction.HIBERNATE}


def test_an_unpriced_instance_is_left_alone() -> None:
    mystery = make_vm("mystery", gpu_model="B200", vm_id="BRK-MYST000")
    result = plan(instances=[mystery], burn=d(5))
    assert result.steps == ()
    assert result.passed[0].reason == "no price known: its saving cannot be computed"


def test_a_depleted_account_still_plans_to_cut_the_debt() -> None:
    result = plan("-3", the_policy=policy(max_actions=1))
    assert result.runway_before_hours == 0
    assert [s.instance_name for s in result.steps] == ["dev-a40"]
    assert result.runway_after_hours == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_actions": -1}, "max_actions"),
        ({"actions": []}, "actions"),
        ({"actions": ["hibernate", "hibernate"]}, "each action at most once"),
        ({"actions": ["delete"]}, "actions"),
        ({"exempt_name_globs": [" "]}, "entries must not be empty"),
        ({"target_runway_hours": 0}, "target_runway_hours"),
        ({"enable": True}, "enable"),
    ],
)
def test_bad_policies_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProtectionPolicy.model_validate(data)


def test_protection_is_off_by_default() -> None:
    assert ProtectionPolicy().enabled is False
    assert ProtectionPolicy().actions == [ProtectiveAction.HIBERNATE]


STATUSES = ["ACTIVE", "ACTIVE", "ACTIVE", "SHUTOFF", "HIBERNATED", "STOPPING", "ERROR"]
MODELS = [H100, A40, A6000]


@settings(max_examples=150, deadline=None)
@given(
    fleet=st.lists(
        st.tuples(
            st.sampled_from(STATUSES),
            st.sampled_from(MODELS),
            st.sampled_from([1, 2, 4, 8]),
            st.integers(0, 3),  # 0 exempt, 1 expendable, 2-3 plain
            st.booleans(),  # has a fresh snapshot
        ),
        max_size=20,
    ),
    balance=st.decimals(min_value=Decimal("-50"), max_value=Decimal("5000"), places=2),
    max_actions=st.integers(0, 6),
    target=st.integers(1, 200),
)
def test_plan_properties(
    fleet: list[tuple[str, str, int, int, bool]],
    balance: Decimal,
    max_actions: int,
    target: int,
) -> None:
    instances = []
    snapshots = []
    for n, (status, model, count, kind, fresh) in enumerate(fleet):
        name = ("keep", "dev", "job", "job")[kind] + f"-{n}"
        vm = make_vm(name, status, gpu_model=model, gpu_count=count, vm_id=f"BRK-{n:07d}")
        instances.append(vm)
        if fresh:
            snapshots.append(make_snapshot(f"s{n}", instance_id=vm.id, created_at=T0))
    burn = fleet_burn(index=INDEX, instances=instances).total
    the_policy = policy(
        exempt_name_globs=["keep-*"], max_actions=max_actions, target_runway_hours=target
    )
    result = plan(
        str(balance), the_policy=the_policy, instances=instances, snapshots=snapshots, burn=burn
    )
    by_id = {vm.id: vm for vm in instances}
    steps = result.steps
    assert len(steps) <= max_actions
    for step in steps:
        vm = by_id[step.instance_id]
        assert vm.status == "ACTIVE"
        assert not vm.name.startswith("keep-")
        assert step.saving_per_hour > 0
        assert step.snapshot_first is (not any(s.instance_id == vm.id for s in snapshots))
    # Expendables come first, then data-safe ones; within a tier the largest saving first.
    keys = [
        (
            not by_id[s.instance_id].name.startswith("dev-"),
            s.snapshot_first,
            -s.saving_per_hour,
        )
        for s in steps
    ]
    assert keys == sorted(keys)
    # The burn after is exactly the burn less every saving, and each step was still needed.
    assert result.burn_after == burn - sum((s.saving_per_hour for s in steps), Decimal(0))
    running = burn
    for step in steps:
        assert balance <= 0 or running == 0 or balance / running < target
        running -= step.saving_per_hour
    assert len({s.instance_id for s in steps}) == len(steps)


def previous_run(
    balance: str, modelled: str, lasting: str | None
) -> tuple[BalanceSample, MeasuredBurn]:
    """The previous run's sample and its measured burn, with a lasting unmodelled part."""
    split = None if lasting is None else UnmodelledSpend(d(lasting), d(0), (), 3)
    measured = MeasuredBurn(d(1), d(modelled), 4, 1, timedelta(hours=1), "test", split)
    return BalanceSample(T0 - timedelta(minutes=30), d(balance), 0, d(modelled)), measured


@pytest.mark.parametrize(
    ("critical", "fleet_critical", "previous", "confirmed", "reason"),
    [
        (False, False, None, False, "runway not critical"),
        # The fleet model alone: what runs now cannot be money already spent.
        (True, True, None, True, "critical on the fleet model alone"),
        # Critical only with the measured burn: the previous run must have seen it too.
        (True, False, previous_run("100", "2", "3"), True, "at this run and at the previous"),
        (True, False, previous_run("100", "2", "0"), False, "held for a second look"),
        (True, False, previous_run("100", "2", None), False, "held for a second look"),
        (True, False, None, False, "held for a second look"),
        # The previous run saw a critical runway on its fleet model alone: confirmed too.
        (True, False, previous_run("40", "2", "0"), True, "at the previous one"),
    ],
)
def test_a_protective_action_needs_evidence_that_survives_a_second_look(
    critical: bool,
    fleet_critical: bool,
    previous: tuple[BalanceSample, MeasuredBurn] | None,
    confirmed: bool,
    reason: str,
) -> None:
    evidence = protection_evidence(
        critical=critical,
        fleet_critical=fleet_critical,
        previous=previous,
        currency="USD",
        thresholds=Thresholds(),
    )
    assert evidence.confirmed is confirmed
    assert reason in evidence.reason
