"""Flow runs in child processes: one to SIGKILL at a chosen call, or several at once.

Children are forked by the :class:`~tests.chaos.zygote_process.Zygote` (everything is
imported already), so a run in a child costs what the run costs. A child's job file holds
the recipe, its parameters and its environment; it writes its outcome to a result file.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.chaos.invariants import RunOutcome
from tests.chaos.recipes import RecipeCase
from tests.chaos.results import RunRecord
from tests.chaos.zygote_process import Zygote

__all__ = ["Children"]


@dataclass
class Children:
    """Runs a recipe in children of ``zygote``.

    Attributes:
        zygote: the pre-imported parent.
        workdir: where job and result files go.
        env: the environment of every child (the key, notifications, state, guard).
        budget: real seconds a child may run before it is killed.
        clock: what keeps the simulated clock moving meanwhile (a ticker, or nothing).
    """

    zygote: Zygote
    workdir: Path
    env: Mapping[str, str]
    budget: float
    clock: Callable[[], AbstractContextManager[Any] | None]

    def run_and_kill(self, case: RecipeCase, params: Any, log: Any, kill_at: int) -> RunRecord:
        """Run in a child and SIGKILL it once ``log`` (the simulator's request log) has
        grown by ``kill_at`` calls; a child that ends first is reported as it ended."""
        job_dir = self._write_job(case, params, "child")
        base = len(log)
        started = time.monotonic()
        killed = False
        with self.clock() or nullcontext():
            pid = self.zygote.fork(job_dir / "job.json")
            while not (job_dir / "result.json").exists():
                if len(log) - base >= kill_at or time.monotonic() - started > self.budget:
                    os.kill(pid, signal.SIGKILL)  # our own child, by its pid
                    killed = True
                    break
                time.sleep(0.002)
            status = self.zygote.reap(pid)
        elapsed = time.monotonic() - started
        if killed and status == -signal.SIGKILL:
            return RunRecord(
                RunOutcome(f"child killed at call {kill_at}", "KILLED", elapsed=elapsed)
            )
        return self._record(case, job_dir, "child (it ended before the kill)", elapsed)

    def run_together(
        self,
        case: RecipeCase,
        jobs: Sequence[tuple[str, Any]],
        *,
        go_on: Callable[[], bool] = lambda: True,
        on_done: Callable[[str], None] = lambda label: None,
    ) -> list[RunRecord]:
        """Several runs at once, each in its own child.

        Each next one starts once ``go_on()`` is true (for example: the one before is at
        the API, holding its scope); ``on_done(label)`` is called as each one ends.
        """
        dirs = [(label, self._write_job(case, params, label)) for label, params in jobs]
        started = time.monotonic()
        with self.clock() or nullcontext():
            pids: list[int] = []
            for _, job_dir in dirs:
                while pids and not go_on() and time.monotonic() - started < self.budget:
                    time.sleep(0.005)
                pids.append(self.zygote.fork(job_dir / "job.json"))
            pending = dict(dirs)
            while pending:
                for label in [n for n, d in pending.items() if (d / "result.json").exists()]:
                    del pending[label]
                    on_done(label)
                if pending and time.monotonic() - started > self.budget:
                    for pid in pids:
                        os.kill(pid, signal.SIGKILL)  # our own children, by pid
                    break
                time.sleep(0.01)
            for pid in pids:
                self.zygote.reap(pid)
        elapsed = time.monotonic() - started
        return [
            self._record(case, job_dir, label, elapsed)
            if (job_dir / "result.json").exists()
            else RunRecord(RunOutcome(label, "TIMED_OUT", budget=self.budget))
            for label, job_dir in dirs
        ]

    def outputs(self) -> list[tuple[str, str]]:
        """What every child printed (stdout and stderr), to scan for secrets."""
        return [
            (f"child output {path.parent.name}", path.read_text(encoding="utf-8", errors="replace"))
            for path in sorted(self.workdir.glob("*/output.txt"))
        ]

    def _write_job(self, case: RecipeCase, params: Any, name: str) -> Path:
        job_dir = self.workdir / name
        job_dir.mkdir(parents=True)
        job = {
            "recipe": case.name,
            "params": params.model_dump(mode="json"),
            "env": dict(self.env),
            "result": str(job_dir / "result.json"),
            "output": str(job_dir / "output.txt"),
        }
        (job_dir / "job.json").write_text(json.dumps(job), encoding="utf-8")
        return job_dir

    def _record(self, case: RecipeCase, job_dir: Path, label: str, elapsed: float) -> RunRecord:
        result = json.loads((job_dir / "result.json").read_text(encoding="utf-8"))
        raw = result.get("report")
        outcome = RunOutcome(
            label,
            result["state"],
            result.get("error", ""),
            result.get("flow_run_id"),
            elapsed,
            self.budget,
        )
        return RunRecord(outcome, case.report_model.model_validate(raw) if raw else None)
