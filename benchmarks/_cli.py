"""The command line of ``python -m benchmarks.fleet``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from benchmarks._recipes import RECIPES

__all__ = ["DATABASES", "QUICK_SIZE", "Options", "parse_options"]

DATABASES = ("sqlite", "postgres")
"""The Prefect server's databases ``--db`` chooses from."""

QUICK_SIZE = 20
"""The fleet size of ``--quick``."""


@dataclass(frozen=True, slots=True)
class Options:
    """The command line, checked (see ``--help`` for each)."""

    sizes: list[int]
    recipes: list[str]
    latency_ms: float
    rate_limit: float
    clock_speed: float
    concurrency: int | None
    client_rate_limit: float | None
    follow_rate_limit: bool
    baseline_max_n: int
    flow_log_level: str
    prefect_api_url: str | None
    db: str
    keep: bool


def _sizes(text: str) -> list[int]:
    try:
        values = [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers such as 100,1000,5000, got {text!r}"
        ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def _recipe_names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in RECIPES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown recipe(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(RECIPES)}"
        )
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fleet",
        description="Run the recipes against an N-instance simulated fleet under a rate "
        "limit, with a real Prefect server, and print their figures.",
    )
    add = parser.add_argument
    add(
        "--sizes",
        type=_sizes,
        default=[100, 1000, 5000],
        help="fleet sizes N, comma separated (default 100,1000,5000)",
    )
    add(
        "--recipes",
        type=_recipe_names,
        default=list(RECIPES),
        help=f"recipes to run, comma separated (default {','.join(RECIPES)})",
    )
    add(
        "--latency-ms",
        type=float,
        default=50.0,
        help="latency added to every API call (default 50)",
    )
    add(
        "--rate-limit",
        type=float,
        default=20.0,
        help="the API's requests per second (default 20; 0 turns it off)",
    )
    add(
        "--clock-speed",
        type=float,
        default=60.0,
        help="simulated seconds per real second (default 60)",
    )
    add(
        "--concurrency",
        type=int,
        default=None,
        help="max_concurrency for the recipes (default: each recipe's own)",
    )
    add(
        "--client-rate-limit",
        type=float,
        default=None,
        help="connection.rate_limit for the recipes (default: none, follow the API's)",
    )
    add(
        "--no-follow-rate-limit",
        action="store_true",
        help="connection.follow_api_rate_limit=false: send freely and retry 429s",
    )
    add(
        "--baseline-max-n",
        type=int,
        default=1000,
        help="run the naive baseline only up to this N (default 1000)",
    )
    add(
        "--flow-log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="PREFECT_LOGGING_LEVEL of the flow process (default INFO, Prefect's default)",
    )
    add(
        "--prefect-api-url",
        default=None,
        help="use this running Prefect server instead of starting one (its CPU is then "
        "not measured)",
    )
    add(
        "--db",
        choices=DATABASES,
        default="sqlite",
        help="the Prefect server's database: sqlite (under the work directory) or postgres "
        "(a cluster of its own, as make up DB=postgres runs it; its CPU counts as the "
        "server's); default sqlite",
    )
    add(
        "--quick",
        action="store_true",
        help=f"a smoke run: N={QUICK_SIZE} (with --recipes, only those)",
    )
    add(
        "--keep",
        action="store_true",
        help="keep the work directory (logs, Prefect database) even when every run is ok",
    )
    return parser  # fmt: skip


def parse_options(argv: list[str] | None = None) -> Options:
    """Read and check the command line (``SystemExit`` with a message when it is wrong)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.latency_ms < 0:
        parser.error(f"--latency-ms: must not be negative, got {args.latency_ms:g}")
    if args.rate_limit < 0:
        parser.error(f"--rate-limit: must not be negative, got {args.rate_limit:g}")
    if args.clock_speed <= 0:
        parser.error(f"--clock-speed: must be positive, got {args.clock_speed:g}")
    if args.concurrency is not None and not 1 <= args.concurrency <= 64:
        parser.error(f"--concurrency: must be between 1 and 64, got {args.concurrency}")
    if args.client_rate_limit is not None and args.client_rate_limit <= 0:
        parser.error(f"--client-rate-limit: must be positive, got {args.client_rate_limit:g}")
    if args.prefect_api_url and args.db != "sqlite":
        parser.error("--db: the server given by --prefect-api-url has its own database")
    return Options(
        sizes=[QUICK_SIZE] if args.quick else args.sizes,
        recipes=args.recipes,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        clock_speed=args.clock_speed,
        concurrency=args.concurrency,
        client_rate_limit=args.client_rate_limit,
        follow_rate_limit=not args.no_follow_rate_limit,
        baseline_max_n=args.baseline_max_n,
        flow_log_level=args.flow_log_level,
        prefect_api_url=args.prefect_api_url.rstrip("/") if args.prefect_api_url else None,
        db=args.db,
        keep=args.keep,
    )
