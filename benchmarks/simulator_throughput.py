"""How fast the simulator answers: ``python -m benchmarks.simulator_throughput``.

Starts the simulator in its own process on a free loopback port (so the server and the
load generator each get a core), loads a 1,000-instance fleet with 10 snapshots each,
turns faults and rate limiting off, then prints:

* requests per second of ``GET /api/instances/{id}/`` and of ``GET /api/instances/`` (a page
  of 100), from a concurrent httpx client (several client processes, so the client is
  not the bottleneck);
* the time to list all 10,000 snapshots page by page (100 a page).

Every loop is bounded in count and time and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Final

import httpx

from simulator.control import SimControl

API_KEY: Final = "bench-api-key"
ADMIN_TOKEN: Final = "bench-admin-token"  # noqa: S105 - a local benchmark's throwaway token
CONCURRENCY: Final = 16
TIME_LIMIT_S: Final = 60.0


def _start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--scenario", "empty",
         "--clock", "manual", "--api-key", API_KEY, "--admin-token", ADMIN_TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        match = re.search(r"base URL\s+(http://\S+)/api", line)
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError("the simulator did not start")


async def _raw_connection(host: str, port: int, requests: list[bytes], deadline: float) -> int:
    """One keep-alive connection sending requests one after another; returns how many."""
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    try:
        for request in requests:
            if time.monotonic() > deadline:
                break
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
            length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE)[1])  # type: ignore[index]
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


async def _hammer_raw(root: str, paths: list[str], total: int) -> float:
    """Like :func:`_hammer`, with a minimal HTTP/1.1 client (so the client costs little)."""
    host, port = root.removeprefix("http://").split(":")
    built = [
        f"GET {p} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {API_KEY}\r\n\r\n".encode()
        for p in paths
    ]
    per_connection = total // CONCURRENCY
    deadline = time.monotonic() + TIME_LIMIT_S
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _raw_connection(
                host,
                int(port),
                [built[(c * per_connection + n) % len(built)] for n in range(per_connection)],
                deadline,
            )
            for c in range(CONCURRENCY)
        )
    )
    return time.perf_counter() - started


async def _hammer(root: str, paths: list[str], total: int) -> float:
    """Send ``total`` GETs over ``CONCURRENCY`` connections; return the seconds taken."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=root, headers=headers, limits=limits) as client:
        queue = iter(range(total))
        deadline = time.monotonic() + TIME_LIMIT_S

        async def worker() -> None:
            for n in queue:
                if time.monotonic() > deadline:
                    return
                response = await client.get(paths[n % len(paths)])
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


def _client_process(
    root: str, paths: list[str], total: int, raw: bool, results: multiprocessing.Queue[float]
) -> None:
    results.put(asyncio.run((_hammer_raw if raw else _hammer)(root, paths, total)))


def _rate(root: str, paths: list[str], total: int, clients: int, raw: bool) -> float:
    """Requests per second with ``clients`` load-generating processes."""
    share = total // clients
    results: multiprocessing.Queue[float] = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client_process, args=(root, paths, share, raw, results))
        for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    # Each process times its own requests (not its start-up); the slowest one sets the rate.
    elapsed = max(results.get(timeout=TIME_LIMIT_S + 30) for _ in workers)
    for worker in workers:
        worker.join(10)
    return share * clients / elapsed


def _timed(action: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = action()
    return time.perf_counter() - started, count


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="GETs per measurement")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    args = parser.parse_args()

    process, root = _start_server()
    try:
        control = SimControl(root, ADMIN_TOKEN, API_KEY, timeout=120)
        load_s, _ = _timed(
            lambda: len(control.load_scenario("fleet", instances=1000, snapshots_per_instance=10))
        )
        control.configure(latency_ms=0, rate_limit=0)
        ids = [vm["id"] for vm in control.instances()]
        random.Random(1).shuffle(ids)
        print(f"simulator pid {process.pid} on {root}; machine has {os.cpu_count()} cores")
        print(f"fleet scenario (1,000 instances, 10,000 snapshots) loaded in {load_s:.2f} s")

        gets = [f"/api/instances/{i}/" for i in ids]
        pages = [f"/api/instances/?page={p}&per_page=100" for p in range(1, 11)]
        filtered = [f"/api/instances/?page={p}&per_page=10&status=ACTIVE" for p in range(1, 11)]
        print(f"{CONCURRENCY} keep-alive connections per client process, {args.clients} processes")
        for label, raw in (("minimal HTTP/1.1 client", True), ("httpx.AsyncClient", False)):
            print(f"-- load from a {label}")
            rate = _rate(root, gets, args.requests, args.clients, raw)
            print(f"   GET /api/instances/{{id}}/:               {rate:8.0f} requests/s")
            rate = _rate(root, pages, args.requests // 4, args.clients, raw)
            print(f"   GET /api/instances/?per_page=100:        {rate:8.0f} requests/s")
            rate = _rate(root, filtered, args.requests, args.clients, raw)
            print(f"   GET /api/instances/?status=ACTIVE&per_page=10: {rate:3.0f} requests/s")

        def list_snapshots() -> int:
            return len(control.snapshots())

        snap_s, count = _timed(list_snapshots)
        print(f"list {count:,} snapshots page by page (100 a page): {snap_s:.2f} s")
        control.close()
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
