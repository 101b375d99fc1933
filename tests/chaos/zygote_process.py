"""The test side of :mod:`tests.chaos.zygote`: start it, fork jobs, reap children."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = ["Zygote", "zygote_environment"]

_REPO = Path(__file__).resolve().parents[2]


def zygote_environment(prefect_api_url: str) -> dict[str, str]:
    """The zygote's environment: this process's, on the given Prefect API, without any
    Barrack setting (each job brings its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BARRACK_")}
    env.update(
        {
            "PREFECT_API_URL": prefect_api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


class Zygote:
    """``python -m tests.chaos.zygote`` as a context manager (stopped on exit).

    Args:
        env: its environment (the Prefect API it reports flow runs to).
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.chaos.zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(env),
            cwd=_REPO,
        )
        self._ready = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()  # our own child, by its handle
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    def ready(self) -> Self:
        """Wait until it has imported everything."""
        if not self._ready:
            line = self._read()
            if line.strip() != "ready":
                raise RuntimeError(f"the zygote did not start: {line!r}")
            self._ready = True
        return self

    def fork(self, job: Path) -> int:
        """Fork a child running ``job``; its pid."""
        self._send({"job": str(job)})
        return int(json.loads(self._read())["pid"])

    def reap(self, pid: int) -> int:
        """Wait for child ``pid``; its exit status (``-9`` after a SIGKILL)."""
        self._send({"reap": pid})
        return int(json.loads(self._read())["status"])

    def _send(self, message: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()

    def _read(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote exited ({self._process.poll()})")
        return line
