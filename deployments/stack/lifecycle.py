"""``make up`` and ``make down``: decide from the state file, start or stop, report.

``up`` says so and starts nothing when the recorded stack runs, refuses a stack that runs
only in part, replaces a stale state file (its processes are gone), and otherwise starts
everything (:mod:`deployments.stack.startup`) and prints where it is. ``down`` stops every
recorded process, workers first, children included, SIGKILL after a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployments.stack.config import StackConfig, StackError
from deployments.stack.processes import ProcessRecord, is_running, process_table
from deployments.stack.startup import WORKER_PREFIX, Echo, start_stack, stop_stack
from deployments.stack.state import StackState, exclusive_lock, load_state, remove_state

__all__ = ["RunningStack", "StackStatus", "down", "status", "up"]


@dataclass(frozen=True)
class RunningStack:
    """The stack as ``up`` left it.

    Attributes:
        config: what it was started with.
        state: what the state file records.
        already_running: ``up`` found it running and started nothing.
        sim_api_key: the simulator's API key (None when ``up`` found it already running:
            it is in ``.run/stack.env``).
        sim_admin_token: the token of the simulator's ``/_sim`` control routes.
    """

    config: StackConfig
    state: StackState
    already_running: bool = False
    sim_api_key: str | None = field(default=None, repr=False)
    sim_admin_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StackStatus:
    """Which recorded processes are still running.

    Attributes:
        state: the state file's content, or None when there is none.
        running: the recorded processes still running.
        stopped: the recorded processes that are gone.
    """

    state: StackState | None
    running: tuple[ProcessRecord, ...] = ()
    stopped: tuple[ProcessRecord, ...] = ()

    @property
    def is_up(self) -> bool:
        """``up`` finished and every recorded process runs."""
        return (
            self.state is not None and self.state.ready and bool(self.running) and not self.stopped
        )


def status(config: StackConfig) -> StackStatus:
    """Read the state file and check each recorded process."""
    state = load_state(config.state_file)
    if state is None:
        return StackStatus(state=None)
    table = process_table()
    running = tuple(p for p in state.processes if is_running(p, table))
    stopped = tuple(p for p in state.processes if p not in running)
    return StackStatus(state=state, running=running, stopped=stopped)


def up(config: StackConfig, echo: Echo = print) -> RunningStack:
    """Start the stack, or say it already runs.

    Raises:
        StackError: it could not start (everything started is stopped again), it runs only
            in part, or another ``up``/``down`` is at work.
    """
    with exclusive_lock(config.lock_file):
        current = status(config)
        if current.is_up and current.state is not None:
            echo(f"The barrack-ops stack is already running: Prefect UI at {current.state.ui_url}")
            if current.state.database != config.database:
                echo(
                    f"It runs on {current.state.database}, not {config.database}: to switch, "
                    "make down, then make up again."
                )
            echo("Nothing started. Stop it with: make down")
            return RunningStack(config=config, state=current.state, already_running=True)
        if current.running:
            gone = ", ".join(p.name for p in current.stopped)
            why = f"runs only in part ({gone} stopped)" if gone else "never finished starting"
            raise StackError(f"the stack {why}; run `make down`, then `make up`")
        if current.state is not None:
            echo(f"Removing a stale state file ({config.state_file}): none of its processes run.")
            remove_state(config.state_file)
        return _start(config, echo)


def down(config: StackConfig, echo: Echo = print) -> StackStatus:
    """Stop every process the state file records, workers first, children included.

    Returns:
        What was recorded before stopping (None state: there was nothing to stop).

    Raises:
        StackError: a process survived SIGKILL (the state file is kept), or another
            ``up``/``down`` is at work.
    """
    with exclusive_lock(config.lock_file):
        before = status(config)
        if before.state is None:
            echo(f"Nothing to stop: no state file at {config.state_file}.")
            return before
        result = stop_stack(config, before.state.processes)
        if result.survivors:
            raise StackError(
                "still running after SIGKILL: "
                + ", ".join(str(pid) for pid in result.survivors)
                + f"; {config.state_file} is kept"
            )
        remove_state(config.state_file)
        config.env_file.unlink(missing_ok=True)
        stopped = len(result.terminated) + len(result.killed)
        echo(
            f"Stopped the barrack-ops stack: {stopped} process(es)"
            + (f", {len(result.killed)} of them with SIGKILL" if result.killed else "")
            + (f"; {len(before.stopped)} had already exited" if before.stopped else "")
            + "."
        )
        if before.state.database == "postgres":
            echo(
                f"Prefect's database (PostgreSQL) stays in {config.postgres_dir / 'data'} "
                "(run history)."
            )
        else:
            echo(f"Prefect's database stays in {config.prefect_home_path} (run history).")
        return before


def _start(config: StackConfig, echo: Echo) -> RunningStack:
    started = start_stack(config, echo)
    stack = RunningStack(
        config=config,
        state=started.state,
        sim_api_key=started.api_key,
        sim_admin_token=started.admin_token,
    )
    _banner(stack, echo)
    return stack


def _banner(stack: RunningStack, echo: Echo) -> None:
    config, state = stack.config, stack.state
    workers = [p.name for p in state.processes if p.name.startswith(WORKER_PREFIX)]
    schedules = "on" if config.schedules_active else "paused"
    rows = [
        ("Prefect UI", state.ui_url),
        ("Prefect API", state.api_url),
        (
            "Database",
            f"PostgreSQL {state.database_url}"
            if state.database == "postgres"
            else f"SQLite under {config.prefect_home_path}",
        ),
        (
            "Simulator",
            f"{state.sim_base_url}  (scenario {config.scenario}, clock x{config.clock})",
        ),
        ("Notifications", f"{state.receiver_url}/_received  and {config.notifications_file}"),
        ("Work pool(s)", f"{', '.join(state.work_pools)} (process): {', '.join(workers)}"),
        ("Deployments", f"{', '.join(state.deployments)}  (schedules {schedules})"),
        ("Logs", f"{config.logs_dir}/"),
    ]
    echo("")
    echo("The barrack-ops stack is up.")
    for label, value in rows:
        echo(f"  {label:<14} {value}")
    echo(f"  {'From a shell':<14} set -a; . {config.env_file}; set +a")
    echo("")
    echo(
        "Open the Prefect UI, pick a deployment, Run > Custom run. Stop everything with: make down"
    )
