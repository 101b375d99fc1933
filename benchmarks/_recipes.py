"""The recipes the benchmark measures: how each is set up, run, and what its floor is.

Every recipe runs with its production defaults except what a benchmark must set: the
simulator's address, the evaluation time (the simulator's clock), limits that would
otherwise refuse a fleet-sized run (``max_deletions``, ``max_actions``), notifications
off (no receiver), and the waits, given in simulated time and divided by the clock speed
(a snapshot that takes 30 simulated seconds is polled for as the recipe would poll for it
in real life, only faster).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from benchmarks._floor import Floor, pages
from benchmarks._scenario import FleetShape
from benchmarks._simctl import Spans
from simulator.control import SimControl

__all__ = ["RECIPES", "Bench", "BenchRecipe"]

NIGHTLY_RETENTION: Final = {"keep_daily": 7}
"""A week of dailies: with a week of history each run creates one snapshot and prunes one."""


@dataclass(frozen=True, slots=True)
class Bench:
    """What a recipe needs to know about the benchmark run it is part of.

    Attributes:
        ctl: the simulator's control routes.
        shape: the fleet loaded.
        slot: tonight's nightly slot (a minute after the scenario's start).
        speed: simulated seconds per real second.
        rate_limit: the API's requests per second.
        latency_ms: added to every API call.
        concurrency: ``max_concurrency`` to pass, or None for the recipe's default.
        client_rate_limit: ``connection.rate_limit`` to pass, or None for the default.
        follow_rate_limit: ``connection.follow_api_rate_limit`` to pass.
        run_flow: runs a setup flow job in a child process (not measured).
    """

    ctl: SimControl
    shape: FleetShape
    slot: datetime
    speed: float
    rate_limit: float
    latency_ms: float
    concurrency: int | None
    client_rate_limit: float | None
    follow_rate_limit: bool
    run_flow: Callable[[dict[str, Any]], dict[str, Any]]

    def connection(self) -> dict[str, Any]:
        """The recipe's ``connection`` parameter."""
        conn: dict[str, Any] = {"base_url": self.ctl.base_url}
        if self.client_rate_limit is not None:
            conn["rate_limit"] = self.client_rate_limit
        if not self.follow_rate_limit:
            conn["follow_api_rate_limit"] = False
        return conn

    def scaled(self, simulated_seconds: float) -> float:
        """Real seconds for a wait given in simulated seconds."""
        return simulated_seconds / self.speed

    def cron(self) -> str:
        """A daily cron at the slot's time."""
        return f"{self.slot.minute} {self.slot.hour} * * *"


class BenchRecipe(Protocol):
    """One measured recipe."""

    @property
    def name(self) -> str:
        """How the figures name it."""

    def prepare(self, bench: Bench) -> datetime | None:
        """Bring the fleet into the state the measured run starts from.

        Returns:
            The time the measured run is to judge at, or None for the simulator's now.
        """

    def job(self, bench: Bench, now: datetime) -> dict[str, Any]:
        """The flow job for ``benchmarks._child``."""

    def floor(self, bench: Bench, spans: Spans) -> Floor:
        """The floor of the run just measured (may read the simulator's final state).

        Args:
            bench: the run's context.
            spans: per route, its first and last call in real seconds after the first.
        """


def _snapshot_durations(bench: Bench, since: datetime) -> list[float]:
    """How long each snapshot made since ``since`` took to become ready, real seconds."""
    durations = []
    for snap in bench.ctl.list_all("snapshots.list"):
        created = datetime.fromisoformat(snap["created_at"])
        if created >= since and snap["status"] == "SUCCESS" and snap.get("updated_at"):
            took = (datetime.fromisoformat(snap["updated_at"]) - created).total_seconds()
            durations.append(bench.scaled(took))
    return durations


def _nightly_floor(bench: Bench) -> Floor:
    """The nightly recipe's floor: its calls at the rate limit, plus the snapshots' wait.

    Every deletion waits for the plan, and the plan for every snapshot of tonight to
    settle and for a fresh listing taken after that (the safety rules plan on the current
    state, not on the listing from before the run). The snapshots settle at the earliest
    when both the longest one, started right after the first listings, and the last one,
    created after every other create, are ready: so the calls cost ``calls / rate`` and
    the wait adds ``max(fastest, longest - creates / rate)``.
    """
    shape = bench.shape
    durations = _snapshot_durations(bench, bench.slot) or [0.0]
    creating_s = shape.active / bench.rate_limit if bench.rate_limit > 0 else 0.0
    return Floor(
        calls={
            "list instances": pages(shape.instances),
            "list snapshots": pages(shape.snapshots),
            "create": shape.active,
            "fresh listing once they settle": pages(shape.snapshots + shape.active),
            "image check": pages(shape.active),
            "delete": shape.active,
        },
        rate_limit=bench.rate_limit,
        waits={"snapshots settling": max(min(durations), max(durations) - creating_s)},
        latency_s=bench.latency_ms / 1000,
        serial_steps=6,
    )


@dataclass(frozen=True, slots=True)
class Nightly:
    """The nightly-snapshots recipe, in its steady state (one created, one pruned each)."""

    name: str = "nightly-snapshots"

    def prepare(self, bench: Bench) -> datetime | None:
        """Nothing: the scenario holds a week of history."""
        return None

    def job(self, bench: Bench, now: datetime) -> dict[str, Any]:
        """The product flow with a week of dailies and room to prune the whole fleet."""
        params: dict[str, Any] = {
            "connection": bench.connection(),
            "now": now.isoformat(),
            "cron": bench.cron(),
            "retention": NIGHTLY_RETENTION,
            "max_deletions": 2 * bench.shape.instances,
            "notify": False,
            # The recipe's defaults (10 s growing to 120 s), in simulated time.
            "poll_seconds": bench.scaled(10),
            "max_poll_seconds": bench.scaled(120),
        }
        if bench.concurrency is not None:
            params["max_concurrency"] = bench.concurrency
        return {
            "flow": "flows.nightly_snapshots.flow:nightly_snapshots",
            "params_model": "flows.nightly_snapshots.params:NightlySnapshotsParams",
            "params": params,
        }

    def floor(self, bench: Bench, spans: Spans) -> Floor:
        """Every listing read once, one create and one delete per ACTIVE instance."""
        return _nightly_floor(bench)


@dataclass(frozen=True, slots=True)
class NaiveNightly:
    """The naive baseline of the nightly recipe (``benchmarks._naive``)."""

    name: str = "naive nightly (baseline)"

    def prepare(self, bench: Bench) -> datetime | None:
        """Nothing: the same state as the nightly run."""
        return None

    def job(self, bench: Bench, now: datetime) -> dict[str, Any]:
        """Sequential calls, one GET per pending snapshot per poll round."""
        return {
            "flow": "benchmarks._naive:naive_nightly",
            "params_model": "benchmarks._naive:NaiveParams",
            "params": {
                # As a first attempt would: no client-side pacing, 429s are retried.
                "connection": {"base_url": bench.ctl.base_url, "follow_api_rate_limit": False},
                "now": now.isoformat(),
                "cron": bench.cron(),
                "retention": NIGHTLY_RETENTION,
                "poll_seconds": bench.scaled(10),
            },
        }

    def floor(self, bench: Bench, spans: Spans) -> Floor:
        """The same work as the nightly recipe, so the same floor."""
        return _nightly_floor(bench)


@dataclass(frozen=True, slots=True)
class HibernateIdle:
    """The hibernate-idle recipe: the run that hibernates, after the run that warned.

    ``prepare`` runs the warning run (not measured) and moves the clock past the grace
    period; the measured run re-reads and hibernates every idle ``ACTIVE`` instance.
    Prometheus queries (one per 100 instances and metric) go to the simulator's
    telemetry API, which is neither rate limited nor delayed, and are not API calls.
    """

    name: str = "hibernate-idle"

    def _params(self, bench: Bench, now: datetime, policy: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "connection": bench.connection(),
            "now": now.isoformat(),
            "prometheus": {"url": f"{bench.ctl.root_url}/prometheus"},
            "policy_name": policy,
            "max_actions": 2 * bench.shape.instances,
            "notify": False,
        }
        if bench.concurrency is not None:
            params["max_concurrency"] = bench.concurrency
        return params

    def _job(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "flow": "flows.hibernate_idle.flow:hibernate_idle",
            "params_model": "flows.hibernate_idle.params:HibernateIdleParams",
            "params": params,
        }

    def _policy(self, bench: Bench) -> str:
        # Its own memory per fleet size: ids repeat across sizes (same seed).
        return f"bench-{bench.shape.instances}"

    def prepare(self, bench: Bench) -> datetime | None:
        """The warning run; the measured run judges 31 minutes later (grace: 30).

        The time is set, not left to the clock: on an accelerated clock the warning run
        itself lasts simulated hours, and a warning that old is given again rather than
        acted on.
        """
        warned_at = bench.ctl.now()
        bench.run_flow(self._job(self._params(bench, warned_at, self._policy(bench))))
        return warned_at + timedelta(minutes=31)

    def job(self, bench: Bench, now: datetime) -> dict[str, Any]:
        """The run that hibernates what stayed idle."""
        return self._job(self._params(bench, now, self._policy(bench)))

    def floor(self, bench: Bench, spans: Spans) -> Floor:
        """The instance listing, the price list, a re-read and a hibernate per idle one.

        The telemetry answers are a wait of their own: measured as the time between the
        instance listing and the price list, when the flow asks the probe.
        """
        idle = bench.shape.idle_active
        listed = spans.get("GET /api/instances/", (0.0, 0.0))[1]
        priced = spans.get("GET /api/pricing/", (listed, listed))[0]
        return Floor(
            calls={
                "list instances": pages(bench.shape.instances),
                "prices": 1,
                "re-read before acting": idle,
                "hibernate": idle,
            },
            rate_limit=bench.rate_limit,
            waits={"Prometheus answering the probe": max(0.0, priced - listed)},
            latency_s=bench.latency_ms / 1000,
            serial_steps=4,
        )


@dataclass(frozen=True, slots=True)
class LowBalance:
    """The low-balance recipe's monitoring run (every 30 minutes; nothing to act on)."""

    name: str = "low-balance"

    def prepare(self, bench: Bench) -> datetime | None:
        """Nothing: the scenario's balance lasts a month."""
        return None

    def job(self, bench: Bench, now: datetime) -> dict[str, Any]:
        """Read, price, forecast, report."""
        return {
            "flow": "flows.low_balance.flow:low_balance",
            "params_model": "flows.low_balance.params:LowBalanceParams",
            "params": {
                "connection": bench.connection(),
                "now": now.isoformat(),
                "account_name": f"bench-{bench.shape.instances}",
                "notify": False,
            },
        }

    def floor(self, bench: Bench, spans: Spans) -> Floor:
        """Every listing the fleet model prices, read once."""
        return Floor(
            calls={
                "balance": 1,
                "list instances": pages(bench.shape.instances),
                "list volumes": pages(0),
                "list snapshots": pages(bench.shape.snapshots),
                "prices": 1,
            },
            rate_limit=bench.rate_limit,
            latency_s=bench.latency_ms / 1000,
            serial_steps=1,
        )


RESTORE_SOURCE: Final = "node-00000"
"""The instance whose newest snapshot the restore benchmark restores (ACTIVE, a week of
snapshots, in NORWAY-1)."""


def _restore_wait_s(bench: Bench, since: datetime) -> float:
    """How long the restored instance took to become ACTIVE, in real seconds."""
    for vm in bench.ctl.list_all("instances.list"):
        created = datetime.fromisoformat(vm["created_at"])
        if created >= since and vm["status"] == "ACTIVE" and vm.get("updated_at"):
            return bench.scaled(
                (datetime.fromisoformat(vm["updated_at"]) - created).total_seconds()
            )
    return 0.0


@dataclass(frozen=True, slots=True)
class Restore:
    """The restore-to-region recipe: one instance's newest snapshot, anywhere, in a fleet."""

    name: str = "restore-to-region"

    def prepare(self, bench: Bench) -> datetime | None:
        """Nothing: the source has a week of snapshots."""
        return None

    def job(self, bench: Bench, now: datetime) -> dict[str, Any]:
        """Restore ``node-00000``'s newest snapshot where it fits best (auto)."""
        return {
            "flow": "flows.restore.flow:restore_to_region",
            "params_model": "flows.restore.params:RestoreParams",
            "params": {
                "connection": bench.connection(),
                "now": now.isoformat(),
                "instance_name": RESTORE_SOURCE,
                "targets": ["auto"],
                "notify": False,
                "poll_seconds": bench.scaled(10),
                "max_poll_seconds": bench.scaled(60),
            },
        }

    def floor(self, bench: Bench, spans: Spans) -> Floor:
        """Find the source, read the facts once, restore, look once; plus the restore time."""
        return Floor(
            calls={
                "list instances": pages(bench.shape.instances),
                "the source's snapshots": 1,
                "regions, stock, prices, balance": 4,
                "restore": 1,
                "one look at the new instance": 1,
            },
            rate_limit=bench.rate_limit,
            waits={"the restore itself": _restore_wait_s(bench, bench.slot)},
            latency_s=bench.latency_ms / 1000,
            serial_steps=4,
        )


RECIPES: Final[dict[str, Callable[[], BenchRecipe]]] = {
    "nightly": Nightly,
    "naive": NaiveNightly,
    "hibernate": HibernateIdle,
    "restore": Restore,
    "low-balance": LowBalance,
}
"""The recipes by their command-line name."""
