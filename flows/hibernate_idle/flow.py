"""The hibernate-idle recipe: probe GPU utilisation, warn, then hibernate what stays idle.

Select the instances, set aside those exempt, snoozed or not ACTIVE, ask the probe about
the rest, decide with the pure rules (``rules.py``), hold hibernations beyond
``max_actions``, then act: warnings are sent, then remembered with the moment they were
sent (``state.py``); hibernations re-read the instance first (it must still be ACTIVE),
re-read its utilisation over a short fresh window (busy now: not hibernated), run the
pre-hibernate command if one is set, and hibernate. The run judges by the moment it
actually starts, never its scheduled time: a late run must see the latest evidence.
Every instance gets a verdict with its evidence; the report becomes artifacts and
notifications. The flow decides nothing about HTTP; every call is a task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial

from prefect.logging import get_run_logger

from barrack import InvalidStateError, NotFoundError
from barrack.models import VMInstance
from flows.common.alerting import RECIPE_HOOKS, load_notifier, notify_report
from flows.common.concurrency import gather_bounded
from flows.common.guard import run_exclusive
from flows.common.params import recipe_flow
from flows.common.pricing import PriceIndex
from flows.common.publish import publish_report
from flows.common.runtime import current_flow_run_url, scheduled_start
from flows.common.selection import select_instances
from flows.hibernate_idle.params import HibernateIdleParams
from flows.hibernate_idle.report import (
    Action,
    HibernateReport,
    IdleInstanceOutcome,
    hibernate_alerts,
)
from flows.hibernate_idle.rules import (
    IdleJudgement,
    IdleRules,
    IdleVerdict,
    InstanceFacts,
    decide,
    judge_recheck,
    limit_actions,
    verdict_without_telemetry,
)
from flows.hibernate_idle.savings import Rates, hourly_rates
from flows.hibernate_idle.state import InstanceState, changed_states, select_state_store
from flows.hibernate_idle.streaks import extend_streak
from notifications.text import describe_error
from tasks.account import get_balance, get_pricing
from tasks.instances import get_instance, hibernate_instance, list_instances
from tasks.probes import ProbeTarget, UtilizationEvidence
from tasks.probes.ssh import SSHCommandError
from tasks.telemetry import collect_utilization, run_remote_command

__all__ = ["hibernate_idle", "run_hibernate_idle"]

_LEFT_RUNNING = {
    IdleVerdict.EXEMPT,
    IdleVerdict.SNOOZED,
    IdleVerdict.NOT_ACTIVE,
    IdleVerdict.NOT_ARMED,
    IdleVerdict.PROBE_FAILED,
    IdleVerdict.NO_DATA,
    IdleVerdict.BUSY,
}


@recipe_flow(HibernateIdleParams, name="hibernate-idle", log_prints=False, **RECIPE_HOOKS)
async def hibernate_idle(params: HibernateIdleParams) -> HibernateReport:
    """Warn about instances idle for a whole window, then hibernate those still idle later.

    Safety: a probe that fails, times out or finds too little data counts as busy; only
    ACTIVE instances up for ``min_uptime`` are considered; exempt and snoozed instances
    are never touched; a warning always comes first, on an earlier run; the status is
    re-read right before acting; a failing pre-hibernate command cancels that
    hibernation; at most ``max_actions`` per run; ``dry_run`` changes nothing.

    The flow's parameters are the fields of :class:`HibernateIdleParams` (defaults:
    every instance, the prometheus probe).

    Returns:
        The run's report (also published as Prefect artifacts and notifications).
    """
    return await run_exclusive(
        "hibernate-idle",
        params.policy_name,
        partial(run_hibernate_idle, params),
        dry_run=params.dry_run,
    )


async def run_hibernate_idle(params: HibernateIdleParams) -> HibernateReport:
    """The body of :func:`hibernate_idle` (inside a flow run)."""
    logger = get_run_logger()
    conn = params.connection
    notifier = load_notifier() if params.notify else None
    scheduled, current = scheduled_start(), datetime.now(UTC)
    now = params.evaluation_time(scheduled, current)
    late = params.lateness(scheduled, current)
    if late is not None and scheduled is not None:
        logger.info(
            "started %.0f min after its scheduled %s; judging the window up to now, %s",
            late.total_seconds() / 60,
            f"{scheduled:%H:%M:%S}Z",
            f"{now:%H:%M:%S}Z",
        )
    rules = params.rules()
    store = await select_state_store(params.state_store, params.policy_name, params.state_path())
    try:
        remembered = await store.load()
    except OSError as error:  # unreadable memory is safe: everything is warned again first
        logger.warning("idle memory %s unreadable (%s): starting empty", store.describe(), error)
        remembered = {}
    report = HibernateReport(
        policy_name=params.policy_name,
        evaluated_at=now,
        dry_run=params.dry_run,
        probe=params.probe,
        rules=(
            f"idle below {params.util_threshold_pct:g} % and {params.memory_threshold_mib:g} "
            f"MiB for {params.window_minutes:g} min; armed after {params.min_uptime_minutes:g} "
            f"min up; grace {params.grace_minutes:g} min; max {params.max_actions} per run"
        ),
        selection=params.selection.describe(),
        state_store=store.describe(),
        flow_run_url=current_flow_run_url(),
    )

    # 1. Select, and probe only what telemetry can still decide.
    selected = select_instances(await list_instances(conn), params.selection)
    report.excluded = [f"{vm.name}: {why}" for vm, why in selected.excluded]
    instances = {vm.id: vm for vm in selected.chosen}
    facts = {vm.id: InstanceFacts.from_instance(vm) for vm in selected.chosen}
    targets = [
        _target(vm)
        for vm in selected.chosen
        if verdict_without_telemetry(facts[vm.id], rules, now) is None
    ]
    evidence: dict[str, UtilizationEvidence] = {}
    if targets:
        evidence = await collect_utilization(
            params.probe,
            targets,
            now=now,
            window_minutes=params.window_minutes,
            prometheus=params.prometheus,
            ssh=params.ssh,
        )

    # 2. Decide (pure), then hold what max_actions does not allow.
    decisions = [
        _decide(params, rules, facts[i], evidence.get(i), remembered.get(i), now) for i in facts
    ]
    rates = await _rates(params, decisions, instances)
    priority = {i: r.saving_per_day for i, r in rates.items() if r is not None}
    decisions = limit_actions(decisions, params.max_actions, priority)
    outcomes = {
        d.instance.id: _outcome(d, rates.get(d.instance.id), params.dry_run) for d in decisions
    }
    states: dict[str, InstanceState | None] = {d.instance.id: d.state for d in decisions}

    # 3. Act.
    to_hibernate = [d for d in decisions if d.verdict is IdleVerdict.HIBERNATE]
    if to_hibernate and not params.dry_run:
        results = await gather_bounded(
            (
                (
                    d.instance.id,
                    _hibernator(params, rules, instances[d.instance.id], d.hibernate_after),
                )
                for d in to_hibernate
            ),
            params.max_concurrency,
        )
        for instance_id, result in results.items():
            outcome = outcomes[instance_id]
            if isinstance(result, BaseException):
                outcome.action, outcome.reason = (
                    Action.FAILED,
                    f"hibernate failed: {describe_error(result)}",
                )
            else:
                outcome.action = result[0]
                outcome.reason = result[1] or outcome.reason
            if outcome.action in (Action.HIBERNATED, Action.SKIPPED):
                states[instance_id] = None  # nothing left to remember about this idle spell

    # 4. Notify, then remember (a dry run remembers nothing), report. A warning counts
    # from the moment it was sent, so a slow or late run cannot shorten the grace; a
    # crash between the two only means the next run warns again (the safe direction).
    report.instances = sorted(outcomes.values(), key=lambda o: (o.region, o.instance_name))
    await notify_report(notifier, report, hibernate_alerts(report), dry_run=params.dry_run)
    if not params.dry_run:
        sent_at = params.evaluation_time(None, datetime.now(UTC))
        for decision in decisions:
            state = states.get(decision.instance.id)
            if decision.verdict is IdleVerdict.WARN and state is not None:
                states[decision.instance.id] = state.model_copy(update={"warned_at": sent_at})
                outcomes[decision.instance.id].warned_at = sent_at
        forgotten = {i: None for i in remembered if i not in instances}
        try:
            await store.save(changed_states(remembered, {**forgotten, **states}))
        except OSError as error:
            # A full or read-only disk costs this run's memory, never its report: what was
            # warned now is warned again next run, and nothing is hibernated unwarned.
            problem = f"not saved ({error.strerror or error}): warnings are sent again next run"
            logger.warning("idle memory %s %s", store.describe(), problem)
            report.state_store = f"{report.state_store}; {problem}"
    await publish_report(report)
    logger.info(report.summary_line())
    return report


def _target(vm: VMInstance) -> ProbeTarget:
    return ProbeTarget(
        id=vm.id,
        name=vm.name,
        region=str(vm.region),
        public_ip=vm.ip_address,
        private_ip=vm.private_ip,
        gpu_count=int(vm.flavor.gpu_count),
    )


def _decide(
    params: HibernateIdleParams,
    rules: IdleRules,
    facts: InstanceFacts,
    seen: UtilizationEvidence | None,
    prior: InstanceState | None,
    now: datetime,
) -> IdleJudgement:
    """One decision; the ssh probe's single observation first joins the idle streak."""
    streak = None
    if seen is not None and params.probe == "ssh":
        streak, seen = extend_streak(
            prior.streak if prior else None,
            seen,
            util_threshold_pct=params.util_threshold_pct,
            memory_threshold_mib=params.memory_threshold_mib,
        )
    return decide(facts, seen, prior, rules, now, streak=streak)


async def _rates(
    params: HibernateIdleParams, decisions: list[IdleJudgement], instances: dict[str, VMInstance]
) -> dict[str, Rates | None]:
    """Running and hibernated rates of the idle instances (one price-list call, if any)."""
    idle = [d.instance.id for d in decisions if d.verdict.idle]
    if not idle:
        return {}
    currencies = {str(instances[i].currency) for i in idle if instances[i].currency is not None}
    if len(currencies) == 1 and all(instances[i].currency is not None for i in idle):
        currency, pricing = currencies.pop(), await get_pricing(params.connection)
    else:
        balance, pricing = await asyncio.gather(
            get_balance(params.connection), get_pricing(params.connection)
        )
        currency = str(balance.currency)
    index = PriceIndex.from_pricing(currency, pricing)
    return {i: hourly_rates(instances[i], index) for i in idle}


def _outcome(decision: IdleJudgement, rates: Rates | None, dry_run: bool) -> IdleInstanceOutcome:
    verdict = decision.verdict
    if verdict in _LEFT_RUNNING:
        action = Action.LEFT_RUNNING
    elif verdict is IdleVerdict.WARN:
        action = Action.WOULD_WARN if dry_run else Action.WARNED
    elif verdict is IdleVerdict.WAITING:
        action = Action.WAITING
    elif verdict is IdleVerdict.HELD:
        action = Action.HELD
    else:
        action = Action.WOULD_HIBERNATE if dry_run else Action.HIBERNATED
    facts, seen = decision.instance, decision.evidence
    return IdleInstanceOutcome(
        instance_id=facts.id,
        instance_name=facts.name,
        region=facts.region,
        status=facts.status,
        verdict=verdict.value,
        action=action,
        reason=decision.reason,
        probe=seen.probe if seen else None,
        evidence=seen.describe() if seen else "",
        max_util_pct=seen.max_util_pct if seen else None,
        avg_util_pct=seen.avg_util_pct if seen else None,
        max_memory_mib=seen.max_memory_mib if seen else None,
        samples=seen.sample_count if seen else 0,
        window_start=seen.window_start if seen else None,
        window_end=seen.window_end if seen else None,
        warned_at=decision.state.warned_at if decision.state else None,
        hibernate_after=decision.hibernate_after,
        saving_per_day=rates.saving_per_day if rates else None,
        currency=rates.currency if rates else None,
        rates_source=rates.source if rates else None,
        probe_error=seen.error if seen and seen.error else None,
    )


def _hibernator(
    params: HibernateIdleParams, rules: IdleRules, vm: VMInstance, due: datetime | None
) -> Callable[[], Awaitable[tuple[Action, str | None]]]:
    async def run() -> tuple[Action, str | None]:
        return await _hibernate_one(params, rules, vm, due)

    return run


async def _hibernate_one(
    params: HibernateIdleParams, rules: IdleRules, vm: VMInstance, due: datetime | None
) -> tuple[Action, str | None]:
    """Wait until due, re-read status and utilisation, run the pre-hibernate command,
    re-read, hibernate; the action and why."""
    conn = params.connection
    if due is not None and rules.due_wait:  # never before the grace since the warning
        early = (due - datetime.now(UTC)).total_seconds()
        if early > 0:
            await asyncio.sleep(min(early, rules.due_wait.total_seconds()))
    changed = await _status_changed(params, vm.id)
    if changed:
        return Action.SKIPPED, changed
    busy_now = await _busy_now(params, rules, vm)
    if busy_now:
        return Action.SKIPPED, busy_now
    if params.pre_hibernate_command:
        host = params.ssh.host_for(_target(vm))
        if not host:
            return Action.FAILED, f"pre-hibernate command: no {params.ssh.address} IP address"
        try:
            await run_remote_command(
                params.ssh,
                host,
                params.pre_hibernate_command,
                timeout_seconds=params.pre_hibernate_timeout_seconds,
            )
        except SSHCommandError as exc:
            return Action.FAILED, f"pre-hibernate command failed, not hibernated: {exc}"
        changed = await _status_changed(params, vm.id)
        if changed:
            return Action.SKIPPED, changed
    try:
        await hibernate_instance(conn, vm.id)
    except InvalidStateError as exc:
        now_status = exc.current_status or "another state"
        return Action.SKIPPED, f"status changed to {now_status} just before acting"
    except NotFoundError:
        return Action.SKIPPED, "deleted just before acting"
    return Action.HIBERNATED, None


async def _status_changed(params: HibernateIdleParams, instance_id: str) -> str | None:
    """Why the instance can no longer be hibernated (re-read now), or None."""
    try:
        current = await get_instance(params.connection, instance_id)
    except NotFoundError:
        return "deleted before acting"
    if current.status != "ACTIVE":
        return f"status changed to {current.status} before acting"
    return None


async def _busy_now(params: HibernateIdleParams, rules: IdleRules, vm: VMInstance) -> str | None:
    """Why not to act, from utilisation read again up to this very moment, or None.

    The window's evidence may be minutes old by now (a slow probe, a queue of
    hibernations): someone who started a job since must not lose it.
    """
    fresh = await collect_utilization(
        params.probe,
        [_target(vm)],
        now=params.evaluation_time(None, datetime.now(UTC)),
        window_minutes=params.recheck_minutes,
        prometheus=params.prometheus,
        ssh=params.ssh,
    )
    return judge_recheck(fresh.get(vm.id), rules)
