"""The benchmark's servers, and one measured recipe run from reset to figures."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from benchmarks._cli import Options
from benchmarks._measure import idle_cpu_rate, run_child, settle
from benchmarks._procs import (
    ADMIN_TOKEN,
    API_KEY,
    ManagedProcess,
    prefect_environment,
    start_prefect_server,
    start_simulator,
)
from benchmarks._recipes import Bench, BenchRecipe
from benchmarks._scenario import FleetShape, nightly_slot
from benchmarks._simctl import RequestCollector
from benchmarks._table import Row
from simulator.control import SimControl

__all__ = ["Harness"]

_DROPPED_EVENT: Final = "dropping message for topic='events'"


class Harness:
    """A Prefect server (started here, or given) and the simulator, for every run.

    Args:
        options: the command line.
        workdir: logs, ``PREFECT_HOME`` and the recipes' state files.
    """

    def __init__(self, options: Options, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.prefect: ManagedProcess | None = None
        self.prefect_url = options.prefect_api_url or ""
        self._simulator: ManagedProcess | None = None
        self._ctl: SimControl | None = None
        self._idle_rate = 0.0
        self._runs = 0

    @property
    def ctl(self) -> SimControl:
        """The simulator's control routes (after :meth:`start`)."""
        if self._ctl is None:
            raise RuntimeError("the harness is not started")
        return self._ctl

    @property
    def simulator(self) -> ManagedProcess:
        """The simulator process (after :meth:`start`)."""
        if self._simulator is None:
            raise RuntimeError("the harness is not started")
        return self._simulator

    def start(self) -> str:
        """Start the servers; a line saying where they are."""
        started = time.monotonic()
        if not self.prefect_url:
            self.prefect = start_prefect_server(self.workdir, db=self.options.db)
            self.prefect_url = self.prefect.url
        self._simulator = start_simulator(f"{self.options.clock_speed:g}", self.workdir)
        self._ctl = SimControl(self._simulator.url, ADMIN_TOKEN, API_KEY, timeout=600)
        if self.prefect is not None:
            self._idle_rate = idle_cpu_rate(self.prefect)
        prefect = (
            f"Prefect server {self.prefect_url} on {self.options.db} (pid {self.prefect.pid}, "
            f"idles at {self._idle_rate:.3f} CPU s/s with its database)"
            if self.prefect is not None
            else f"Prefect server {self.prefect_url} (given: its CPU is not measured)"
        )
        return (
            f"{prefect}, simulator {self._simulator.url} (pid {self._simulator.pid}); "
            f"ready in {time.monotonic() - started:.1f} s"
        )

    def stop(self) -> None:
        """Stop the servers this harness started."""
        if self._ctl is not None:
            self._ctl.close()
        for process in (self._simulator, self.prefect):
            if process is not None:
                process.stop()

    def env(self) -> dict[str, str]:
        """The flow process's environment."""
        env = prefect_environment(self.workdir, self.prefect_url)
        env["BARRACK_API_KEY"] = API_KEY
        env["BARRACK_OPS_STATE_DIR"] = str(self.workdir / "state")
        env["PYTHONUNBUFFERED"] = "1"
        # Prefect's INFO by default: a production worker ships these logs to the server.
        env["PREFECT_LOGGING_LEVEL"] = self.options.flow_log_level
        return env

    def run_setup_flow(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run a flow that prepares a measured run (its figures are not reported)."""
        self._runs += 1
        child = run_child(job, self.env(), self.workdir / f"setup-{self._runs}.log")
        if child.result.get("state") != "COMPLETED":
            raise RuntimeError(f"a setup run failed: {child.result['summary']}; see {child.log}")
        return child.result

    def _bench(self, shape: FleetShape) -> Bench:
        options = self.options
        return Bench(
            ctl=self.ctl,
            shape=shape,
            slot=nightly_slot(self.ctl.start()),
            speed=options.clock_speed,
            rate_limit=options.rate_limit,
            latency_ms=options.latency_ms,
            concurrency=options.concurrency,
            client_rate_limit=options.client_rate_limit,
            follow_rate_limit=options.follow_rate_limit,
            run_flow=self.run_setup_flow,
        )

    def _dropped_events(self) -> int:
        if self.prefect is None or self.prefect.log is None:
            return 0
        return self.prefect.log.read_text(errors="replace").count(_DROPPED_EVENT)

    def measure(self, recipe: BenchRecipe, shape: FleetShape) -> Row:
        """Reset the fleet, prepare, run the recipe once, and collect its figures."""
        ctl, options = self.ctl, self.options
        ctl.reset()
        ctl.configure(latency_ms=options.latency_ms, rate_limit=options.rate_limit)
        bench = self._bench(shape)
        wanted = recipe.prepare(bench) or ctl.now()
        # Never before tonight's slot; the clock follows a time set ahead of it.
        wanted = max(wanted, bench.slot + timedelta(seconds=1))
        now = ctl.now()
        if now < wanted:
            ctl.advance((wanted - now).total_seconds())
        job = recipe.job(bench, wanted)
        self._runs += 1
        server_cpu = self.prefect.cpu_seconds() if self.prefect is not None else 0.0
        sim_cpu = self.simulator.cpu_seconds()
        dropped = self._dropped_events()
        with RequestCollector(ctl) as log:
            child = run_child(job, self.env(), self.workdir / f"run-{self._runs}.log")
        sim_cpu = self.simulator.cpu_seconds() - sim_cpu
        load = os.getloadavg()[0]
        result = child.result
        task_runs, settle_s = settle(
            self.prefect, self.prefect_url, result["flow_run_id"], idle_cpu_per_s=self._idle_rate
        )
        server_cpu_s = self.prefect.cpu_seconds() - server_cpu if self.prefect is not None else None
        dropped = self._dropped_events() - dropped
        # Read the outcome (snapshot and instance timings) at full speed.
        ctl.configure(latency_ms=0, rate_limit=0)
        spans = log.spans(options.clock_speed)
        floor = recipe.floor(bench, spans)
        routes = log.by_route()
        notes = []
        if log.overflowed:
            notes.append("the request log overflowed between reads: counts are a lower bound")
        if settle_s > 2:
            notes.append(f"Prefect went on recording the run for {settle_s:.0f} s after it ended")
        if dropped:
            notes.append(
                f"the Prefect server dropped {dropped:,} events (its in-memory queue was "
                "full): some task runs are missing from its records"
            )
        if not result.get("ok"):
            notes.append(f"not ok: see {child.log}")
        return Row(
            recipe=recipe.name,
            instances=shape.instances,
            wall_s=result["wall_s"],
            floor_s=floor.seconds,
            calls=sum(routes.values()),
            calls_needed=floor.total_calls,
            rate_limited=sum(c for r, c in routes.items() if r.endswith("-> 429")),
            task_runs=task_runs,
            peak_rss_mb=child.peak_rss_mb,
            flow_cpu_s=child.cpu_s,
            server_cpu_s=server_cpu_s,
            simulator_cpu_s=sim_cpu,
            load=load,
            ok=bool(result.get("ok")),
            summary=result.get("summary", ""),
            routes=Counter(routes),
            spans=spans,
            floor_calls=dict(floor.calls),
            floor_waits=dict(floor.waits),
            note="; ".join(notes),
        )
