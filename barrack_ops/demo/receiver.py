"""A local notification receiver standing in for Slack or email: apprise ``json://`` and
``form://`` posts kept in memory and, optionally, appended to a JSONL file.

The demo shows the alerts its recipes send through it, ``make up`` runs one beside the
simulator, and the tests use it as a real HTTP destination (``tests/helpers/receiver.py``
adds broken and slow destinations to it).

Example:
    >>> with NotificationReceiver() as receiver:                      # a free loopback port
    ...     notifier = Notifier.from_urls(receiver.json_url("/ops"))
    ...     notifier.send(alert)
    ...     [n.title for n in receiver.wait_for(1)]

It is the standard library's ``ThreadingHTTPServer`` in a daemon thread: no event loop to
share with the caller (tests, Prefect flows and the demo each run their own, or none),
port 0 picks a free port, and it starts in milliseconds. Run it on its own with
``python -m barrack_ops.demo.receiver --port 8765 --jsonl received.jsonl``.

Besides POST on any path, it answers ``GET /_received`` with everything received as JSON,
for a demo whose flows run in other processes.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

__all__ = ["NotificationReceiver", "ReceivedNotification", "ReceiverHandler", "main", "serve"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class ReceivedNotification:
    """One post the receiver accepted.

    apprise's ``json://`` and ``form://`` send the fields ``version``, ``title``,
    ``message``, ``type`` and ``attachments``; :attr:`title`, :attr:`body` and :attr:`type`
    read them.
    """

    path: str
    content_type: str
    payload: dict[str, Any]
    received_at: datetime
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str | None:
        """The notification title."""
        return _text(self.payload.get("title"))

    @property
    def body(self) -> str | None:
        """The notification body (apprise's ``message`` field)."""
        return _text(self.payload.get("message"))

    @property
    def type(self) -> str | None:
        """apprise's notify type: info, success, warning or failure."""
        return _text(self.payload.get("type"))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (one line of the JSONL file)."""
        return {
            "path": self.path,
            "content_type": self.content_type,
            "received_at": self.received_at.isoformat(),
            "headers": self.headers,
            "payload": self.payload,
        }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class NotificationReceiver:
    """A tiny HTTP server that records the notifications posted to it.

    Args:
        host: Where to listen; keep it on loopback.
        port: 0 picks a free port (read it back from :attr:`port`).
        jsonl_path: Also append every notification to this file, one JSON object a line.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, jsonl_path: Path | None = None
    ) -> None:
        self._address = (host, port)
        self.jsonl_path = jsonl_path
        self._received: list[ReceivedNotification] = []
        self._condition = threading.Condition()
        self._server: _ReceiverServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            raise RuntimeError("the receiver is already running")
        self._server = _ReceiverServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"notification-receiver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port it listens on."""
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """The host it listens on."""
        return self._address[0]

    def json_url(self, path: str = "/notify") -> str:
        """The apprise URL that posts JSON here, e.g. ``json://127.0.0.1:8765/notify``."""
        return f"json://{self.host}:{self.port}/{path.lstrip('/')}"

    def form_url(self, path: str = "/notify") -> str:
        """The apprise URL that posts a form here, e.g. ``form://127.0.0.1:8765/notify``."""
        return f"form://{self.host}:{self.port}/{path.lstrip('/')}"

    # -- what was received ---------------------------------------------------------------

    @property
    def received(self) -> list[ReceivedNotification]:
        """Everything received so far, oldest first (a copy)."""
        with self._condition:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedNotification]:
        """Wait until at least ``count`` notifications arrived; returns what arrived.

        Returns early with fewer only when ``timeout`` seconds pass.
        """
        with self._condition:
            self._condition.wait_for(lambda: len(self._received) >= count, timeout=timeout)
            return list(self._received)

    def clear(self) -> None:
        """Forget what was received (the JSONL file is kept)."""
        with self._condition:
            self._received.clear()

    # -- called by the handler (a subclass may refuse posts, or answer them otherwise) -----

    def _refusal(self, path: str) -> int | None:
        """The status to refuse a post to ``path`` with, unread; None accepts it."""
        return None

    def _reply(self, handler: ReceiverHandler, path: str) -> None:
        """Answer a post to ``path`` once it is recorded."""
        handler.answer(HTTPStatus.OK, {"received": True})

    def _record(self, notification: ReceivedNotification) -> None:
        with self._condition:
            self._received.append(notification)
            if self.jsonl_path is not None:
                with self.jsonl_path.open("a", encoding="utf-8") as jsonl:
                    jsonl.write(json.dumps(notification.to_json(), ensure_ascii=False) + "\n")
            self._condition.notify_all()


class ReceiverHandler(BaseHTTPRequestHandler):
    """Answers posts for one :class:`NotificationReceiver` (its server carries it)."""

    server_version = "barrack-ops-receiver/1"

    @property
    def receiver(self) -> NotificationReceiver:
        server = self.server
        assert isinstance(server, _ReceiverServer)
        return server.receiver

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "too large"})
            return
        refusal = self.receiver._refusal(path)
        if refusal is not None:
            self.answer(refusal, {"error": "failing on purpose"})
            return
        content_type = self.headers.get_content_type()
        payload = _parse(content_type, self.rfile.read(length))
        self.receiver._record(
            ReceivedNotification(
                path=path,
                content_type=content_type,
                payload=payload,
                received_at=datetime.now(UTC),
                headers={k: v for k, v in self.headers.items() if k.lower() != "authorization"},
            )
        )
        self.receiver._reply(self, path)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/_received":
            self.answer(HTTPStatus.NOT_FOUND, {"error": "POST notifications; GET /_received"})
            return
        self.answer(HTTPStatus.OK, [n.to_json() for n in self.receiver.received])

    def answer(self, status: int, body: Any) -> None:
        """Send ``body`` as JSON with ``status``."""
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("receiver: " + format, *args)


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: NotificationReceiver) -> None:
        super().__init__(address, ReceiverHandler)
        self.receiver = receiver


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/json":
        try:
            value = json.loads(text)
        except ValueError:
            return {"raw": text}
        return value if isinstance(value, dict) else {"value": value}
    if content_type == "application/x-www-form-urlencoded":
        fields = parse_qs(text, keep_blank_values=True)
        return {key: values[0] if len(values) == 1 else values for key, values in fields.items()}
    return {"raw": text}


def serve(host: str = "127.0.0.1", port: int = 8765, jsonl_path: Path | None = None) -> None:
    """Receive until interrupted, printing each notification as it arrives."""
    receiver = NotificationReceiver(host, port, jsonl_path=jsonl_path).start()
    print(f"receiving on {receiver.json_url()} and {receiver.form_url()}", flush=True)
    seen = 0
    try:
        while True:
            arrived = receiver.wait_for(seen + 1, timeout=3600)
            for notification in arrived[seen:]:
                print(f"[{notification.type}] {notification.title}", flush=True)
                print(f"{notification.body}\n", flush=True)
            seen = len(arrived)
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m barrack_ops.demo.receiver [--host H] [--port P] [--jsonl FILE]``."""
    parser = argparse.ArgumentParser(
        prog="python -m barrack_ops.demo.receiver",
        description="A local json:// and form:// notification receiver (stands in for Slack).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--jsonl", type=Path, default=None, help="also append to this file")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.jsonl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
