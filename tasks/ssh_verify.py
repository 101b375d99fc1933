"""Verify a restored machine over SSH: log in and run a command such as ``nvidia-smi``.

"ACTIVE with an IP" says the provider thinks the machine is up; a command that answers
says the disk booted, the keys work and (with ``nvidia-smi``) the GPUs are visible. The
private key is never a parameter: it comes from a file on the worker or from a Prefect
Secret block named in the call, and it is never logged.
"""

from __future__ import annotations

import asyncio
import time

import asyncssh
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from pydantic import BaseModel, Field

__all__ = ["SSHCheckResult", "load_private_key", "verify_over_ssh"]

_OUTPUT_LINES = 5
_OUTPUT_CHARS = 400
_CONNECT_TIMEOUT_CAP = 30.0

# Refusals that another attempt cannot fix: a wrong key or an unexpected host key.
_FATAL = (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable, asyncssh.KeyImportError)


class SSHCheckResult(BaseModel):
    """How the SSH verification went.

    Attributes:
        ok: the command exited 0 (and printed ``expect_output`` when one was given).
        exit_status: the command's exit status, once it ran.
        output: the first lines of its output, for the report.
        error: why it failed, in words (never containing key material).
        attempts: connection attempts (the first ones may meet an sshd still booting).
        seconds: how long the verification took, on this machine's clock.
    """

    ok: bool
    exit_status: int | None = None
    output: str = ""
    error: str | None = None
    attempts: int = Field(default=0, ge=0)
    seconds: float = Field(default=0.0, ge=0)

    def summary(self) -> str:
        """One line for reports: ``exit 0 after 2 attempt(s): GPU 0: NVIDIA H100``."""
        if self.ok:
            first = self.output.splitlines()[0] if self.output else ""
            return f"exit 0 after {self.attempts} attempt(s)" + (f": {first}" if first else "")
        return self.error or "failed"


async def load_private_key(
    private_key_path: str | None,
    private_key_secret_block: str | None,
    *,
    path_field: str = "private_key_path",
    block_field: str = "private_key_secret_block",
) -> list[asyncssh.SSHKey] | None:
    """The client key to log in with; None means the worker's defaults (``~/.ssh``, agent).

    A Secret block lets a container or pod log in without a key file in its image: the
    run reads the key from Prefect's API, and only the block's name is a parameter.

    Raises:
        ValueError: the file or block cannot be read or holds no private key (the message
            names the field, given as ``path_field`` / ``block_field``, never the key).
    """
    if private_key_secret_block:
        from prefect.blocks.system import Secret

        try:
            block = await Secret.aload(private_key_secret_block)
        except (ValueError, RuntimeError) as exc:
            raise ValueError(
                f"{block_field}: cannot load {private_key_secret_block!r} ({type(exc).__name__})"
            ) from None
        text: object = block.get()  # type: ignore[attr-defined]
        if not isinstance(text, str):
            raise ValueError(f"{block_field}: the block holds no key text")
        try:
            return [asyncssh.import_private_key(text)]
        except (asyncssh.KeyImportError, ValueError):
            raise ValueError(
                f"{block_field}: the block does not hold a private key in a "
                "format asyncssh reads (OpenSSH or PEM)"
            ) from None
    if private_key_path:
        try:
            return [asyncssh.read_private_key(private_key_path)]
        except OSError as exc:
            raise ValueError(f"{path_field}: cannot read ({exc.strerror})") from None
        except (asyncssh.KeyImportError, ValueError):
            raise ValueError(f"{path_field}: the file does not hold a private key") from None
    return None


def _head(text: str) -> str:
    lines = text.strip().splitlines()[:_OUTPUT_LINES]
    return "\n".join(lines)[:_OUTPUT_CHARS]


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@task(
    name="verify-over-ssh",
    task_run_name="verify-over-ssh-{host}",
    cache_policy=NO_CACHE,
    retries=0,
    persist_result=False,
)
async def verify_over_ssh(
    host: str,
    *,
    port: int = 22,
    username: str,
    command: str = "nvidia-smi",
    timeout_seconds: float = 300.0,
    private_key_path: str | None = None,
    private_key_secret_block: str | None = None,
    known_hosts_path: str | None = None,
    expect_output: str | None = None,
    retry_seconds: float = 5.0,
) -> SSHCheckResult:
    """Log in to ``host`` and run ``command`` within ``timeout_seconds`` in all.

    Connection attempts are repeated (every ``retry_seconds``) until the deadline,
    since sshd may start a little after the IP is assigned; a refused key or host key
    ends the verification at once. Never raises for the machine's fate: the result
    carries the error.

    Args:
        host: the address to connect to.
        port: the SSH port.
        username: the login.
        command: the command to run; exit status 0 means verified.
        timeout_seconds: the whole verification's budget (connects, login, command).
        private_key_path: a private key file on the worker.
        private_key_secret_block: a Prefect Secret block holding the private key.
        known_hosts_path: a known_hosts file to check the host key against; None does
            not check it (a restored machine has a new address, so its key is rarely in
            any known_hosts file; the check sends no secret).
        expect_output: text the output must contain, e.g. a GPU model.
        retry_seconds: the pause between connection attempts.
    """
    logger = get_run_logger()
    started = time.monotonic()
    deadline = started + timeout_seconds
    result = SSHCheckResult(ok=False)
    try:
        client_keys = await load_private_key(private_key_path, private_key_secret_block)
    except ValueError as exc:
        result.error = str(exc)
        return result
    key_options: dict[str, object] = {} if client_keys is None else {"client_keys": client_keys}
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            result.error = (
                f"no answer over SSH within {timeout_seconds:g}s ({result.error or 'no attempt'})"
            )
            break
        result.attempts += 1
        try:
            async with asyncio.timeout(remaining):
                async with asyncssh.connect(
                    host,
                    port=port,
                    username=username,
                    known_hosts=known_hosts_path,
                    config=None,
                    connect_timeout=min(remaining, _CONNECT_TIMEOUT_CAP),
                    login_timeout=min(remaining, _CONNECT_TIMEOUT_CAP),
                    **key_options,
                ) as connection:
                    completed = await connection.run(command, check=False)
        except _FATAL as exc:
            result.error = _describe(exc)
            break
        except (OSError, TimeoutError, asyncssh.Error) as exc:
            result.error = _describe(exc)
            logger.info("ssh %s:%d attempt %d: %s", host, port, result.attempts, result.error)
            pause = min(retry_seconds, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(pause)
            continue
        stdout = completed.stdout if isinstance(completed.stdout, str) else ""
        stderr = completed.stderr if isinstance(completed.stderr, str) else ""
        result.exit_status = completed.exit_status
        result.output = _head(stdout or stderr)
        if completed.exit_status != 0:
            result.error = f"{command!r} exited {completed.exit_status}: {_head(stderr or stdout)}"
        elif expect_output is not None and expect_output not in stdout:
            result.error = f"{command!r} output does not contain {expect_output!r}"
        else:
            result.ok, result.error = True, None
        break
    result.seconds = round(time.monotonic() - started, 3)
    return result
