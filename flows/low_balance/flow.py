"""The low-balance recipe: burn, runway, thresholds, alerts, and an optional protective plan.

Read the balance and the fleet, price the fleet (the burn model), record the balance in
the history and measure the burn from it, compute the runway and its depletion time,
judge the thresholds, plan protection when the runway is critical (act only when enabled,
not in a dry run, within ``max_actions``, and when the critical runway survives a second
look: :mod:`flows.low_balance.evidence`), then report (artifacts, notifications).
The flow decides nothing about HTTP; every API call is a task.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from prefect.logging import get_run_logger

from flows.common.account import read_account
from flows.common.alerting import RECIPE_HOOKS, notifier_on_clock, notify_report
from flows.common.burn import FleetBurn, fleet_burn
from flows.common.guard import run_exclusive
from flows.common.params import recipe_flow
from flows.common.publish import publish_report
from flows.common.runtime import current_flow_run_url, scheduled_start
from flows.low_balance.act import carry_out, protection_report
from flows.low_balance.assessment import assess_balance
from flows.low_balance.history import (
    BalanceSample,
    MeasuredBurn,
    append_sample,
    measure_burn,
    measure_previous_run,
)
from flows.low_balance.history_store import BalanceHistory, select_history_store
from flows.low_balance.notify import notify_low_balance
from flows.low_balance.params import LowBalanceParams
from flows.low_balance.protection import plan_protection
from flows.low_balance.report import LowBalanceReport, low_balance_alerts
from notifications import Notifier, Severity
from notifications.text import describe_error

__all__ = ["MAX_SAMPLES", "build_notifier", "low_balance", "run_low_balance"]

MAX_SAMPLES = 150
"""Samples kept per account (a 30-minute schedule fills 48 hours with 96)."""


@recipe_flow(LowBalanceParams, name="low-balance", log_prints=False, **RECIPE_HOOKS)
async def low_balance(params: LowBalanceParams) -> LowBalanceReport:
    """Forecast the prepaid runway, alert on thresholds, optionally protect the fleet.

    Safety: nothing is changed unless ``protection.enabled`` is set, the runway is at a
    critical level on the fleet model alone or at this run and the previous one, and the
    run is not a dry run; then at most ``protection.max_actions`` instances are hibernated
    (stopped only if a price list makes that cheaper), exempt ones never, each snapshotted
    first when its data would otherwise be at risk.

    The flow's parameters are the fields of :class:`LowBalanceParams` (defaults: the
    currency's thresholds, protection off).

    Returns:
        The run's report (also published as Prefect artifacts and notifications).
    """
    return await run_exclusive(
        "low-balance", params.account_name, partial(run_low_balance, params), dry_run=params.dry_run
    )


def build_notifier(params: LowBalanceParams, now: datetime) -> Notifier:
    """The notifier of a run: ``BARRACK_NOTIFY_*``, on the run's clock, with its repeat.

    The dedup clock is the evaluation time, so "repeat every N hours" counts simulated
    hours when the demo or a test passes the simulator's time.

    Raises:
        notifications.NotificationConfigError: a malformed URL or config (masked), so a
            misconfigured recipe fails before it changes anything.
    """
    return notifier_on_clock(now, params.repeat_interval)


async def run_low_balance(params: LowBalanceParams) -> LowBalanceReport:
    """The body of :func:`low_balance` (inside a flow run)."""
    logger = get_run_logger()
    conn = params.connection
    scheduled, current = scheduled_start(), datetime.now(UTC)
    now = params.evaluation_time(scheduled, current)
    late = params.lateness(scheduled, current)
    if late is not None and scheduled is not None:
        logger.info(
            "started %.0f min after its scheduled %s; the balance is judged as of now, %s",
            late.total_seconds() / 60,
            f"{scheduled:%H:%M:%S}Z",
            f"{now:%H:%M:%S}Z",
        )
    notifier = build_notifier(params, now) if params.notify else None

    # 1. Read the account and the fleet.
    account = await read_account(conn)
    balance, instances, volumes = account.balance, account.instances, account.volumes
    snapshots, currency, index = account.snapshots, account.currency, account.prices()

    # 2. The fleet model and the measured burn.
    burn = fleet_burn(
        index=index,
        instances=instances,
        volumes=volumes,
        snapshots=snapshots,
        snapshot_rate_per_hour=params.snapshot_rate_per_hour,
    )
    # "auto" asks the Prefect API whether it answers: once per run, off the event loop.
    store = await select_history_store(
        params.history_store, params.account_name, params.history_file
    )
    measured, previous = await _record_and_measure(
        store, params, currency, balance.balance, burn, now
    )

    # 3. Runway, depletion and levels.
    report = assess_balance(
        account_name=params.account_name,
        now=now,
        balance=balance.balance,
        currency=currency,
        fleet=burn,
        measured=measured,
        thresholds=params.thresholds,
        dry_run=params.dry_run,
        history=store.describe(),
        flow_run_url=current_flow_run_url(),
        previous=previous,
    )

    # 4. The protective plan, and acting on it when allowed.
    plan = plan_protection(
        policy=params.protection,
        critical=report.runway_severity is Severity.CRITICAL,
        instances=instances,
        snapshots=snapshots,
        index=index,
        balance=balance.balance,
        burn_per_hour=report.runway_burn_per_hour,
        now=now,
    )
    if plan.triggered:
        confirmed = report.protection_confirmed
        report.protection = protection_report(plan, params, confirmed=confirmed)
        if params.protection.enabled and confirmed and not params.dry_run and plan.steps:
            await carry_out(plan, params, report.protection, now)

    # 5. Report.
    delivery = await notify_report(
        notifier,
        report,
        low_balance_alerts(report),
        dry_run=params.dry_run,
        send=lambda chosen: notify_low_balance(chosen, report),
    )
    if delivery is not None:
        report.alert_outcomes = [
            f"{o.kind.value} {o.subject}: {o.decision.value}" for o in delivery.outcomes
        ]
    await publish_report(report)
    logger.info(report.summary_line())
    return report


async def _record_and_measure(
    store: BalanceHistory,
    params: LowBalanceParams,
    currency: str,
    balance: Decimal,
    burn: FleetBurn,
    now: datetime,
) -> tuple[MeasuredBurn, tuple[BalanceSample, MeasuredBurn] | None]:
    """Append this run's sample to the history (a dry run too: it is an observation).

    Returns the burn measured now, and the previous run's sample with the burn as of it
    (the protective plan's second look).
    """
    logger = get_run_logger()

    async def update() -> tuple[MeasuredBurn, tuple[BalanceSample, MeasuredBurn] | None]:
        samples = append_sample(
            await store.load(currency),
            at=now,
            balance=balance,
            modelled_burn=burn.total,
            keep=params.history_keep,
            max_samples=MAX_SAMPLES,
        )
        await store.save(currency, samples)
        window, min_span = params.measured_window, params.measured_min_span
        return (
            measure_burn(samples, now=now, window=window, min_span=min_span),
            measure_previous_run(samples, window=window, min_span=min_span),
        )

    try:
        return await update()
    except Exception as error:  # a broken history costs the measurement, never the alert
        logger.warning("balance history %s failed: %s", store.describe(), describe_error(error))
        unavailable = f"history unavailable ({describe_error(error)})"
        return MeasuredBurn(None, None, 0, 0, timedelta(0), unavailable), None
