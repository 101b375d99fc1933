"""The spend report in ``barrack-ops demo``: a simulated week with money leaking, then its digest.

The demo (``barrack_ops/demo/run.py``) calls :func:`run_spend_demo` as its fifth section.
It loads the ``spend-week`` scenario, plays a week on the simulator's clock (an instance
deleted on Monday leaving its snapshot behind, an 8-GPU restore forgotten for a day, a
top-up, AI usage, and the hibernate-idle recipe judging a notebook idle), runs the
spend-report flow over that week and prints the digest; the chart is saved in ``out_dir``.

It needs ``BARRACK_API_KEY`` and the ``BARRACK_NOTIFY_*`` settings in the environment,
as the demo sets them for every recipe.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import anyio
import httpx
from rich.console import Console
from rich.markup import escape

from flows.hibernate_idle.state import IdleMemory, InstanceState
from flows.spend_report.flow import spend_report
from flows.spend_report.params import SpendReportParams
from flows.spend_report.report import SpendReport
from tasks.connection import BarrackConnection

__all__ = ["SpendSimulator", "play_spend_week", "run_spend_demo"]

IDLE_POLICY = "spend-demo"


class SpendSimulator(Protocol):
    """What the demo needs of the simulator handle (``simulator.testing.SimHandle``)."""

    @property
    def base_url(self) -> str: ...

    def client(self, **kwargs: Any) -> httpx.Client: ...

    def load_scenario(
        self, name: str | None = None, *, seed: int | None = None
    ) -> dict[str, Any]: ...

    def now(self) -> datetime: ...

    def advance(self, seconds: float | str) -> datetime: ...

    def top_up(self, amount: str | Decimal | int) -> Decimal: ...


def _ok(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _next_monday(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


async def play_spend_week(sim: SpendSimulator, state_file: Path, *, weeks: int = 1) -> datetime:
    """Load ``spend-week`` and play ``weeks`` weeks (Monday to Monday 08:00); the end time.

    Each week: on Monday an 8-GPU H100 restore is started and forgotten until Tuesday
    (the anomaly, first week only), on Wednesday credit is added, on Thursday the AI is
    used, and the hibernate-idle recipe's memory says the notebook was idle all week.
    """
    sim.load_scenario("spend-week", seed=7)
    with sim.client(timeout=60) as api:
        ids = {
            vm["name"]: vm["id"]
            for vm in _ok(api.get("instances/", params={"per_page": 100}))["instances"]
        }
        _ok(api.delete(f"instances/{ids['old-experiment']}/"))
        sim.advance(int((_next_monday(sim.now()) - sim.now()).total_seconds()))
        for week in range(weeks):
            monday = sim.now()
            if week == 0:
                key = _ok(api.get("ssh-keys/"))["ssh_keys"][0]["id"]
                forgotten = _ok(
                    api.post(
                        "instances/",
                        json={
                            "name": "restore-test-h100",
                            "region": "NORWAY-1",
                            "gpu_model": "H100-SXM5-80GB",
                            "gpu_count": 8,
                            "image_id": _os_image(api, "NORWAY-1"),
                            "ssh_key_ids": [key],
                        },
                    )
                )["instance"]["id"]
                sim.advance("28h")
                _ok(api.delete(f"instances/{forgotten}/"))
                sim.advance("20h")
            else:
                sim.advance("48h")
            sim.top_up("500.00")
            sim.advance("24h")
            for _ in range(3):
                _ok(
                    api.post(
                        "ai/chat/completions/",
                        json={
                            "model": "llama-3.3-70b-instruct",
                            "messages": [{"role": "user", "content": "summarise the run log"}],
                        },
                    )
                )
            sim.advance(int((monday + timedelta(days=7, hours=8) - sim.now()).total_seconds()))
            store = IdleMemory.in_file(state_file)
            await store.save(
                {
                    ids["notebook-ida"]: InstanceState(
                        warned_at=monday + timedelta(hours=2),
                        last_idle_at=monday + timedelta(days=7),
                    )
                }
            )
    return sim.now()


def _os_image(api: httpx.Client, region: str) -> str:
    images = _ok(api.get("os-images/", params={"region": region}))["os_images"]
    return str(images[0]["id"])


async def run_spend_demo(console: Console, sim: SpendSimulator, out_dir: Path) -> SpendReport:
    """Play the week, run the spend report over it and print the digest (chart in out_dir)."""
    await anyio.Path(out_dir).mkdir(parents=True, exist_ok=True)
    state_file = out_dir / f"hibernate-idle-{IDLE_POLICY}.json"
    now = await play_spend_week(sim, state_file)
    report = await spend_report(
        SpendReportParams(
            account_name="demo",
            connection=BarrackConnection(base_url=sim.base_url),
            now=now,
            idle_policy_name=IDLE_POLICY,
            idle_state_store="file",
            idle_state_file=state_file,
            output_dir=out_dir,
        )
    )
    console.print(f"[bold]Spend report[/bold] {escape(report.summary_line())}")
    for line in report.chat_summary().splitlines():
        console.print("  " + escape(line))
    if report.chart_path is not None:
        console.print(f"  chart: {escape(str(report.chart_path))}")
    return report
