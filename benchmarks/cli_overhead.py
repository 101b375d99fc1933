"""What a ``barrack-ops run ...`` costs before and around the recipe itself.

Prints, for each case, the wall time and the CPU time (this process's children: user +
system) over ``--repeat`` runs, median first:

- ``import``: ``python -c "import barrack_ops.cli"`` (what every command pays);
- ``fail-fast``: ``run low-balance`` against a closed port (preflight, no Prefect);
- ``ephemeral start``: Prefect's temporary server alone (``SubprocessASGIServer``), with
  Prefect's defaults and with each setting we tried on top;
- ``run, temporary server``: ``run low-balance --dry-run`` against the simulator with no
  ``PREFECT_API_URL`` (what a new user gets);
- ``run, running server``: the same with ``PREFECT_API_URL`` of a server already up (what
  ``make up`` or a configured server gives).

CPU time is the figure to compare on a shared machine: wall time there measures the
neighbours too. Usage::

    .venv/bin/python benchmarks/cli_overhead.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EPHEMERAL_VARIANTS: dict[str, dict[str, str]] = {
    "Prefect defaults": {},
    "+ no block registration": {"PREFECT_API_BLOCKS_REGISTER_ON_START": "false"},
    "+ no migration check": {"PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false"},
    "+ both": {
        "PREFECT_API_BLOCKS_REGISTER_ON_START": "false",
        "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false",
    },
}

START_SERVER = """
import time
from prefect.server.api.server import SubprocessASGIServer
server = SubprocessASGIServer()
server.start(timeout=600)
server.stop()
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: Sequence[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the process tree, exit status."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, _children_cpu() - cpu, done.returncode


def report(name: str, runs: list[tuple[float, float, int]]) -> None:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    codes = sorted({r[2] for r in runs})
    print(f"{name:<44} wall {wall:6.1f} s   cpu {cpu:6.1f} s   exit {codes}", flush=True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    python = sys.executable
    home = Path(tempfile.mkdtemp(prefix="cli-overhead-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BARRACK_", "PREFECT_"))}
    base |= {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "BARRACK_OPS_STATE_DIR": str(home / "state"),
        "BARRACK_OPS_LOG": str(home / "cli.log"),
    }
    print(
        f"cli overhead, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        flush=True,
    )

    runs = [measure([python, "-c", "import barrack_ops.cli"], base) for _ in range(options.repeat)]
    report("import barrack_ops.cli", runs)

    closed = base | {
        "BARRACK_API_KEY": "k",
        "BARRACK_BASE_URL": f"http://127.0.0.1:{closed_port()}/api",
    }
    cli = [python, "-m", "barrack_ops", "run", "low-balance", "--dry-run"]
    runs = [measure(cli, closed) for _ in range(options.repeat)]
    report("fail-fast: closed port (no Prefect)", runs)

    # The database is migrated once, outside the figures (the first run's one-off cost).
    measure([python, "-c", START_SERVER], base)
    for name, extra in EPHEMERAL_VARIANTS.items():
        runs = [measure([python, "-c", START_SERVER], base | extra) for _ in range(options.repeat)]
        report(f"ephemeral start: {name}", runs)

    from simulator.testing import running_simulator

    with running_simulator("demo", seed=1) as sim:
        env = base | {"BARRACK_API_KEY": sim.api_key, "BARRACK_BASE_URL": sim.base_url}
        runs = [measure(cli, env) for _ in range(options.repeat)]
        report("run low-balance --dry-run, temporary server", runs)

        from prefect.server.api.server import SubprocessASGIServer

        os.environ.update({k: v for k, v in base.items() if k.startswith("PREFECT_")})
        server = SubprocessASGIServer()
        server.start(timeout=600)
        try:
            running = env | {"PREFECT_API_URL": server.api_url}
            runs = [measure(cli, running) for _ in range(options.repeat)]
            report("run low-balance --dry-run, running server", runs)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
