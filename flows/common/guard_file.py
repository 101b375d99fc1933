"""The host-local half of the run guard: an exclusive ``flock`` on a lock file.

The kernel drops an ``flock`` when the process holding it dies, however it dies (SIGKILL
included), so a crashed run never leaves a stale lock behind on its host. The lock file
also records who holds it and which Prefect lease it took, so the next holder on this
host can release a lease that a crashed predecessor could not.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["FileRunLock", "LockRecord"]


@dataclass(frozen=True, slots=True)
class LockRecord:
    """Who holds (or last held) a run lock.

    Attributes:
        scope: the guarded scope, e.g. ``nightly-snapshots/nightly``.
        holder: a unique id of the holding run (one per guard entry).
        flow_run_id: the Prefect flow run holding it, when inside one.
        pid: the holding process.
        host: the holding host.
        since: when it was taken (UTC, ISO 8601).
        lease_id: the Prefect concurrency lease it holds, if any.
        released: True once the holder let go cleanly.
    """

    scope: str
    holder: str
    flow_run_id: str | None
    pid: int
    host: str
    since: str
    lease_id: str | None = None
    released: bool = False

    def describe(self) -> str:
        """``flow run <id>, pid 123 on host h, since 2026-11-28T02:00:04Z``."""
        run = f"flow run {self.flow_run_id}, " if self.flow_run_id else ""
        return f"{run}pid {self.pid} on host {self.host}, since {self.since}"

    @classmethod
    def parse(cls, text: str) -> LockRecord | None:
        """The record in a lock file's text; None when empty or unreadable (mid-write)."""
        try:
            data: Any = json.loads(text)
            return cls(**data) if isinstance(data, dict) else None
        except (ValueError, TypeError):
            return None


class FileRunLock:
    """An exclusive, non-blocking ``flock`` on ``path`` holding a :class:`LockRecord`.

    Separate :class:`FileRunLock` objects exclude each other even within one process
    (``flock`` belongs to the open file, not to the process).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"FileRunLock({str(self.path)!r}, held={self._fd is not None})"

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this lock object")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            if not self.path.is_file():
                raise
            # A read-only filesystem: flock works on a read-only descriptor, so the lock
            # still excludes; only its record cannot be updated (write() raises).
            fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def read(self) -> LockRecord | None:
        """The record in the file (the current holder's, or the last one's)."""
        try:
            return LockRecord.parse(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def write(self, record: LockRecord) -> None:
        """Replace the record (only while held); durable before it returns.

        Raises:
            OSError: the disk is full or read-only (the lock itself is still held).
        """
        if self._fd is None:
            raise RuntimeError("write the lock record only while holding the lock")
        data = json.dumps(asdict(record)).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def release(self) -> None:
        """Let go of the lock (the file stays, with its last record)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
