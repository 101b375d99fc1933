"""``python -m deployments.stack up|down|status``: what ``make up`` and ``make down`` run."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import cast

from deployments.stack.config import DATABASES, DEFAULT_PORTS, Database, StackConfig, StackError
from deployments.stack.lifecycle import down, status, up

DB_VARIABLE = "BARRACK_STACK_DB"
"""The environment variable that chooses the database when ``--db`` is not given."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deployments.stack",
        description="The barrack-ops local stack: Prefect server and UI, simulator, "
        "notification receiver, work pool, deployments and workers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start the stack (says so if it already runs)")
    start.add_argument("--workers", type=int, default=1, help="workers on the pool (1)")
    start.add_argument(
        "--clock", default="10", help="simulator speed: 10 = ten simulated minutes a minute"
    )
    start.add_argument("--scenario", default="demo", help="simulator scenario (demo)")
    start.add_argument("--paused", action="store_true", help="deploy with every schedule paused")
    start.add_argument(
        "--db",
        choices=DATABASES,
        default=None,
        help=f"the Prefect server's database (default: ${DB_VARIABLE}, else sqlite); postgres "
        "runs the stack's own PostgreSQL with its data in .run/postgres",
    )
    labels = {"server": "Prefect server and UI", "sim": "simulator", "receiver": "receiver"}
    for service, port in DEFAULT_PORTS.items():
        start.add_argument(
            f"--{service}-port",
            type=int,
            default=port,
            help=f"port of the {labels[service]} ({port}; 0 or busy: a free one)",
        )
    commands.add_parser("down", help="stop every process of the stack, children included")
    commands.add_parser("status", help="say which processes of the stack run")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 also when the stack already runs)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            up(
                StackConfig(
                    database=_database(args.db),
                    workers=args.workers,
                    clock=args.clock,
                    scenario=args.scenario,
                    schedules_active=not args.paused,
                    server_port=args.server_port,
                    sim_port=args.sim_port,
                    receiver_port=args.receiver_port,
                )
            )
        elif args.command == "down":
            down(StackConfig())
        else:
            return _print_status(StackConfig())
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def _database(chosen: str | None) -> Database:
    """``--db``, else ``$BARRACK_STACK_DB``, else sqlite.

    Raises:
        StackError: the environment variable names no known database.
    """
    value = chosen if chosen is not None else os.environ.get(DB_VARIABLE, "")
    value = value.strip().lower() or "sqlite"
    if value not in DATABASES:
        raise StackError(
            f"{DB_VARIABLE}: {value!r} is not a database of the stack; use one of "
            + ", ".join(DATABASES)
        )
    return cast(Database, value)


def _print_status(config: StackConfig) -> int:
    current = status(config)
    if current.state is None:
        print("The barrack-ops stack is not running.")
        return 1
    print(
        f"Prefect UI {current.state.ui_url} ({current.state.database}); "
        f"started {current.state.started_at:%Y-%m-%d %H:%M} UTC"
    )
    for record in current.state.processes:
        mark = "running" if record in current.running else "stopped"
        print(f"  {record.name:<28} pid {record.pid:<8} {mark}")
    return 0 if current.is_up else 1


if __name__ == "__main__":
    sys.exit(main())
