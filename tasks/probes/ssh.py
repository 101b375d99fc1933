"""The ``ssh`` probe, and running a command on an instance over SSH (asyncssh).

The probe runs ``nvidia-smi --query-gpu=utilization.gpu,memory.used
--format=csv,noheader,nounits`` and reads one line per GPU. That is one sample *now*,
weaker evidence than a Prometheus window: the recipe therefore counts an instance idle
by ssh only after consecutive idle observations spanning the whole window (see
``flows/hibernate_idle/streaks.py``); ``gap_tolerance_seconds`` of the evidence is the
longest allowed time between two observations.

Host keys are checked against a known_hosts file unless ``host_key_policy`` is
``accept-any`` (then a machine in the middle could answer: use it only on a trusted
network). Passwords are never used: keys only. The private key is a file on the worker
(``key_file``) or, where runs start in containers, a Prefect Secret block named by
``key_secret_block``: read once per probe, never logged.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import asyncssh
from pydantic import Field, field_validator, model_validator

from barrack.models import RequestModel
from tasks.probes.base import ProbeTarget, UtilizationEvidence, failed_evidence
from tasks.ssh_verify import load_private_key

__all__ = [
    "NVIDIA_SMI_QUERY",
    "CommandResult",
    "SSHCommandError",
    "SSHProbe",
    "SSHSettings",
    "parse_nvidia_smi",
    "run_command",
]

NVIDIA_SMI_QUERY: Final = "--query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits"
_MAX_DETAIL_CHARS: Final = 200


class SSHSettings(RequestModel):
    """How to reach instances over SSH (the ssh probe and the pre-hibernate command)."""

    user: str = Field(default="ubuntu", min_length=1, description="Login user.")
    port: int = Field(default=22, ge=1, le=65535, description="SSH port.")
    key_file: str | None = Field(
        default=None,
        description="Private key file; empty means key_secret_block, else the SSH agent "
        "and ~/.ssh/id_* keys.",
    )
    key_secret_block: str | None = Field(
        default=None,
        min_length=1,
        description="Name of a Prefect Secret block holding the private key (for runs in "
        "containers or pods, which have no key file); instead of key_file.",
    )
    host_key_policy: Literal["known-hosts", "accept-any"] = Field(
        default="known-hosts",
        description="known-hosts: the host key must be in known_hosts_file; accept-any: "
        "no check (only on a trusted network).",
    )
    known_hosts_file: str | None = Field(
        default=None, description="known_hosts file; empty means ~/.ssh/known_hosts."
    )
    address: Literal["public", "private"] = Field(
        default="public", description="Connect to the instance's public or private IP."
    )
    host_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Host to use instead of the instance's IP, by instance id or name "
        "(a DNS name, a bastion-forwarded address).",
    )
    connect_timeout_seconds: float = Field(default=10, gt=0, le=300)
    command_timeout_seconds: float = Field(
        default=20, gt=0, le=600, description="Time allowed for nvidia-smi."
    )
    nvidia_smi: str = Field(default="nvidia-smi", min_length=1, description="nvidia-smi command.")
    max_gap_minutes: float = Field(
        default=20,
        gt=0,
        description="Longest time between two idle observations for them to count as one "
        "idle stretch (a little more than the schedule's interval).",
    )
    max_concurrency: int = Field(default=16, ge=1, le=256, description="Connections at once.")

    @field_validator("key_file", "known_hosts_file")
    @classmethod
    def _existing_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(f"{value!r} is not a readable file")
        return str(path)

    @model_validator(mode="after")
    def _one_key_source(self) -> SSHSettings:
        if self.key_file and self.key_secret_block:
            raise ValueError("give key_file or key_secret_block, not both")
        return self

    async def client_keys(self) -> list[asyncssh.SSHKey] | None:
        """The configured private key (file or Secret block); None: agent and ~/.ssh.

        Raises:
            ValueError: it cannot be read or is no key (names the field, never the key).
        """
        return await load_private_key(
            self.key_file,
            self.key_secret_block,
            path_field="key_file",
            block_field="key_secret_block",
        )

    @field_validator("host_overrides")
    @classmethod
    def _check_overrides(cls, value: dict[str, str]) -> dict[str, str]:
        for key, host in value.items():
            if not key.strip() or not host.strip() or any(c.isspace() for c in host):
                raise ValueError(f"{key!r}: needs a non-empty host without spaces")
        return value

    def host_for(self, target: ProbeTarget) -> str | None:
        """Where to connect for ``target``: an override, else its public or private IP."""
        override = self.host_overrides.get(target.id) or self.host_overrides.get(target.name)
        if override:
            return override
        return target.public_ip if self.address == "public" else target.private_ip


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a remote command returned."""

    exit_status: int
    stdout: str
    stderr: str


class SSHCommandError(RuntimeError):
    """A remote command could not run, timed out, or exited non-zero (message says which)."""


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line[:_MAX_DETAIL_CHARS]


async def run_command(
    settings: SSHSettings,
    host: str,
    command: str,
    *,
    timeout_seconds: float,
    client_keys: list[asyncssh.SSHKey] | None = None,
) -> CommandResult:
    """Run ``command`` on ``host`` and return its output; a non-zero exit is an error.

    ``client_keys`` are the keys :meth:`SSHSettings.client_keys` loaded, for callers that
    connect to many hosts; left out, the settings' key is loaded here.

    Raises:
        SSHCommandError: cannot connect, host key not trusted, authentication refused,
            no answer within ``timeout_seconds`` (connecting included), or exit status
            other than 0 (with the first line of stderr).
    """
    where = f"ssh {settings.user}@{host}:{settings.port}"
    options: dict[str, Any] = {
        "port": settings.port,
        "username": settings.user,
        "connect_timeout": settings.connect_timeout_seconds,
        "known_hosts": None if settings.host_key_policy == "accept-any" else _known_hosts(settings),
        "password": None,
        "kbdint_auth": False,
    }
    if client_keys is None and (settings.key_file or settings.key_secret_block):
        try:
            client_keys = await settings.client_keys()
        except ValueError as exc:
            raise SSHCommandError(f"{where}: {exc}") from None
    if client_keys is not None:
        options["client_keys"] = client_keys
        options["agent_path"] = None  # the configured key only, not whatever an agent holds
    try:
        async with asyncio.timeout(timeout_seconds):
            async with asyncssh.connect(host, **options) as connection:
                result = await connection.run(command, check=False)
    except TimeoutError:
        raise SSHCommandError(f"{where}: no answer within {timeout_seconds:g} s") from None
    except asyncssh.HostKeyNotVerifiable:
        raise SSHCommandError(f"{where}: host key not trusted (known_hosts policy)") from None
    except asyncssh.PermissionDenied:
        raise SSHCommandError(f"{where}: authentication refused") from None
    except (asyncssh.Error, OSError) as exc:
        detail = _first_line(str(exc)) or type(exc).__name__
        raise SSHCommandError(f"{where}: {detail}") from None
    stdout = _text(result.stdout)
    stderr = _text(result.stderr)
    status = result.exit_status if result.exit_status is not None else -1
    if status != 0:
        detail = _first_line(stderr) or _first_line(stdout) or "no output"
        raise SSHCommandError(f"{where}: exit status {status}: {detail}")
    return CommandResult(status, stdout, stderr)


def _known_hosts(settings: SSHSettings) -> str | tuple[()]:
    # asyncssh reads ~/.ssh/known_hosts when given an empty tuple.
    return settings.known_hosts_file if settings.known_hosts_file else ()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def parse_nvidia_smi(output: str) -> list[tuple[float, float]]:
    """(utilisation %, memory used MiB) per GPU from nvidia-smi's CSV.

    Raises:
        ValueError: no GPU listed, or a line that is not two numbers (``[N/A]``...).

    Example:
        >>> parse_nvidia_smi("3, 512\\n0, 0\\n")
        [(3.0, 512.0), (0.0, 0.0)]
    """
    gpus: list[tuple[float, float]] = []
    for number, line in enumerate(output.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [part.strip() for part in line.split(",")]
        try:
            util, memory = (float(value) for value in fields)
        except ValueError:
            raise ValueError(
                f"line {number}: {line.strip()[:80]!r} is not 'utilization, memory'"
            ) from None
        if not (math.isfinite(util) and math.isfinite(memory)):
            raise ValueError(f"line {number}: {line.strip()[:80]!r} is not finite")
        gpus.append((util, memory))
    if not gpus:
        raise ValueError("nvidia-smi listed no GPU")
    return gpus


class SSHProbe:
    """One nvidia-smi sample per instance, now.

    Args:
        settings: how to connect.
    """

    name: Final = "ssh"

    def __init__(self, settings: SSHSettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"SSHProbe(user={self.settings.user!r}, port={self.settings.port})"

    async def collect(
        self, targets: Sequence[ProbeTarget], *, now: datetime, window: timedelta
    ) -> dict[str, UtilizationEvidence]:
        """One observation per target at ``now``; never raises per target."""
        gate = asyncio.Semaphore(self.settings.max_concurrency)
        try:
            keys = await self.settings.client_keys()  # once, not once per instance
        except ValueError as exc:
            return {
                t.id: failed_evidence(
                    t.id, self.name, str(exc), window_start=now - window, window_end=now
                )
                for t in targets
            }

        async def one(target: ProbeTarget) -> UtilizationEvidence:
            async with gate:
                return await self._observe(target, now=now, window=window, keys=keys)

        found = await asyncio.gather(*(one(t) for t in targets))
        return {evidence.instance_id: evidence for evidence in found}

    async def _observe(
        self,
        target: ProbeTarget,
        *,
        now: datetime,
        window: timedelta,
        keys: list[asyncssh.SSHKey] | None,
    ) -> UtilizationEvidence:
        settings = self.settings
        start = now - window

        def failed(error: str) -> UtilizationEvidence:
            return failed_evidence(target.id, self.name, error, window_start=start, window_end=now)

        host = settings.host_for(target)
        if not host:
            return failed(f"no {settings.address} IP address to connect to")
        try:
            result = await run_command(
                settings,
                host,
                f"{settings.nvidia_smi} {NVIDIA_SMI_QUERY}",
                timeout_seconds=settings.connect_timeout_seconds + settings.command_timeout_seconds,
                client_keys=keys,
            )
            gpus = parse_nvidia_smi(result.stdout)
        except (SSHCommandError, ValueError) as exc:
            return failed(str(exc))
        utils = [util for util, _ in gpus]
        return UtilizationEvidence(
            instance_id=target.id,
            probe=self.name,
            window_start=start,
            window_end=now,
            sample_count=1,
            covered_from=now,
            covered_to=now,
            gap_tolerance_seconds=settings.max_gap_minutes * 60,
            max_util_pct=max(utils),
            avg_util_pct=max(utils),
            max_memory_mib=max(memory for _, memory in gpus),
        )
