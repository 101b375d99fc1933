"""What chaos scenarios produce: each run's outcome, each scenario's result, the figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.chaos.invariants import RunOutcome, Violation
from tests.chaos.proxy import ProxiedRequest
from tests.chaos.world import RequestRecord

__all__ = ["Figures", "RunRecord", "ScenarioResult"]


@dataclass
class RunRecord:
    """One flow run of a scenario: its outcome and its report (None if it has none)."""

    outcome: RunOutcome
    report: Any = None


@dataclass
class ScenarioResult:
    """A scenario's runs, the evidence it left, and what the checks found."""

    case: str
    profile: str
    runs: list[RunRecord]
    requests: list[RequestRecord]
    violations: list[Violation]
    checked: int
    proxied: list[ProxiedRequest] = field(default_factory=list)

    @property
    def reports(self) -> list[Any]:
        """Reports of the runs that produced one."""
        return [r.report for r in self.runs if r.report is not None]

    def describe(self) -> str:
        """Everything a failing test should print."""
        lines = [f"{self.case} under {self.profile}:"]
        lines += [
            f"  run {r.outcome.label}: {r.outcome.state} {r.outcome.error[:300]}" for r in self.runs
        ]
        lines += [f"  VIOLATION {v}" for v in self.violations]
        return "\n".join(lines)


@dataclass
class Figures:
    """What the chaos runs amount to (the README's reliability figures)."""

    scenarios: int = 0
    runs: int = 0
    kills: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    invariants_checked: int = 0
    violations: int = 0
    texts_scanned: int = 0

    @property
    def faults_injected(self) -> int:
        """Every injected fault, kills included."""
        return sum(self.faults.values()) + self.kills

    def count_scenario(
        self,
        requests: list[RequestRecord],
        proxied: list[ProxiedRequest],
        checked: int,
        violations: int,
        scanned: int,
    ) -> None:
        """Add a scenario: the faults its request logs show, its checks and scanned texts."""
        self.scenarios += 1
        self.faults.update(r.fault for r in requests if r.fault is not None)
        self.faults.update(p.spoiled for p in proxied if p.spoiled not in (None, "drop"))
        self.invariants_checked += checked
        self.violations += violations
        self.texts_scanned += scanned

    def lines(self) -> list[str]:
        """The figures, one per line."""
        kinds = ", ".join(
            [f"{k} {n}" for k, n in sorted(self.faults.items())] + [f"SIGKILL {self.kills}"]
        )
        return [
            f"scenarios:          {self.scenarios}",
            f"flow runs:          {self.runs}",
            f"faults injected:    {self.faults_injected} ({kinds})",
            f"invariants checked: {self.invariants_checked}",
            f"texts scanned:      {self.texts_scanned} (logs, artifacts, states, notifications)",
            f"violations:         {self.violations}",
        ]
