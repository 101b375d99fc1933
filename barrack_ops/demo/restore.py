"""The restore part of ``barrack-ops demo``: one cross-region restore and one drill.

Against the simulator's ``demo`` scenario: US-1 runs out of H100-SXM5 GPUs, so
``batch-h100`` (4x H100 in US-1) is brought back from its newest nightly snapshot in the
region with the most stock, the source region excluded; then a drill restores two
instances' newest snapshots in their own regions, times them and deletes them. It
returns lines for the demo to print.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from flows.restore.drill import restore_drill
from flows.restore.drill_report import drill_verdict
from flows.restore.flow import restore_to_region
from flows.restore.params import RestoreDrillParams, RestoreParams
from flows.restore.report import format_seconds
from tasks.connection import BarrackConnection

__all__ = ["RestoreDemoSimulator", "demo_restore"]

OUTAGE_REGION = "US-1"
OUTAGE_GPU = "H100-SXM5-80GB"
RESTORED_INSTANCE = "batch-h100"
DRILLED_INSTANCES = ("inference-h100", "eval-a40")


class RestoreDemoSimulator(Protocol):
    """What the demo needs of the simulator (``simulator.control.SimControl`` has it)."""

    base_url: str

    def now(self) -> datetime:
        """The simulated time now."""
        ...

    def set_stock(self, region: str, gpu_model: str, available: int) -> dict[str, Any]:
        """Set the free GPUs of a model in a region."""
        ...


_WAITS: dict[str, float] = {
    "poll_seconds": 0.05,
    "max_poll_seconds": 0.25,
    "wait_timeout_minutes": 2,
}
"""Short polls: the demo's clock ticker moves simulated minutes in real milliseconds."""


def demo_restore(
    sim: RestoreDemoSimulator, ticking: Callable[[], AbstractContextManager[object]]
) -> tuple[list[str], bool]:
    """Run one cross-region restore and one drill; lines to print, and whether both were ok.

    Call it with ``BARRACK_API_KEY`` (and, for notifications, ``BARRACK_NOTIFY_*``) set,
    as the demo does for every recipe. The restored ``batch-h100-no1`` (or wherever it
    lands) is kept, as a real restore's machine would be.

    Args:
        sim: the running simulator (manual clock, ``demo`` scenario).
        ticking: makes a context manager that keeps the simulated clock moving while a
            recipe waits, e.g. ``lambda: ClockTicker(sim, step=10, interval=0.02)``.
    """
    connection = BarrackConnection(base_url=sim.base_url)
    sim.set_stock(OUTAGE_REGION, OUTAGE_GPU, 0)
    restore = RestoreParams.model_validate(
        {
            "connection": connection,
            "now": sim.now(),
            "instance_name": RESTORED_INSTANCE,
            "targets": ["auto"],
            "exclude_source_region": True,
            **_WAITS,
        }
    )
    with ticking():
        restored = asyncio.run(restore_to_region(restore))
    lines = [
        f"Restore to another region: {OUTAGE_REGION} has no free {OUTAGE_GPU}, so "
        f"{RESTORED_INSTANCE} comes back from its newest nightly snapshot elsewhere",
        f"  {restored.summary_line()}",
    ]
    if restored.chosen_region:
        lines.append(f"  why {restored.chosen_region}: {restored.chosen_reason}")
    lines += [
        f"  considered {c.region}: {c.verdict.value}, {c.reason}" for c in restored.candidates
    ]
    lines.append(
        f"  price {restored.price_label()}; timings {restored.timeline.describe()}"
        if restored.timeline.requested_at
        else f"  price {restored.price_label()}"
    )
    lines += [f"  warning: {w}" for w in restored.warnings]

    drill = RestoreDrillParams.model_validate(
        {
            "connection": connection,
            "now": sim.now(),
            "selection": {"name_globs": list(DRILLED_INSTANCES)},
            **_WAITS,
        }
    )
    with ticking():
        drilled = asyncio.run(restore_drill(drill))
    lines.append(f"Restore drill ({', '.join(DRILLED_INSTANCES)}): {drilled.summary_line()}")
    for line in drilled.drills:
        api = format_seconds(line.timeline.api_active_after_s)
        lines.append(
            f"  {line.source_label}: {drill_verdict(line)}, {line.chosen_region or '-'} "
            f"ACTIVE after {api} (API clock); clean-up: {line.cleanup or '-'}"
        )
    return lines, restored.ok and drilled.ok
