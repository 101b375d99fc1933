"""One run of a recipe at a time: an overlap guard that survives crashes.

Deployments already carry ``concurrency_limit=1``, but a run started from the command
line, a script or a test goes around it. :func:`exclusive_run` guards every run of a
recipe scope (``nightly-snapshots/<policy>``, ``low-balance/<account>``...):

* on the host, an exclusive ``flock`` on ``<state dir>/locks/<scope>.lock``: the kernel
  drops it when the holder dies, SIGKILL included, so a crash never leaves it stale;
* when a Prefect API answers (``auto``, asked once per run) or always (``prefect``), also
  the one slot of a Prefect global concurrency limit ``barrack-ops-run--<scope>``, held
  with Prefect's ``concurrency()`` under a lease it renews, so runs on other hosts are
  excluded too. The guard creates the limit (one slot) on first use. A holder that dies
  stops renewing and the server frees the slot after ``lease_seconds``; on the same host
  the next run frees it at once, by the lease id the dead holder left in the lock file.

A run that finds the scope taken waits up to ``wait_seconds``, then fails with
:class:`RunInProgressError`, having done nothing.

A state directory that is full, read-only or missing costs the host lock (or only its
record), never the run: the guard exists to protect what the recipe does, so it warns
and lets the recipe run (still under the Prefect slot when an API answers). A
low-balance alert must not turn into a "flow failed" page because a disk filled up.

====================================  =========================================================
environment variable                  meaning
====================================  =========================================================
``BARRACK_OPS_GUARD_MODE``            ``auto`` (default), ``file``, ``prefect`` or ``off``
``BARRACK_OPS_GUARD_WAIT_SECONDS``    how long a run waits for the one holding the scope (300)
``BARRACK_OPS_GUARD_LEASE_SECONDS``   Prefect lease of a holder that stops renewing (120, >= 60)
``BARRACK_OPS_GUARD_LOCK_DIR``        lock files; default ``$BARRACK_OPS_STATE_DIR/locks``
====================================  =========================================================
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.common.guard_file import FileRunLock, LockRecord
from flows.common.guard_prefect import LeaseUnavailableError, held_lease, release_lease
from state import prefect_api_reachable, state_dir

__all__ = [
    "GuardMode",
    "GuardSettings",
    "RunInProgressError",
    "exclusive_run",
    "guard_scope",
    "limit_name",
    "run_exclusive",
]

logger = logging.getLogger(__name__)

GuardMode = Literal["auto", "file", "prefect", "off"]
T = TypeVar("T")


class GuardSettings(BaseSettings):
    """How runs of one recipe scope exclude each other (``BARRACK_OPS_GUARD_*``)."""

    model_config = SettingsConfigDict(env_prefix="BARRACK_OPS_GUARD_", extra="forbid")

    mode: GuardMode = Field(
        default="auto",
        description="auto: a host lock, plus a Prefect concurrency slot when an API answers; "
        "file: the host lock only; prefect: both, the API required; off: no guard.",
    )
    wait_seconds: float = Field(
        default=300, ge=0, le=86_400, description="How long to wait for a running holder."
    )
    lease_seconds: float = Field(
        default=120, ge=60, le=86_400, description="Prefect lease of a holder that stops renewing."
    )
    poll_seconds: float = Field(default=0.2, gt=0, le=60, description="Pause between tries.")
    lock_dir: Path | None = Field(
        default=None, description="Lock files; empty means $BARRACK_OPS_STATE_DIR/locks."
    )

    def lock_path(self, scope: str) -> Path:
        """The lock file of ``scope``."""
        directory = self.lock_dir or state_dir() / "locks"
        return directory / f"{_slug(scope)}.lock"


class RunInProgressError(RuntimeError):
    """Another run holds the scope; this one did nothing.

    Attributes:
        scope: the guarded scope.
        holder: who holds it, as far as this host knows (None: another host).
    """

    def __init__(self, scope: str, holder: LockRecord | None, waited: float) -> None:
        self.scope = scope
        self.holder = holder
        where = holder.describe() if holder else "a run on another host (Prefect slot taken)"
        super().__init__(
            f"another run of {scope} is in progress ({where}); waited {waited:g} s and did "
            "nothing. It runs again at its next schedule, or start it once the other run ends."
        )


def guard_scope(recipe: str, name: str) -> str:
    """``<recipe>/<name>``: the runs that must not overlap (one policy, account or source)."""
    return f"{recipe}/{name}"


def limit_name(scope: str) -> str:
    """The Prefect global concurrency limit that guards ``scope`` across hosts."""
    return f"barrack-ops-run--{_slug(scope)}"


def _slug(scope: str) -> str:
    readable = re.sub(r"[^a-z0-9]+", "-", scope.lower()).strip("-")[:80]
    digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:10]
    return f"{readable}-{digest}"


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    value = flow_run.id
    return str(value) if value else None


async def _use_prefect(mode: GuardMode) -> bool:
    if mode == "file":
        return False
    if mode == "prefect":
        return True
    return await prefect_api_reachable()


def _run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The flow run's logger (shown in the Prefect UI), or this module's outside a run."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return logger


async def _take_host_lock(lock: FileRunLock, scope: str, settings: GuardSettings) -> float:
    """Take the host lock, waiting up to ``wait_seconds``; the deadline left for the rest."""
    started = time.monotonic()
    deadline = started + settings.wait_seconds
    told = False
    while not lock.try_acquire():
        if time.monotonic() >= deadline:
            raise RunInProgressError(scope, lock.read(), settings.wait_seconds)
        if not told:
            holder = lock.read()
            _run_logger().info(
                "another run of %s is in progress (%s): waiting up to %g s",
                scope,
                holder.describe() if holder else "holder unknown",
                settings.wait_seconds,
            )
            told = True
        await asyncio.sleep(min(settings.poll_seconds, max(0.0, deadline - time.monotonic())))
    return deadline


@asynccontextmanager
async def exclusive_run(
    recipe: str, name: str, *, settings: GuardSettings | None = None
) -> AsyncIterator[LockRecord | None]:
    """Hold the scope ``<recipe>/<name>`` for the block; no other run of it acts meanwhile.

    Args:
        recipe: the recipe, e.g. ``"nightly-snapshots"``.
        name: what one run owns: the policy, the account, the restore's source.
        settings: defaults to :class:`GuardSettings` from the environment.

    Yields:
        This run's lock record (None when the guard is off).

    Raises:
        RunInProgressError: another run held the scope for all of ``wait_seconds``.

    Example:
        >>> async with exclusive_run("nightly-snapshots", "nightly"):  # doctest: +SKIP
        ...     await act()
    """
    settings = settings or GuardSettings()
    scope = guard_scope(recipe, name)
    if settings.mode == "off":
        yield None
        return
    path = settings.lock_path(scope)
    host_lock = FileRunLock(path)
    lock: FileRunLock | None = host_lock
    try:
        deadline = await _take_host_lock(host_lock, scope, settings)
    except OSError as error:
        _run_logger().warning(
            "run guard: %s: cannot take the host lock %s (%s); running without it (state "
            "directory full, read-only or missing?)",
            scope,
            path,
            _describe_os_error(error),
        )
        lock, deadline = None, time.monotonic() + settings.wait_seconds
    record = LockRecord(
        scope=scope,
        holder=uuid.uuid4().hex,
        flow_run_id=_flow_run_id(),
        pid=os.getpid(),
        host=socket.gethostname(),
        since=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    try:
        previous = lock.read() if lock is not None else None
        _write_record(lock, record, scope)
        async with AsyncExitStack() as stack:
            if await _use_prefect(settings.mode):
                if previous is not None and previous.lease_id and not previous.released:
                    # We hold the host lock, so the run that took this lease is dead.
                    _run_logger().warning(
                        "run guard: %s: releasing the lease of a crashed run (%s)",
                        scope,
                        previous.describe(),
                    )
                    await release_lease(previous.lease_id)
                try:
                    lease_id = await stack.enter_async_context(
                        held_lease(
                            limit_name(scope),
                            lease_seconds=settings.lease_seconds,
                            flow_run_id=record.flow_run_id,
                            wait_seconds=max(0.0, deadline - time.monotonic()),
                        )
                    )
                except LeaseUnavailableError:
                    raise RunInProgressError(scope, None, settings.wait_seconds) from None
                record = replace(record, lease_id=str(lease_id) if lease_id else None)
                _write_record(lock, record, scope)
            yield record
    finally:
        if lock is not None:
            # The lease (if any) is released by now: say so, so no successor releases it.
            _write_record(lock, replace(record, released=True), scope)
            lock.release()


def _write_record(lock: FileRunLock | None, record: LockRecord, scope: str) -> None:
    """Record the holder in the lock file; a full or read-only disk only costs the record.

    Without it a successor on this host cannot release a lease this run leaves behind
    by crashing; the server frees it after ``lease_seconds`` anyway.
    """
    if lock is None:
        return
    try:
        lock.write(record)
    except OSError as error:
        _run_logger().warning(
            "run guard: %s: cannot record the holder in %s (%s); the lock is still held",
            scope,
            lock.path,
            _describe_os_error(error),
        )


def _describe_os_error(error: OSError) -> str:
    name = errno.errorcode.get(error.errno or 0, type(error).__name__)
    return f"{name}: {error.strerror or error}"


async def run_exclusive(
    recipe: str, name: str, body: Callable[[], Awaitable[T]], *, dry_run: bool = False
) -> T:
    """Run a recipe's body holding its scope (see :func:`exclusive_run`).

    A dry run changes nothing, so it needs no guard and never waits for a real run.

    Example:
        >>> await run_exclusive(  # doctest: +SKIP
        ...     "nightly-snapshots", params.policy_name, lambda: run_nightly_snapshots(params)
        ... )
    """
    if dry_run:
        return await body()
    async with exclusive_run(recipe, name):
        return await body()
