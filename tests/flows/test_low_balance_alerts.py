"""Low-balance alerts: what a run raises, and how it goes out across runs and restarts.

The notification tests use the real pieces: a file ledger on ``tmp_path`` (a new
``Notifier`` per run, as a new flow run or a restarted worker would build), a local
HTTP receiver taking apprise ``json://`` posts, and an injected clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from barrack_ops.demo.receiver import NotificationReceiver
from flows.common.burn import fleet_burn
from flows.low_balance.assessment import assess_balance
from flows.low_balance.history import MeasuredBurn
from flows.low_balance.notify import notify_low_balance
from flows.low_balance.report import (
    LowBalanceReport,
    ProtectionOutcome,
    ProtectionReport,
    ProtectionStatus,
    low_balance_alerts,
)
from flows.low_balance.thresholds import Thresholds
from notifications import (
    AlertKind,
    AlertLedger,
    Amount,
    Notifier,
    Severity,
)
from notifications.dedup import SendDecision
from tests.flows.test_low_balance_factories import T0, d, make_index, make_vm

H100 = "H100-SXM5-80GB"
NO_HISTORY = MeasuredBurn(None, None, 0, 0, timedelta(0), "not enough history yet")


def report_at(
    balance: str,
    *,
    gpus: int = 8,
    now: datetime = T0,
    currency: str = "USD",
    price: str = "2.69",
    dry_run: bool = False,
) -> LowBalanceReport:
    """A report as the flow evaluates it: one ACTIVE instance of ``gpus`` H100s.

    ``price`` is a given per-GPU-hour figure (not Part C's): the alerts only see the burn.
    """
    index = make_index(currency, {H100: price})
    fleet = fleet_burn(index=index, instances=[make_vm("train-1", gpu_count=gpus)])
    return assess_balance(
        account_name="acme",
        now=now,
        balance=d(balance),
        currency=currency,
        fleet=fleet,
        measured=NO_HISTORY,
        thresholds=Thresholds(),
        dry_run=dry_run,
        history="memory",
    )


def test_a_warning_alert_carries_the_figures_a_person_acts_on() -> None:
    # 8 x 2.69 = 21.52/h; 1000 lasts 46.47 h: warning (below 72 h).
    report = report_at("1000")
    assert report.severity is Severity.WARNING
    (alert,), cleared = low_balance_alerts(report)
    assert cleared == []
    assert alert.kind is AlertKind.LOW_BALANCE
    assert alert.subject.id == "acme"
    assert alert.title == "Barrack credit runs out in 1d 22h 28m (acme, USD 1,000.00 left)"
    facts = alert.facts
    assert facts["balance"] == Amount(value=d("1000.00"), currency="USD")
    # 1000 / 21.52 h = 167286.245 s: shown to the nearest second, depletion rounded up.
    assert facts["runway"] == timedelta(seconds=167286)
    assert facts["depletion"] == T0 + timedelta(seconds=167287)
    assert facts["burn"] == "USD 21.52/h"
    assert facts["burn_by_category"] == ["active instances: USD 21.52/h (1)"]
    assert facts["thresholds_crossed"] == ["runway below 72 h"]
    assert facts["what_to_do"] == (
        "top up at least USD 1,066.00 to clear every threshold for a day at this burn"
    )
    assert "fleet model" in str(facts["runway_basis"])


@pytest.mark.parametrize(
    ("balance", "currency", "price", "severity", "title"),
    [
        ("400", "USD", "2.69", Severity.CRITICAL,
         "Barrack credit runs out in 18h 35m (acme, USD 400.00 left)"),
        ("0", "USD", "2.69", Severity.CRITICAL,
         "Barrack credit exhausted (acme): instances are stopped"),
        # Long runway, low balance: a balance alert (a small fleet).
        ("40", "EUR", "0.01", Severity.WARNING, "Barrack balance low (acme): EUR 40.00 left"),
        ("900", "INR", "1", Severity.CRITICAL, "Barrack balance low (acme): INR 900.00 left"),
        ("3000", "INR", "239", Severity.CRITICAL,
         "Barrack credit runs out in 1h 34m (acme, INR 3,000.00 left)"),
    ],
)  # fmt: skip
def test_titles_per_condition_and_currency(
    balance: str, currency: str, price: str, severity: Severity, title: str
) -> None:
    report = report_at(balance, currency=currency, price=price)
    (alert,), _ = low_balance_alerts(report)
    assert alert.severity is severity
    assert alert.title == title


def test_all_clear_clears_but_a_dry_run_does_not() -> None:
    alerts, cleared = low_balance_alerts(report_at("100000"))
    assert alerts == []
    assert [k.id for k in cleared] == ["low-balance|account|acme"]
    assert low_balance_alerts(report_at("100000", dry_run=True)) == ([], [])


def test_protective_outcomes_raise_their_own_alerts() -> None:
    report = report_at("100")
    report.protection = ProtectionReport(
        enabled=True,
        triggered=True,
        note="n",
        target_hours=d(72),
        runway_after_hours=d(10),
        burn_after_per_hour=d(10),
        steps=[
            ProtectionOutcome(
                instance_id="BRK-1", instance_name="dev", region="US-1", action="hibernate",
                saving_per_hour=d("0.68"), snapshot_first=True, snapshot_id="snap-9",
                status=ProtectionStatus.DONE, reason="now HIBERNATING",
            ),
            ProtectionOutcome(
                instance_id="BRK-2", instance_name="nb", region="US-1", action="hibernate",
                saving_per_hour=d("0.68"), snapshot_first=True,
                status=ProtectionStatus.FAILED, reason="snapshot failed",
            ),
            ProtectionOutcome(
                instance_id="BRK-3", instance_name="big", region="US-1", action="hibernate",
                saving_per_hour=d("10.75"), snapshot_first=False,
                status=ProtectionStatus.SKIPPED, reason="now SHUTOFF: left alone",
            ),
        ],
    )  # fmt: skip
    alerts, cleared = low_balance_alerts(report)
    assert [(a.kind, a.severity, a.subject.id) for a in alerts] == [
        (AlertKind.LOW_BALANCE, Severity.CRITICAL, "acme"),
        (AlertKind.HIBERNATED, Severity.WARNING, "BRK-1"),
        (AlertKind.HIBERNATE_FAILED, Severity.CRITICAL, "BRK-2"),
    ]
    assert alerts[1].title == "Hibernated dev to stretch the credit runway"
    assert alerts[1].facts["snapshot"] == "snap-9"
    assert alerts[0].facts["protective_plan"] == [
        "hibernate dev: done",
        "hibernate nb: failed",
        "hibernate big: skipped",
    ]
    assert [k.id for k in cleared] == ["hibernate-failed|instance|BRK-1"]
    assert not report.ok


def test_markdown_shows_every_part() -> None:
    text = report_at("400").markdown()
    for part in (
        "# Low balance: acme",
        "USD 400.00 left, burn USD 21.52/h, runway 18h 35m (until 2025-05-02 06:35 UTC): critical",
        "| burn, measured | not enough history yet |",
        "| top up to clear | USD 1,666.00 |",
        "| active instances | USD 21.52/h | 1 |",
        "| total (fleet model) | USD 21.52/h | 1 |",
        "- runway below 24 h: critical",
        "History: memory",
    ):
        assert part in text


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as running:
        yield running


def test_dedup_repeat_escalation_and_resolution_across_restarts(
    tmp_path: Path, receiver: NotificationReceiver
) -> None:
    """Each run builds a new notifier on the same ledger file (a new process would)."""
    ledger = tmp_path / "state" / "notifications.json"
    clock = Clock()

    def run(hours: float, balance: str) -> list[SendDecision]:
        clock.now = T0 + timedelta(hours=hours)
        notifier = Notifier.from_urls(
            receiver.json_url("/ops"),
            store=AlertLedger.in_file(ledger),
            repeat_interval=timedelta(hours=6),
            now=clock,
        )
        delivery = notify_low_balance(notifier, report_at(balance, now=clock.now))
        assert delivery.ok, delivery.summary()
        return [o.decision for o in delivery.outcomes]

    # 21.52/h: below 1076 the runway is under 50 h, below 516.48 under 24 h (critical).
    # Spending is not simulated here: each run states its balance.
    assert run(0, "1000") == [SendDecision.NEW]  # warning
    assert run(0.5, "990") == [SendDecision.SUPPRESSED]
    assert run(5.9, "880") == [SendDecision.SUPPRESSED]
    assert run(6, "870") == [SendDecision.REPEAT]  # six hours on: sent again
    assert run(6.5, "860") == [SendDecision.SUPPRESSED]
    assert run(7, "500") == [SendDecision.ESCALATED]  # 23.2 h: critical at once
    assert run(7.5, "490") == [SendDecision.SUPPRESSED]
    assert run(13, "450") == [SendDecision.REPEAT]  # six hours after the escalation
    titles = [n.title for n in receiver.wait_for(4)]
    assert titles == [
        "[warning] Barrack credit runs out in 1d 22h 28m (acme, USD 1,000.00 left)",
        "[warning] Barrack credit runs out in 1d 16h 25m (acme, USD 870.00 left)",
        "[critical] Barrack credit runs out in 23h 14m (acme, USD 500.00 left)",
        "[critical] Barrack credit runs out in 20h 54m (acme, USD 450.00 left)",
    ]
    bodies = [n.body or "" for n in receiver.received]
    assert "Still open, open since 2025-05-01 12:00 UTC" in bodies[1]
    assert "2 repeated reports held back" in bodies[1]
    assert "Escalated from warning" in bodies[2]
    assert ledger.exists()


def test_escalation_is_immediate_and_the_top_up_resolves_once(
    tmp_path: Path, receiver: NotificationReceiver
) -> None:
    ledger = tmp_path / "notifications.json"
    clock = Clock()

    def run(hours: float, balance: str) -> list[SendDecision]:
        clock.now = T0 + timedelta(hours=hours)
        notifier = Notifier.from_urls(
            receiver.json_url("/ops"),
            store=AlertLedger.in_file(ledger),
            repeat_interval=timedelta(hours=6),
            now=clock,
        )
        delivery = notify_low_balance(notifier, report_at(balance, now=clock.now))
        return [o.decision for o in delivery.outcomes]

    assert run(0, "1000") == [SendDecision.NEW]  # warning, 46.5 h
    assert run(1, "600") == [SendDecision.SUPPRESSED]  # 27.9 h: still a warning
    assert run(2, "500") == [SendDecision.ESCALATED]  # 23.2 h: critical, at once
    assert run(3, "480") == [SendDecision.SUPPRESSED]
    assert run(4, "5000") == [SendDecision.RESOLVED]  # topped up: 232 h
    assert run(5, "4990") == [SendDecision.NOT_OPEN]  # resolved once only
    assert run(6, "1000") == [SendDecision.NEW]  # a new crossing is a new alert
    received = receiver.wait_for(4)
    assert [n.title for n in received] == [
        "[warning] Barrack credit runs out in 1d 22h 28m (acme, USD 1,000.00 left)",
        "[critical] Barrack credit runs out in 23h 14m (acme, USD 500.00 left)",
        "[resolved] Balance recovered: acme",
        "[warning] Barrack credit runs out in 1d 22h 28m (acme, USD 1,000.00 left)",
    ]
    resolved = received[2]
    assert resolved.type == "success"
    assert "USD 5,000.00" in (resolved.body or "")
    assert "9d 16h 20m" in (resolved.body or "")
