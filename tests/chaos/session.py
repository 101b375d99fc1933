"""A chaos session: simulators, a notification receiver, secrets, and the scenarios.

Used by the pytest suite (one session per test session) and by ``python -m
tests.chaos.long``. Every scenario loads its recipe's scenario into that recipe's
simulator, applies faults, runs the flow through Prefect's engine (in this process, or in
child processes it may kill), then checks every invariant and scans every text the
scenario produced for secrets. :class:`~tests.chaos.results.Figures` counts it all.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from barrack_ops._env import patched_environment
from simulator.scenarios import parse_scenario_yaml
from simulator.testing import SimHandle, running_simulator
from simulator.ticker import ClockTicker
from tests.chaos import invariants as inv
from tests.chaos.capture import captured_logs
from tests.chaos.children import Children
from tests.chaos.faults import FaultProfile
from tests.chaos.proxy import ChaosProxy, ProxiedRequest, ProxyRule
from tests.chaos.recipes import Evidence, ParamsContext, RecipeCase
from tests.chaos.results import Figures, RunRecord, ScenarioResult
from tests.chaos.secrets_scan import SecretScan, prefect_texts, scan
from tests.chaos.world import MUTATING_METHODS, WorldView, capture_world, request_records
from tests.chaos.zygote_process import Zygote, zygote_environment
from tests.helpers.receiver import FaultyReceiver

__all__ = ["RUN_BUDGET_SECONDS", "ChaosSession"]

RUN_BUDGET_SECONDS = 60.0
"""A run still going after this long (real time) is stopped and counted as a violation."""

TICK_SECONDS = 0.05
"""Real seconds between clock ticks while a recipe waits (each tick is a control call to
the simulator in this process: fewer, larger ticks leave the CPU to the recipe)."""

SLOW_FIRST_ANSWER = 2.0
"""Seconds the first of two overlapping runs waits for its first answer when the second
may wait for it: it is still going when the second starts."""

_REFUSED = "RunInProgressError"


@dataclass(frozen=True)
class _Stage:
    """A loaded scenario: its simulator, scratch space, world before, time, environment."""

    sim: SimHandle
    workdir: Path
    before: WorldView
    now: datetime
    env: Mapping[str, str]
    logs: list[tuple[str, str]]
    started: float


class ChaosSession:
    """Simulators (one per recipe), a receiver, the secrets, and the figures.

    Args:
        workdir: scratch space (state files, lock files, child results).
        prefect_api_url: the Prefect API the runs report to (child processes included).
    """

    def __init__(self, workdir: Path, prefect_api_url: str) -> None:
        self.workdir = workdir
        self.prefect_api_url = prefect_api_url
        self.api_key = "chaos-key-" + secrets.token_hex(16)
        self.hook_token = "hook" + secrets.token_hex(12)
        self.header_token = "hdr" + secrets.token_hex(12)
        self.figures = Figures()
        self._stack = ExitStack()
        self._sims: dict[str, SimHandle] = {}
        self.receiver = self._stack.enter_context(FaultyReceiver())
        self._scenario_number = 0
        self._zygote: Zygote | None = None
        self._counting = True

    def close(self) -> None:
        """Stop every simulator, the receiver and the child-process parent."""
        self._stack.close()

    def __enter__(self) -> ChaosSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def off_the_record(self) -> Iterator[None]:
        """Leave the scenarios of the block out of the figures (invariants broken on purpose)."""
        self._counting = False
        try:
            yield
        finally:
            self._counting = True

    def start_zygote(self) -> Zygote:
        """The child-process parent, started on first use (its imports take seconds)."""
        if self._zygote is None:
            env = zygote_environment(self.prefect_api_url)
            self._zygote = self._stack.enter_context(Zygote(env))
        return self._zygote

    # -- what a run sees ---------------------------------------------------------------

    @property
    def secrets(self) -> tuple[str, ...]:
        """Everything that must never be shown: the API key and the notification tokens."""
        return (self.api_key, self.hook_token, self.header_token)

    @property
    def notify_url(self) -> str:
        """The receiver as an apprise URL with a token in the path and in a header."""
        return (
            f"json://127.0.0.1:{self.receiver.port}/hooks/{self.hook_token}"
            f"?+X-Hook-Token={self.header_token}"
        )

    def environment(self, workdir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a run (the key, notifications, state, guard)."""
        return {
            "BARRACK_API_KEY": self.api_key,
            "BARRACK_NOTIFY_URLS": self.notify_url,
            "BARRACK_NOTIFY_STATE": "memory",
            "BARRACK_OPS_STATE_DIR": str(workdir / "state"),
            "BARRACK_OPS_GUARD_LOCK_DIR": str(self.workdir / "locks"),
            **(extra or {}),
        }

    def sim(self, case: RecipeCase) -> SimHandle:
        """The recipe's simulator (started on first use)."""
        if case.name not in self._sims:
            self._sims[case.name] = self._stack.enter_context(
                running_simulator(
                    parse_scenario_yaml(case.scenario),
                    seed=1,
                    start=case.start,
                    api_key=self.api_key,
                )
            )
        return self._sims[case.name]

    def _ticker(self, case: RecipeCase, sim: SimHandle) -> ClockTicker | None:
        if not case.ticker_step:
            return None
        return ClockTicker(sim, step=case.ticker_step, interval=TICK_SECONDS)

    @contextmanager
    def _stage(
        self, case: RecipeCase, name: str, seed: int, extra_env: Mapping[str, str] | None = None
    ) -> Iterator[_Stage]:
        """Load the recipe's scenario, prepare it, and capture logs for the ``with`` block."""
        sim = self.sim(case)
        sim.load_scenario(yaml=case.scenario, seed=seed)
        sim.clear_requests()
        self.receiver.clear()
        self._scenario_number += 1
        workdir = self.workdir / f"{self._scenario_number:03d}-{case.name}-{name}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        case.prepare(sim, workdir)
        env = self.environment(workdir, extra_env)
        with patched_environment(env), captured_logs() as logs:
            yield _Stage(sim, workdir, capture_world(sim), sim.now(), env, logs, time.time())

    def _children(self, case: RecipeCase, stage: _Stage) -> Children:
        zygote = self.start_zygote().ready()
        return Children(
            zygote,
            stage.workdir / "children",
            stage.env,
            RUN_BUDGET_SECONDS,
            lambda: self._ticker(case, stage.sim),
        )

    # -- running flows -------------------------------------------------------------------

    def run_flow(self, case: RecipeCase, params: Any, label: str, sim: SimHandle) -> RunRecord:
        """One flow run in this process, through Prefect's engine, within its budget."""
        with self._ticker(case, sim) or nullcontext():
            record = asyncio.run(self._run(case, label, params))
        self._tally(runs=1)
        return record

    async def _run(self, case: RecipeCase, label: str, params: Any) -> RunRecord:
        started = time.monotonic()
        try:
            state = await asyncio.wait_for(case.flow(params, return_state=True), RUN_BUDGET_SECONDS)
        except TimeoutError:
            return RunRecord(inv.RunOutcome(label, "TIMED_OUT", budget=RUN_BUDGET_SECONDS))
        result = await state.aresult(raise_on_failure=False)
        flow_run_id = str(state.state_details.flow_run_id)
        elapsed = time.monotonic() - started
        if state.is_completed():
            outcome = inv.RunOutcome(
                label, "COMPLETED", "", flow_run_id, elapsed, RUN_BUDGET_SECONDS
            )
            return RunRecord(outcome, result)
        error = (
            f"{type(result).__name__}: {result}"
            if isinstance(result, BaseException)
            else (state.message or "")
        )
        kind = "FAILED" if state.is_failed() else state.type.value
        return RunRecord(
            inv.RunOutcome(label, kind, error, flow_run_id, elapsed, RUN_BUDGET_SECONDS)
        )

    def recover(
        self, case: RecipeCase, stage: _Stage, records: Sequence[RunRecord]
    ) -> list[RunRecord]:
        """After a run that did not complete, the next one (faults gone) must tidy up.

        A run the guard turned away did nothing, so it leaves nothing to tidy.
        """
        if all(r.outcome.state == "COMPLETED" or _REFUSED in r.outcome.error for r in records):
            return []
        ctx = ParamsContext(stage.sim.base_url, stage.sim, stage.workdir, stage.now)
        return [self.run_flow(case, case.params(ctx), "recovery", stage.sim)]

    # -- scenarios ----------------------------------------------------------------------

    def faults_scenario(
        self, case: RecipeCase, profile: FaultProfile, seed: int, runs: int = 1
    ) -> ScenarioResult:
        """Run ``case`` under ``profile`` (``runs`` times in a row), then check everything."""
        return self.scenario(case, profile.name, [profile] * runs, seed)

    def scenario(
        self, case: RecipeCase, name: str, profiles: Sequence[FaultProfile], seed: int
    ) -> ScenarioResult:
        """One run per profile, in a row on the same world, then the checks."""
        records: list[RunRecord] = []
        proxied: list[ProxiedRequest] = []
        with self._stage(case, name, seed) as stage:
            sim = stage.sim
            for number, profile in enumerate(profiles, start=1):
                with patched_environment(profile.env), ChaosProxy(sim.root_url) as proxy:
                    proxy.set_rules(*profile.proxy_rules, seed=seed + number)
                    sim.settings(idempotency_replay=profile.replay)
                    if profile.sim_rules:
                        sim.set_faults(*(dict(r) for r in profile.sim_rules), seed=seed + number)
                    base_url = proxy.base_url if profile.proxy_rules else sim.base_url
                    ctx = ParamsContext(
                        base_url, sim, stage.workdir, stage.now, profile.client_timeout
                    )
                    try:
                        label = f"{profile.name}-{number}"
                        records.append(self.run_flow(case, case.params(ctx), label, sim))
                    finally:
                        sim.clear_faults()
                        sim.settings(idempotency_replay=True)
                    proxied += proxy.requests()
            records += self.recover(case, stage, records)
            return self.conclude(case, name, stage, records, proxied=proxied)

    def crash_scenario(self, case: RecipeCase, seed: int) -> ScenarioResult:
        """Run the recipe in a child process, SIGKILL it at a seeded call, run it again."""
        kill_at = random.Random(f"crash:{case.name}:{seed}").randint(2, case.typical_requests)
        with self._stage(case, "sigkill", seed) as stage:
            sim = stage.sim
            params = case.params(ParamsContext(sim.base_url, sim, stage.workdir, stage.now))
            children = self._children(case, stage)
            first = children.run_and_kill(case, params, sim.runtime.log, kill_at)
            self._tally(runs=1, kills=int(first.outcome.state == "KILLED"))
            records = [first, self.run_flow(case, params, "rerun", sim)]
            records += self.recover(case, stage, records[1:])
            return self.conclude(
                case, "sigkill", stage, records, killed=True, extra_texts=children.outputs()
            )

    def overlap_scenario(
        self, case: RecipeCase, seed: int, *, wait_seconds: float
    ) -> ScenarioResult:
        """Two runs of the recipe at once (each in its own process, behind its own proxy).

        The first is slow (its first answer takes :data:`SLOW_FIRST_ANSWER` seconds) and the
        second starts once the first is at the API, so holds its scope: the second must
        wait (``wait_seconds`` long enough) or give up (0) without acting meanwhile.
        """
        name = f"overlap-wait-{wait_seconds:g}"
        env = {"BARRACK_OPS_GUARD_WAIT_SECONDS": str(wait_seconds)}
        with (
            self._stage(case, name, seed, env) as stage,
            ChaosProxy(stage.sim.root_url, run="a") as first,
            ChaosProxy(stage.sim.root_url, run="b") as second,
        ):
            sim = stage.sim
            jobs = [
                (p.run, case.params(ParamsContext(p.base_url, sim, stage.workdir, stage.now)))
                for p in (first, second)
            ]
            # The first is slow: its first answer waits until the second has given up (or,
            # when the second may wait, a moment), so it surely still holds its scope.
            gives_up = wait_seconds == 0
            slow = RUN_BUDGET_SECONDS / 2 if gives_up else SLOW_FIRST_ANSWER
            first.set_rules(ProxyRule(kind="delay", times=1, delay_s=slow))
            children = self._children(case, stage)
            records = children.run_together(
                case,
                jobs,
                go_on=lambda: first.requests_started > 0,
                on_done=lambda label: first.released.set() if label == second.run else None,
            )
            self._tally(runs=2, overlaps=1)
            calls = {p.run: p.requests() for p in (first, second)}
            spans = {
                run: [(c.started, c.ended, c.method in MUTATING_METHODS) for c in listed]
                for run, listed in calls.items()
            }
            refused = {r.outcome.label for r in records if _REFUSED in r.outcome.error}
            checks = [
                ("no overlapping action", inv.no_interleaving(spans)),
                ("a refused run does nothing", inv.refused_runs_did_nothing(refused, spans)),
            ]
            return self.conclude(
                case,
                name,
                stage,
                records,
                proxied=[c for listed in calls.values() for c in listed],
                extra_checks=checks,
                extra_texts=children.outputs(),
            )

    # -- checks ---------------------------------------------------------------------------

    def conclude(
        self,
        case: RecipeCase,
        profile: str,
        stage: _Stage,
        records: list[RunRecord],
        *,
        proxied: Sequence[ProxiedRequest] = (),
        killed: bool = False,
        extra_checks: Sequence[tuple[str, list[inv.Violation]]] = (),
        extra_texts: Sequence[tuple[str, str]] = (),
    ) -> ScenarioResult:
        """Check every invariant over what the scenario left, scan for secrets, count."""
        before = stage.before
        after = capture_world(stage.sim)
        requests = request_records(stage.sim.requests())
        reports = [r.report for r in records if r.report is not None]
        checks = inv.Checks()
        for _name, found in [
            *case.checks(Evidence(before, after, requests, reports, killed)),
            *extra_checks,
        ]:
            checks.add(found)
        done: set[str] = set().union(*(case.done(r) for r in reports))
        accounted: set[str] = set().union(*(case.accounted(r) for r in reports))
        # Deletions and actions of a run that failed or was killed are in no report (the
        # run's failure is, and its alert); what it created must be adopted by the next.
        clean = all(r.outcome.state == "COMPLETED" for r in records)
        kinds: tuple[str, ...] = ("snapshot", "instance")
        if killed:
            kinds = case.adopted_after_kill
        elif clean:
            kinds = ("snapshot", "instance", "delete", "hibernate")
        checks.add(inv.changes_accounted_for(before, after, requests, done, kinds=kinds))
        if clean:
            checks.add(inv.abandoned_calls_reported(requests, accounted))
        received = self.receiver.received
        titles = [n.title or "" for n in received]
        checks.add(inv.failed_runs_alerted((r.outcome for r in records), case.name, titles))
        notes = [f"{n.title}\n{n.body}" for n in received]
        for report in reports:
            checks.add(
                inv.failures_are_alerted(case.failed(report), notes, report_text=report.markdown())
            )
        checks.add(inv.runs_end_clearly(r.outcome for r in records))
        texts = self._texts(case, stage, records, extra_texts)
        checks.add(scan(texts.texts, self.secrets))
        if self._counting:
            self.figures.count_scenario(
                requests, list(proxied), checks.checked, len(checks.violations), len(texts.texts)
            )
        return ScenarioResult(
            case.name,
            profile,
            records,
            requests,
            checks.violations,
            checks.checked,
            list(proxied),
        )

    def _texts(
        self,
        case: RecipeCase,
        stage: _Stage,
        records: Sequence[RunRecord],
        extra: Sequence[tuple[str, str]],
    ) -> SecretScan:
        texts = SecretScan()
        texts.texts += stage.logs
        for record in records:
            texts.add(f"run {record.outcome.label} error", record.outcome.error)
            if record.report is not None:
                texts.add(f"run {record.outcome.label} report", record.report.model_dump_json())
        for note in self.receiver.received:
            texts.add("notification", f"{note.title} {note.body} {note.payload}")
        ids = {r.outcome.flow_run_id for r in records if r.outcome.flow_run_id}
        # Every run of the recipe since the scenario began: a killed child's run included.
        texts.texts += asyncio.run(prefect_texts(ids, flow_name=case.name, since=stage.started))
        texts.texts += list(extra)
        return texts

    def _tally(self, *, runs: int, kills: int = 0, overlaps: int = 0) -> None:
        if self._counting:
            self.figures.runs += runs
            self.figures.kills += kills
            if overlaps:
                self.figures.faults["overlap"] += overlaps
