"""The recipes at fleet scale: ``python -m benchmarks.fleet``.

Starts a real Prefect server (``prefect server start`` on a free loopback port, analytics
off; SQLite under a temporary ``PREFECT_HOME``, or with ``--db postgres`` a PostgreSQL
cluster of its own, whose CPU counts as the server's) and the simulator as its own process,
loads an N-instance fleet in its nightly steady state (``benchmarks._scenario``), adds a
per-call latency and the API's rate limit, then runs each recipe once, each flow in a
process of its own, and prints per run: wall time; the floor (calls needed / rate limit
+ the unavoidable wait); wall / floor; API calls (by route below the table); calls per
instance; 429 answers; Prefect task runs; peak memory and CPU seconds of the flow
process; CPU seconds of the Prefect server (until it has recorded the run) and of the
simulator; the machine's load average when the run ended. The naive baseline
(``benchmarks._naive``) runs in the same way for comparison.

Examples::

    python -m benchmarks.fleet                          # N = 100, 1,000, 5,000 (~40 min)
    python -m benchmarks.fleet --sizes 1000 --recipes nightly,naive
    python -m benchmarks.fleet --sizes 5000 --recipes nightly --db postgres
    python -m benchmarks.fleet --quick --recipes nightly   # N = 20, about half a minute

See docs/performance.md for the figures, what limits what, and the targets.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._cli import Options, parse_options
from benchmarks._harness import Harness
from benchmarks._procs import machine_description
from benchmarks._recipes import RECIPES
from benchmarks._scenario import fleet_document, nightly_slot
from benchmarks._table import Row, render_routes, render_table

__all__ = ["main"]


def _run_all(options: Options, harness: Harness) -> list[Row]:
    rows: list[Row] = []
    print(harness.start(), flush=True)
    for size in options.sizes:
        document, shape = fleet_document(size, slot=nightly_slot(harness.ctl.start()))
        started = time.monotonic()
        harness.ctl.load_scenario(yaml=document)
        print(
            f"\nN={size:,}: {shape.active:,} ACTIVE ({shape.idle_active:,} of them idle), "
            f"{shape.snapshots:,} snapshots; loaded in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        for name in options.recipes:
            if name == "naive" and size > options.baseline_max_n:
                print(f"  naive baseline: skipped above N={options.baseline_max_n:,}")
                continue
            row = harness.measure(RECIPES[name](), shape)
            rows.append(row)
            print(
                f"  {row.recipe}: {row.wall_s:.1f} s (floor {row.floor_s:.1f} s, "
                f"x{row.ratio:.2f}), {row.calls:,} calls, {row.task_runs:,} task runs; "
                f"{row.summary}",
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; 0 when every run ended ok."""
    options = parse_options(argv)
    workdir = Path(tempfile.mkdtemp(prefix="barrack-bench-"))
    # As root, --db postgres runs PostgreSQL as another user: it must enter the folder.
    workdir.chmod(0o711)
    (workdir / "state").mkdir()
    print(f"machine: {machine_description()}")
    print(
        f"settings: latency {options.latency_ms:g} ms per API call, rate limit "
        f"{options.rate_limit:g}/s, clock x{options.clock_speed:g}, database {options.db}, sizes "
        f"{', '.join(f'{n:,}' for n in options.sizes)}; work directory {workdir}",
        flush=True,
    )
    harness = Harness(options, workdir)
    rows: list[Row] = []
    try:
        rows = _run_all(options, harness)
    finally:
        harness.stop()
        if rows and all(r.ok for r in rows) and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"\nlogs kept in {workdir}")
    print()
    print(render_table(rows))
    print()
    for row in rows:
        print(render_routes(row))
    return 0 if rows and all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
