"""The spend-report recipe: where the money went over a period, what was wasted, anomalies.

Read the account's billing records, top-ups and AI usage from the start of the anomaly
baseline to now, the fleet as it is now, the balance, and the hibernate-idle recipe's
idle evidence; aggregate the period and the one before (pure), find waste and anomalies
(pure), draw the daily chart, then publish (artifacts) and notify (the digest to every
destination that takes info, the anomaly alert deduped, repeated and resolved by the
notifier's ledger). It changes nothing in the account.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anyio
from prefect.logging import get_run_logger

from flows.common.account import read_account
from flows.common.alerting import RECIPE_HOOKS, notifier_on_clock
from flows.common.params import recipe_flow
from flows.common.pricing import PriceIndex
from flows.common.publish import publish_report
from flows.common.runtime import current_flow_run_url, scheduled_start
from flows.hibernate_idle.state import InstanceState, select_state_store
from flows.spend_report.aggregate import balance_moves, spend_over
from flows.spend_report.alerts import anomaly_alerts, digest_alert
from flows.spend_report.anomaly import baseline_of, find_anomalies
from flows.spend_report.charges import Charge, charges_from_records
from flows.spend_report.chart import render_chart
from flows.spend_report.params import SpendReportParams
from flows.spend_report.periods import Period, last_week, parse_period, zone
from flows.spend_report.report import SpendReport
from flows.spend_report.waste import IdleWindow, find_waste
from notifications import DeliveryReport, Notifier
from state import state_dir
from state.variables import variable_slug
from tasks.billing import list_ai_usage, list_billing_records, list_top_ups

__all__ = [
    "full_rates",
    "idle_windows",
    "notify_spend",
    "report_period",
    "run_spend_report",
    "spend_report",
]


@recipe_flow(SpendReportParams, name="spend-report", log_prints=False, **RECIPE_HOOKS)
async def spend_report(params: SpendReportParams) -> SpendReport:
    """Report what the fleet cost over a period (last week by default), on what, and
    what was wasted; alert on days above the baseline. Changes nothing in the account.

    The flow's parameters are the fields of :class:`SpendReportParams`.

    Returns:
        The report (also published as Prefect artifacts and notifications).
    """
    return await run_spend_report(params)


def report_period(params: SpendReportParams, now: datetime) -> Period:
    """The period asked for, or last week in the parameters' timezone."""
    tz = zone(params.timezone)
    return parse_period(params.period, tz) if params.period else last_week(now, tz)


def idle_windows(states: dict[str, InstanceState]) -> list[IdleWindow]:
    """When the hibernate-idle recipe judged each instance idle (from its persisted state).

    The window runs from the start of its idle streak (ssh probe) or its warning to the
    last run that judged it idle.
    """
    windows = []
    for instance_id, state in sorted(states.items()):
        since = state.streak.since if state.streak is not None else state.warned_at
        if since is None or state.last_idle_at is None or state.last_idle_at <= since:
            continue
        windows.append(IdleWindow(instance_id, since, state.last_idle_at))
    return windows


def full_rates(charges: list[Charge], index: PriceIndex) -> dict[str, Decimal]:
    """Each hibernated instance's full rate per hour from the price list (what it saved)."""
    rates: dict[str, Decimal] = {}
    for charge in charges:
        if charge.kind == "hibernated" and charge.resource_id not in rates:
            rate = index.gpu_rate(charge.gpu_model, charge.gpu_count or 1)
            if rate is not None:
                rates[charge.resource_id] = rate
    return rates


def build_notifier(params: SpendReportParams, now: datetime) -> Notifier:
    """``BARRACK_NOTIFY_*`` on the run's clock (the anomaly alert's repeat counts from it)."""
    repeat = timedelta(hours=params.repeat_hours) if params.repeat_hours is not None else None
    return notifier_on_clock(now, repeat)


async def run_spend_report(params: SpendReportParams) -> SpendReport:
    """The body of :func:`spend_report` (inside a flow run)."""
    logger = get_run_logger()
    conn = params.connection
    now = params.evaluation_time(scheduled_start(), datetime.now(UTC))
    notifier = build_notifier(params, now) if params.notify else None
    period = report_period(params, now)
    previous = period.previous()
    history = period.weeks_before(params.baseline_weeks)
    start = min(previous.start, history.start)
    until = max(now, period.start)

    records, top_ups, ai = await asyncio.gather(
        list_billing_records(conn, start=start, end=until),
        list_top_ups(conn, start=start, end=until),
        list_ai_usage(conn, start=start, end=until),
    )
    account = await read_account(conn)
    balance, instances, volumes = account.balance, account.instances, account.volumes
    snapshots, currency = account.snapshots, account.currency
    charges = charges_from_records(records.items, ai.items, until=until)
    incomplete = [*records.missing, *top_ups.missing, *ai.missing]
    states = await _idle_states(params)

    spend = spend_over(charges, period)
    before = spend_over(charges, previous)
    baseline_spend = spend_over(charges, history)
    baseline = baseline_of(
        baseline_spend,
        margin_pct=params.margin_pct,
        margin_amount=params.margin_amount,
        fixed=params.fixed_daily_limit,
    )
    names = {
        key: entry.name
        for key, entry in {**baseline_spend.by_instance, **spend.by_instance}.items()
    }
    anomalies = find_anomalies(spend, baseline_spend, baseline, names=names)
    anchor = balance.updated_at or now
    moves = (
        balance_moves(
            charges,
            [(t.created_at, t.amount) for t in top_ups.items],
            balance=balance.balance,
            anchor=anchor,
            period=period,
        )
        if not incomplete
        else None
    )
    waste = find_waste(
        charges=charges,
        period=period,
        now=now,
        instances=instances,
        volumes=volumes,
        snapshots=snapshots,
        idle=idle_windows(states),
        full_rates=full_rates(charges, account.prices()),
    )
    report = SpendReport(
        account_name=params.account_name,
        currency=currency,
        now=now,
        spend=spend,
        previous=before,
        balance=moves,
        waste=waste,
        baseline=baseline,
        anomalies=anomalies,
        incomplete=incomplete,
        dry_run=params.dry_run,
        flow_run_url=current_flow_run_url(),
    )
    if incomplete:
        logger.warning("spend report incomplete: %s", "; ".join(incomplete))
    out_dir = params.output_dir or state_dir() / "spend-report"
    report.chart_path = await anyio.to_thread.run_sync(
        lambda: render_chart(spend, currency, _chart_file(out_dir, params.account_name, period))
    )
    if notifier is not None and not params.dry_run:
        delivery = await anyio.to_thread.run_sync(lambda: notify_spend(notifier, report))
        report.notifications = delivery.summary()
    elif params.dry_run:
        logger.info("dry run: the digest and alerts are not sent")
    await publish_report(report)
    logger.info(report.summary_line())
    return report


def _chart_file(out_dir: Path, account: str, period: Period) -> Path:
    return out_dir / f"spend-{variable_slug(account) or 'account'}-{period.first}_{period.last}.png"


async def _idle_states(params: SpendReportParams) -> dict[str, InstanceState]:
    """The hibernate-idle policy's memory; unreadable means no idle evidence (logged)."""
    logger = get_run_logger()
    try:
        store = await select_state_store(
            params.idle_state_store, params.idle_policy_name, params.idle_state_file
        )
        return await store.load()
    except Exception as error:  # missing evidence costs a waste line, never the report
        logger.warning(
            "hibernate-idle state unreadable (%s): no idle GPU hours", type(error).__name__
        )
        return {}


def notify_spend(notifier: Notifier, report: SpendReport) -> DeliveryReport:
    """Send the digest (long by email with the chart, short in chat) and the anomaly alert.

    The anomaly alert goes through the ledger (new, repeated, escalated, resolved); the
    digest is a report and goes out on every run that is not a dry run. Never raises.
    """
    attachments = [str(report.chart_path)] if report.chart_path is not None else []
    digest = notifier.send_document(
        digest_alert(report),
        short_body=report.chat_summary(),
        long_body=report.markdown(),
        attachments=attachments,
    )
    alerts, cleared = anomaly_alerts(report)
    return digest.merge(notifier.dispatch(alerts=alerts, cleared=cleared))
