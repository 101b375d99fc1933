"""Serve the simulator with uvicorn: in the foreground (CLI) or in a thread (tests)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Final

import uvicorn

from barrack._wire import API_PREFIX, PROMETHEUS_PREFIX
from simulator.app import create_app
from simulator.http.gateway import DROP_LOG_MESSAGE, Gateway
from simulator.runtime import SimConfig

__all__ = ["SimServer"]

_START_TIMEOUT: Final = 10.0


class _DropFilter(logging.Filter):
    """Hide uvicorn's complaint about the responses drop_after_commit cuts on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_LOG_MESSAGE


_DROP_FILTER = _DropFilter()


class SimServer:
    """A simulator bound to a loopback socket.

    Args:
        config: what to simulate.
        host: address to bind (loopback by default).
        port: port to bind; 0 picks a free one.
    """

    def __init__(self, config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app: Gateway = create_app(config)
        self.runtime = self.app.runtime
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it every response waits ~40 ms for
        # the client's delayed ACK (headers and body go out as two writes).
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                access_log=False,
                log_config=None,
                lifespan="off",
                loop="asyncio",
                http="h11",
                timeout_graceful_shutdown=1,
            )
        )
        self._thread: threading.Thread | None = None
        logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)

    def __repr__(self) -> str:
        return f"SimServer(base_url={self.base_url!r})"

    @property
    def root_url(self) -> str:
        """``http://HOST:PORT`` (control and Prometheus routes hang off it)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, ``http://HOST:PORT/api``."""
        return f"{self.root_url}{API_PREFIX}"

    @property
    def prometheus_url(self) -> str:
        """The Prometheus base URL a probe takes, ``http://HOST:PORT/prometheus``."""
        return f"{self.root_url}{PROMETHEUS_PREFIX}"

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C)."""
        self._server.run(sockets=[self._socket])

    def start(self) -> None:
        """Serve in a daemon thread; return once it accepts connections."""
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.001)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT)
            self._thread = None
        self._socket.close()
