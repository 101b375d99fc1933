"""The long chaos run: more seeds, more rounds, every malformed kind; prints the figures.

    python -m tests.chaos.long                  # 5 seeds, 2 rounds per fault scenario
    python -m tests.chaos.long --seeds 20 --rounds 3

For each seed and recipe: every fault profile (``--rounds`` runs in a row on one world,
drops firing one to three times per route by seed), every kind of malformed answer on a
seeded route, a SIGKILL at a seeded call followed by a rerun, and two overlapping runs
(the second waiting, then the second giving up). Every invariant is checked after every
scenario; the figures and any violation are printed. The exit status is 1 when an
invariant broke.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

from tests.chaos.faults import MALFORMED_KINDS, PROFILES, drop_rules, malformed_profile
from tests.chaos.recipes import CASES, RecipeCase
from tests.chaos.results import ScenarioResult
from tests.chaos.session import ChaosSession


@contextmanager
def _prefect() -> Iterator[str]:
    """A fresh Prefect API for the run (offline), like the pytest session's harness."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.pop("PREFECT_API_URL", None)
    for name in [n for n in os.environ if n.startswith("BARRACK_")]:
        os.environ.pop(name)
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield str(PREFECT_API_URL.value())


def _scenarios(
    session: ChaosSession, case: RecipeCase, seed: int, rounds: int
) -> Iterator[tuple[str, Callable[[], ScenarioResult]]]:
    rng = random.Random(f"long:{case.name}:{seed}")
    for name, profile in PROFILES.items():
        if name.startswith("drop"):
            profile = replace(profile, sim_rules=drop_rules(1 + seed % 3))
        yield name, partial(session.faults_scenario, case, profile, seed, runs=rounds)
    for kind in MALFORMED_KINDS:
        method, path = rng.choice(case.routes)
        spoiled = malformed_profile(kind, method, path)
        label = f"malformed {kind} on {method} {path}"
        yield label, partial(session.scenario, case, spoiled.name, [spoiled], seed)
    yield "sigkill", partial(session.crash_scenario, case, seed)
    yield "overlap (waits)", partial(session.overlap_scenario, case, seed, wait_seconds=60)
    yield "overlap (gives up)", partial(session.overlap_scenario, case, seed, wait_seconds=0)


def main(argv: list[str] | None = None) -> int:
    """Run the long chaos suite; 0 when every invariant held."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per recipe (default 5)")
    parser.add_argument("--first-seed", type=int, default=100, help="the first seed")
    parser.add_argument("--rounds", type=int, default=2, help="runs per fault scenario")
    parser.add_argument("--recipe", choices=sorted(CASES), action="append", help="only these")
    args = parser.parse_args(argv)
    cases = [CASES[name] for name in (args.recipe or CASES)]
    violations: list[str] = []
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="barrack-chaos-") as scratch,
        _prefect() as api_url,
        ChaosSession(Path(scratch), api_url) as session,
    ):
        session.start_zygote()
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for case in cases:
                for label, scenario in _scenarios(session, case, seed, args.rounds):
                    began = time.monotonic()
                    result = scenario()
                    mark = "ok" if not result.violations else f"{len(result.violations)} BROKEN"
                    print(
                        f"seed {seed}  {case.name:<18} {label:<48} "
                        f"{len(result.runs)} run(s)  {time.monotonic() - began:5.1f}s  {mark}",
                        flush=True,
                    )
                    if result.violations:
                        violations.append(result.describe())
        figures = session.figures
    print(f"\nchaos figures ({time.monotonic() - started:.0f} s):")
    for line in figures.lines():
        print(f"  {line}")
    for described in violations:
        print(f"\n{described}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
