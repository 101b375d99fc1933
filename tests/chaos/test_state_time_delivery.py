"""Issue #16's classes in the chaos suite's shape: a full disk, stale evidence, a trickling
destination. Each keeps every invariant the suite checks, and says what it adds."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Final

import pytest
from pydantic import BaseModel

from simulator.testing import SimHandle
from tests.chaos import invariants as inv
from tests.chaos.faults import FaultProfile
from tests.chaos.recipes import CASES, HIBERNATE_PROTECTED, Evidence, ParamsContext, RecipeCase
from tests.chaos.session import ChaosSession

SEED = 13

# Under /dev/null nothing can be created (ENOTDIR): a state directory no run can use, as
# real to the kernel as a full or read-only disk (flows/test_state_unwritable.py covers
# ENOSPC and EROFS one by one).
UNUSABLE: Final = Path("/dev/null/barrack-ops")
NO_STATE_DIR: Final = FaultProfile(
    name="no-state-dir",
    env={
        "BARRACK_OPS_STATE_DIR": str(UNUSABLE / "state"),
        "BARRACK_OPS_GUARD_LOCK_DIR": str(UNUSABLE / "locks"),
        "BARRACK_NOTIFY_STATE": "file",
        "BARRACK_NOTIFY_STATE_FILE": str(UNUSABLE / "alerts.json"),
    },
)
_STATE_FILES: Final = {
    "low-balance": {"history_file": UNUSABLE / "balance-history.json"},
    "hibernate-idle": {"state_file": str(UNUSABLE / "idle-state.json")},
}


def _with_params(case: RecipeCase, **changes: object) -> RecipeCase:
    def params(ctx: ParamsContext) -> BaseModel:
        return case.params(ctx).model_copy(update=changes)

    return replace(case, params=params)


@pytest.mark.parametrize("recipe", list(_STATE_FILES))
def test_no_usable_state_dir_costs_local_state_never_the_run(
    chaos: ChaosSession, recipe: str
) -> None:
    case = _with_params(CASES[recipe], **_STATE_FILES[recipe])
    result = chaos.scenario(case, NO_STATE_DIR.name, [NO_STATE_DIR], SEED)
    assert result.violations == [], result.describe()
    assert [r.outcome.state for r in result.runs] == ["COMPLETED"], result.describe()


# -- stale evidence: warned half an hour ago, busy for the last three minutes ----------------

_TURNED_BUSY: Final = ("idle-a40", "idle-h100")


def _busy_lately(case: RecipeCase) -> RecipeCase:
    def prepare(sim: SimHandle, workdir: Path) -> None:
        case.prepare(sim, workdir)  # the remembered warnings: grace has passed
        since = (sim.now() - timedelta(minutes=3)).isoformat()
        with sim.client() as client:
            listed = client.get("/instances/", params={"per_page": 100}).json()["instances"]
        for vm in listed:
            if vm["name"] in _TURNED_BUSY:
                sim.set_utilization(
                    vm["id"], {"preset": "idle", "segments": [{"at": since, "util": 99}]}
                )

    protected = {**HIBERNATE_PROTECTED, **dict.fromkeys(_TURNED_BUSY, "busy for 3 minutes")}

    def checks(ev: Evidence) -> list[tuple[str, list[inv.Violation]]]:
        names = {i.id: i.name for i in ev.before.instances.values()}
        return [
            (
                "no hibernation on stale evidence",
                inv.no_action_on_protected_instances(ev.requests, names, protected),
            )
        ]

    return replace(case, prepare=prepare, checks=checks)


def test_a_warned_instance_busy_for_the_last_minutes_is_not_hibernated(
    chaos: ChaosSession,
) -> None:
    profile = FaultProfile(name="busy-lately")
    result = chaos.scenario(_busy_lately(CASES["hibernate-idle"]), profile.name, [profile], SEED)
    assert result.violations == [], result.describe()
    (report,) = result.reports
    busy = {i.instance_name: i.verdict for i in report.instances if i.instance_name in _TURNED_BUSY}
    assert busy == dict.fromkeys(_TURNED_BUSY, "busy"), result.describe()


# -- a destination that trickles one byte every 2 seconds ----------------------------------


def _waited_for_at_exit() -> set[threading.Thread]:
    """Threads the interpreter joins at exit (non-daemon), the main thread aside."""
    return {t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()}


@pytest.mark.parametrize("recipe", ["low-balance", "hibernate-idle"])
def test_a_trickling_destination_leaves_nothing_the_process_must_wait_for(
    chaos: ChaosSession, recipe: str
) -> None:
    chaos.receiver.trickle_path("/trickle", every=2.0, size=85)
    trickling = f"json://127.0.0.1:{chaos.receiver.port}/trickle"
    profile = FaultProfile(
        name="trickling-destination",
        env={
            "BARRACK_NOTIFY_URLS": f"{chaos.notify_url} {trickling}",
            "BARRACK_NOTIFY_TIMEOUT": "2",
        },
    )
    before = _waited_for_at_exit()
    result = chaos.scenario(CASES[recipe], profile.name, [profile], SEED)
    assert result.violations == [], result.describe()
    assert [r.outcome.state for r in result.runs] == ["COMPLETED"], result.describe()
    left = {t.name for t in _waited_for_at_exit() - before if t.is_alive()}
    assert not left, f"the process would wait at exit for {sorted(left)}"
