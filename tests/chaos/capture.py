"""Capturing a scenario's log lines, and setting the environment its runs see."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["captured_logs"]

CAPTURED_LOGGERS: Final = ("barrack", "tasks", "flows", "notifications", "apprise")
"""Our own loggers (and apprise, which logs URLs and headers) are captured down to DEBUG;
everything else at the level it runs with."""

DESTINATION_LOGGERS: Final = ("barrack_ops.demo.receiver",)
"""The local receiver plays the notification destination: its access log shows the URL
path it was called on, as a chat service's own server would. It is not the sender's output."""


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(DESTINATION_LOGGERS):
            return
        try:
            text = record.getMessage()
        except Exception:  # a record that cannot format is still scanned as it is
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        self.lines.append((f"log {record.name}", text))


@contextmanager
def captured_logs() -> Iterator[list[tuple[str, str]]]:
    """Every log record of the block as ``(source, text)``: the root logger's, ours to DEBUG."""
    handler = _ListHandler()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in CAPTURED_LOGGERS}
    root.addHandler(handler)
    for name in CAPTURED_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
