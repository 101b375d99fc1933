"""The hibernate-idle decision rules, as tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from flows.hibernate_idle.rules import (
    IdleJudgement,
    IdleRules,
    IdleVerdict,
    InstanceFacts,
    Snooze,
    decide,
    judge_evidence,
    judge_recheck,
    limit_actions,
)
from flows.hibernate_idle.state import InstanceState
from tasks.probes import UtilizationEvidence

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)
RULES = IdleRules(
    util_threshold_pct=5,
    memory_threshold_mib=1024,
    window=WINDOW,
    min_uptime=timedelta(minutes=120),
    grace=timedelta(minutes=30),
    exempt_name_globs=("prod-*",),
    exempt_ids=("BRK-EXEMPT1",),
    snoozes=(
        Snooze(instance="notebook-*", until=NOW + timedelta(hours=1), reason="demo at 13:00"),
        Snooze(instance="BRK-SNOOZE1", until=NOW + timedelta(minutes=5)),
        Snooze(instance="BRK-EXPIRED", until=NOW - timedelta(minutes=1)),
    ),
)


def facts(
    id: str = "BRK-AAAAAA1",
    name: str = "train-1",
    status: str = "ACTIVE",
    up: timedelta = timedelta(days=2),
) -> InstanceFacts:
    return InstanceFacts(id=id, name=name, region="US-1", status=status, active_since=NOW - up)


def evidence(**changes: Any) -> UtilizationEvidence:
    """Idle over the whole window (60 one-minute samples) unless changed."""
    base = UtilizationEvidence(
        instance_id="BRK-AAAAAA1",
        probe="prometheus",
        window_start=NOW - WINDOW,
        window_end=NOW,
        sample_count=60,
        covered_from=NOW - WINDOW,
        covered_to=NOW,
        largest_gap_seconds=0,
        gap_tolerance_seconds=300,
        max_util_pct=1.5,
        avg_util_pct=0.7,
        max_memory_mib=450,
    )
    return base.model_copy(update=changes)


def warned(minutes_ago: float, last_idle_minutes_ago: float = 15) -> InstanceState:
    return InstanceState(
        warned_at=NOW - timedelta(minutes=minutes_ago),
        last_idle_at=NOW - timedelta(minutes=last_idle_minutes_ago),
    )


@pytest.mark.parametrize(
    ("case", "instance", "seen", "prior", "verdict", "reason_part"),
    [
        ("exempt by id", facts(id="BRK-EXEMPT1"), evidence(), None, IdleVerdict.EXEMPT, "by id"),
        (
            "exempt by glob",
            facts(name="prod-api"),
            evidence(),
            None,
            IdleVerdict.EXEMPT,
            "'prod-*'",
        ),
        (
            "snoozed by glob",
            facts(name="notebook-anna"),
            evidence(),
            warned(40),
            IdleVerdict.SNOOZED,
            "demo at 13:00",
        ),
        ("snoozed by id", facts(id="BRK-SNOOZE1"), evidence(), None, IdleVerdict.SNOOZED, "12:05Z"),
        (
            "expired snooze",
            facts(id="BRK-EXPIRED"),
            evidence(),
            None,
            IdleVerdict.WARN,
            "warned now",
        ),
        ("stopped", facts(status="SHUTOFF"), evidence(), None, IdleVerdict.NOT_ACTIVE, "SHUTOFF"),
        ("transitional", facts(status="HIBERNATING"), None, None, IdleVerdict.NOT_ACTIVE, "ACTIVE"),
        (
            "unknown status",
            facts(status="MIGRATING"),
            evidence(),
            None,
            IdleVerdict.NOT_ACTIVE,
            "MIGRATING",
        ),
        (
            "not yet armed",
            facts(up=timedelta(minutes=90)),
            evidence(),
            None,
            IdleVerdict.NOT_ARMED,
            "up 90 min; armed after 120 min",
        ),
        (
            "probe error",
            facts(),
            evidence(error="http://127.0.0.1:1/api/v1/query_range unreachable (ConnectError)"),
            None,
            IdleVerdict.PROBE_FAILED,
            "unreachable",
        ),
        (
            "probe timeout",
            facts(),
            evidence(error="timed out after 10 s"),
            warned(40),
            IdleVerdict.PROBE_FAILED,
            "counted as busy",
        ),
        ("nothing returned", facts(), None, None, IdleVerdict.PROBE_FAILED, "no evidence"),
        (
            "no samples",
            facts(),
            evidence(sample_count=0, largest_gap_seconds=None, max_util_pct=None),
            None,
            IdleVerdict.NO_DATA,
            "no samples",
        ),
        (
            "data starts late in the window",
            facts(),
            evidence(
                sample_count=20,
                covered_from=NOW - timedelta(minutes=20),
                largest_gap_seconds=2400,
            ),
            None,
            IdleVerdict.NO_DATA,
            "largest hole 40 min",
        ),
        (
            "a hole inside the window",
            facts(),
            evidence(sample_count=50, largest_gap_seconds=600),
            warned(40),
            IdleVerdict.NO_DATA,
            "not enough data",
        ),
        (
            "a hole within tolerance",
            facts(),
            evidence(sample_count=57, largest_gap_seconds=180),
            None,
            IdleVerdict.WARN,
            "idle for the whole 60 min window",
        ),
        (
            "a busy spike inside the window",
            facts(),
            evidence(max_util_pct=97.0, avg_util_pct=3.0),
            warned(40),
            IdleVerdict.BUSY,
            "peak utilisation 97.0 % >= 5 %",
        ),
        (
            "utilisation at the threshold",
            facts(),
            evidence(max_util_pct=5.0),
            None,
            IdleVerdict.BUSY,
            ">= 5 %",
        ),
        (
            "a model held in memory",
            facts(),
            evidence(max_memory_mib=30_000),
            None,
            IdleVerdict.BUSY,
            "GPU memory 30,000 MiB",
        ),
        (
            "memory not measured",
            facts(),
            evidence(max_memory_mib=None),
            None,
            IdleVerdict.WARN,
            "peak 1.5 % < 5 %",
        ),
        ("idle, first time", facts(), evidence(), None, IdleVerdict.WARN, "after 12:30Z"),
        ("idle, warned 15 min ago", facts(), evidence(), warned(15), IdleVerdict.WAITING, "12:15Z"),
        (
            "idle, warned at this very time",
            facts(),
            evidence(),
            warned(0, 0),
            IdleVerdict.WAITING,
            "later run",
        ),
        (
            "idle, grace passed",
            facts(),
            evidence(),
            warned(30),
            IdleVerdict.HIBERNATE,
            "30 min grace",
        ),
        (
            "idle, but the warning lapsed",
            facts(),
            evidence(),
            warned(180, last_idle_minutes_ago=90),
            IdleVerdict.WARN,
            "lapsed",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_decision_table(
    case: str,
    instance: InstanceFacts,
    seen: UtilizationEvidence | None,
    prior: InstanceState | None,
    verdict: IdleVerdict,
    reason_part: str,
) -> None:
    decision = decide(instance, seen, prior, RULES, NOW)
    assert decision.verdict is verdict, decision.reason
    assert reason_part in decision.reason


@pytest.mark.parametrize(
    ("verdict_prior", "seen", "expect_warned_at"),
    [
        (warned(40), evidence(max_util_pct=50.0), None),  # busy clears the warning
        (warned(40), evidence(error="boom"), None),  # a failed probe clears it too
        (warned(40), evidence(sample_count=0, largest_gap_seconds=None), None),
        (None, evidence(), NOW),  # warned now
        (warned(15), evidence(), NOW - timedelta(minutes=15)),  # kept while waiting
        (warned(30), evidence(), NOW - timedelta(minutes=30)),  # kept until hibernated
    ],
)
def test_what_is_remembered(
    verdict_prior: InstanceState | None,
    seen: UtilizationEvidence,
    expect_warned_at: datetime | None,
) -> None:
    decision = decide(facts(), seen, verdict_prior, RULES, NOW)
    assert decision.state is not None
    assert decision.state.warned_at == expect_warned_at
    if decision.verdict.idle:
        assert decision.state.last_idle_at == NOW


def test_exempt_snoozed_and_inactive_instances_are_forgotten() -> None:
    for instance in (facts(id="BRK-EXEMPT1"), facts(name="notebook-1"), facts(status="SHUTOFF")):
        assert decide(instance, evidence(), warned(40), RULES, NOW).state is None


def test_verdict_needs_the_window_to_be_covered_whatever_the_peaks() -> None:
    verdict, reason = judge_evidence(evidence(largest_gap_seconds=None), RULES)
    assert verdict is IdleVerdict.NO_DATA
    assert "unknown" in reason


def _hibernate(id: str, name: str) -> IdleJudgement:
    return decide(facts(id=id, name=name), evidence(), warned(45), RULES, NOW)


@pytest.mark.parametrize(
    ("max_actions", "kept"),
    [(0, set()), (1, {"BRK-BIG0001"}), (2, {"BRK-BIG0001", "BRK-MID0001"}), (5, None)],
)
def test_max_actions_keeps_the_biggest_savings(max_actions: int, kept: set[str] | None) -> None:
    decisions = [
        _hibernate("BRK-SML0001", "a-small"),
        _hibernate("BRK-BIG0001", "b-big"),
        _hibernate("BRK-MID0001", "c-mid"),
        decide(facts(id="BRK-BUSY001"), evidence(max_util_pct=80.0), None, RULES, NOW),
    ]
    priority = {
        "BRK-SML0001": Decimal("16.32"),
        "BRK-BIG0001": Decimal("477.84"),
        "BRK-MID0001": Decimal("152.40"),
    }
    limited = limit_actions(decisions, max_actions, priority)
    hibernating = {d.instance.id for d in limited if d.verdict is IdleVerdict.HIBERNATE}
    held = {d.instance.id for d in limited if d.verdict is IdleVerdict.HELD}
    expected = set(priority) if kept is None else kept
    assert hibernating == expected
    assert held == set(priority) - expected
    assert all("max_actions" in d.reason for d in limited if d.verdict is IdleVerdict.HELD)
    assert limited[3].verdict is IdleVerdict.BUSY
    # a held instance keeps its warning, so a later run hibernates it
    assert all(d.state and d.state.warned_at for d in limited if d.verdict is IdleVerdict.HELD)


def test_snooze_needs_an_instance() -> None:
    with pytest.raises(ValueError, match="instance"):
        Snooze(instance="  ", until=NOW)


@pytest.mark.parametrize(
    ("changes", "verdict", "reason"),
    [
        ({"gpus_seen": 1, "gpus_expected": 8}, IdleVerdict.NO_DATA, "shows 1 of the instance's 8"),
        ({"gpus_seen": 0, "gpus_expected": 1}, IdleVerdict.NO_DATA, "the other 1 are unknown"),
        ({"gpus_seen": 8, "gpus_expected": 8}, IdleVerdict.WARN, "idle for the whole"),
        ({"gpus_seen": None, "gpus_expected": 8}, IdleVerdict.WARN, "idle for the whole"),
        # activity seen on the GPUs that are shown needs no more proof
        ({"gpus_seen": 1, "gpus_expected": 8, "max_util_pct": 97}, IdleVerdict.BUSY, "97.0 %"),
    ],
)
def test_gpus_missing_from_the_evidence_are_unknown_not_idle(
    changes: dict[str, Any], verdict: IdleVerdict, reason: str
) -> None:
    found, why = judge_evidence(evidence(**changes), RULES)
    assert found is verdict
    assert reason in why


@pytest.mark.parametrize(
    ("fresh", "reason"),
    [
        ("idle", None),
        ("busy", "busy: peak utilisation 99.0 % >= 5 % in the re-check right before acting"),
        ("memory", "busy: GPU memory 30,000 MiB >= 1024 MiB in the re-check"),
        ("failed", "could not re-check utilisation right before acting (prometheus probe: down)"),
        ("none", "could not re-check utilisation right before acting (no answer)"),
        ("empty", "no samples in the re-check right before acting"),
        ("gpus", "shows 2 of the instance's 4 GPUs"),
    ],
)
def test_the_recheck_before_acting_cancels_unless_still_idle(
    fresh: str, reason: str | None
) -> None:
    recent = {
        "idle": evidence(sample_count=5),
        "busy": evidence(sample_count=5, max_util_pct=99),
        "memory": evidence(sample_count=5, max_memory_mib=30000),
        "failed": evidence(error="down", sample_count=0),
        "none": None,
        "empty": evidence(sample_count=0, max_util_pct=None),
        "gpus": evidence(sample_count=5, gpus_seen=2, gpus_expected=4),
    }[fresh]
    found = judge_recheck(recent, RULES)
    if reason is None:
        assert found is None
    else:
        assert found is not None
        assert reason in found
        assert found.endswith("not hibernated")


@pytest.mark.parametrize(
    ("warned_minutes_ago", "verdict"),
    [(27, IdleVerdict.WAITING), (28.5, IdleVerdict.HIBERNATE), (30, IdleVerdict.HIBERNATE)],
)
def test_a_hibernation_due_within_due_wait_is_decided_now_and_carried_out_when_due(
    warned_minutes_ago: float, verdict: IdleVerdict
) -> None:
    rules = replace(RULES, due_wait=timedelta(minutes=2))
    decision = decide(facts(), evidence(), warned(warned_minutes_ago), rules, NOW)
    assert decision.verdict is verdict
    assert decision.hibernate_after == NOW - timedelta(minutes=warned_minutes_ago - 30)
