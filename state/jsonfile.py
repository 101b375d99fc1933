"""One JSON file that survives crashes and concurrent writers: the file backend's core.

:class:`LockedJsonFile` is what :class:`state.store.FileStore` (and so the notification
ledger, the hibernate-idle memory and the balance history) keeps its data in:

* an exclusive ``flock`` on ``<file>.lock`` (held per process and, through a thread
  lock, per thread) around every read and every read-modify-write;
* a version check on read: a file of an older version is upgraded in memory by the
  caller's function for that version (rewritten in the current version on the next
  write); a file that is not JSON, not an object, or of an unknown version is moved
  aside to ``<file>.corrupt-<epoch seconds>`` with a warning, and the caller starts
  empty (state is lost once, which every caller prefers to trusting it);
* atomic, durable writes: a temp file in the same directory, fsync, ``os.replace``, fsync
  of the directory. A reader sees the old file or the new one, never half of one.

Example:
    >>> ledger = LockedJsonFile(path, kind="notification ledger", version=1)
    >>> with ledger.locked():  # read-modify-write as one step
    ...     payload = ledger.read() or {"records": {}}
    ...     payload["records"]["k"] = 1
    ...     ledger.write(payload)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar

__all__ = ["LockedJsonFile"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A temp file this old belongs to a writer that crashed, not to one still writing.
STALE_TEMP_SECONDS: Final = 600
_REASON_CHARS: Final = 200


class LockedJsonFile:
    """A JSON object in one file, versioned, locked and written atomically.

    Args:
        path: The file; its directory is created on first use.
        kind: What the file holds, for warnings and errors (``"notification ledger"``).
        version: The format version every payload carries under ``"version"``.
        indent: ``json.dumps`` indentation; None writes the compact form.
        upgrades: for each older version still readable, a function turning a payload of
            that version into one of ``version`` (it raises ``ValueError`` for content it
            cannot trust).
    """

    def __init__(
        self,
        path: Path,
        *,
        kind: str,
        version: int,
        indent: int | None = 2,
        upgrades: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.version = version
        self.upgrades = dict(upgrades or {})
        self.lock_path = path.with_name(path.name + ".lock")
        self._indent = indent
        # flock excludes other processes and other open descriptions in this process; the
        # thread lock plus the "held" flag let one thread nest read/write inside locked().
        self._thread_lock = threading.RLock()
        self._held = False

    def __repr__(self) -> str:
        return f"LockedJsonFile({str(self.path)!r}, kind={self.kind!r}, version={self.version})"

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file exclusively (re-entrant in one thread); for read-modify-write.

        On a full or read-only disk the lock file may not be creatable: an existing one is
        locked through a read-only descriptor (flock does not need write access), and
        without one the block runs unlocked, with a warning. Reads then still work (the
        ledger keeps deduplicating); writes fail on their own and are reported there.
        """
        with self._thread_lock:
            if self._held:
                yield
                return
            lock_file = self._open_lock_file()
            if lock_file is None:
                self._held = True
                try:
                    yield
                finally:
                    self._held = False
                return
            with lock_file:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
                self._held = True
                try:
                    yield
                finally:
                    self._held = False
                    fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _open_lock_file(self) -> BinaryIO | None:
        """The lock file, opened for writing, else read-only, else None (cannot exist)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return open(self.lock_path, "a+b")
        except OSError as error:
            try:
                return open(self.lock_path, "rb")
            except OSError:
                logger.warning(
                    "%s: cannot create the lock file %s (%s); reading without the lock",
                    self.kind,
                    self.lock_path,
                    error.strerror or error,
                )
                return None

    def read(self) -> dict[str, Any] | None:
        """The payload (``"version"`` included), or None when there is none to trust.

        None means the file does not exist, or it was unreadable (not JSON, not an object,
        another version) and has been moved aside with a warning.
        """
        return self.read_as(lambda payload: payload)

    def read_as(self, decode: Callable[[dict[str, Any]], T]) -> T | None:
        """``decode(payload)``; a ``ValueError`` from ``decode`` also moves the file aside.

        Args:
            decode: Turns the version-checked (or upgraded) payload into the caller's
                data; it raises ``ValueError`` (pydantic's ``ValidationError`` is one)
                for content it cannot trust.

        Returns:
            The decoded data, or None when the file is missing or was moved aside.
        """
        with self.locked():
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
            try:
                payload = json.loads(text)
                if not isinstance(payload, dict):
                    raise ValueError(f"not a {self.kind}: not a JSON object")
                found = payload.get("version")
                if found != self.version and isinstance(found, int) and found in self.upgrades:
                    payload = {**self.upgrades[found](payload), "version": self.version}
                elif found != self.version:
                    raise ValueError(
                        f"not a {self.kind} of version {self.version}: "
                        f"version is {payload.get('version')!r}"
                    )
                return decode(payload)
            except ValueError as error:  # JSONDecodeError is a ValueError too
                self._move_aside(error)
                return None

    def write(self, payload: dict[str, Any]) -> None:
        """Replace the file with ``payload`` (``"version"`` is added first), atomically.

        The payload is serialised before anything on disk is touched, so one that cannot
        be serialised leaves the old file as it was.

        Raises:
            ValueError: ``payload`` names another version, or holds NaN or infinity.
            TypeError: ``payload`` holds something JSON cannot represent.
            OSError: the disk refused; the old file is intact and no temp file remains.
        """
        if payload.get("version", self.version) != self.version:
            raise ValueError(
                f"{self.kind}: payload version {payload['version']!r} is not {self.version}"
            )
        text = json.dumps(
            {"version": self.version, **payload}, indent=self._indent, allow_nan=False
        )
        with self.locked():
            descriptor, temp_name = tempfile.mkstemp(
                dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
            )
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as temp:
                    temp.write(text)
                    temp.flush()
                    os.fsync(temp.fileno())
                os.replace(temp_name, self.path)
            except BaseException:
                with suppress(OSError):
                    os.unlink(temp_name)
                raise
            _fsync_directory(self.path.parent)
            self._remove_stale_temp_files()

    def _move_aside(self, error: ValueError) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
        os.replace(self.path, aside)
        logger.warning(
            "%s %s is unreadable (%s); moved it to %s and started empty",
            self.kind,
            self.path,
            _reason(error),
            aside.name,
        )

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_SECONDS
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def _reason(error: ValueError) -> str:
    """``Type: first line of the message``, short (a validation error can be pages long)."""
    first_line = str(error).partition("\n")[0][:_REASON_CHARS]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    with suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
