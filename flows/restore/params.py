"""The parameters of the restore recipes (forms in the Prefect UI)."""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field, field_validator, model_validator

from barrack.models import RequestModel
from flows.common.params import RecipeParams
from flows.common.selection import InstanceSelection
from flows.restore.candidates import AUTO, SOURCE
from flows.restore.naming import validate_instance_name

__all__ = [
    "RestoreDrillParams",
    "RestoreParams",
    "RestoreSettings",
    "SSHVerification",
    "normalize_targets",
]

_REGION: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{0,49}")


def normalize_targets(values: list[str], *, field: str = "targets") -> list[str]:
    """Check and tidy a target list: ``["auto"]``, or region names and ``"source"``.

    Raises:
        ValueError: empty entries, ``auto`` mixed with regions, or a malformed region.
    """
    cleaned = [v.strip() for v in values]
    if not cleaned:
        raise ValueError(f"{field}: give at least one region, 'source' or 'auto'")
    if any(not v for v in cleaned):
        raise ValueError(f"{field}: entries must not be empty")
    lowered = [v.lower() if v.lower() in (AUTO, SOURCE) else v.upper() for v in cleaned]
    if AUTO in lowered and len(lowered) > 1:
        raise ValueError(f"{field}: 'auto' ranks every region by itself; do not list others")
    for value in lowered:
        if value not in (AUTO, SOURCE) and _REGION.fullmatch(value) is None:
            raise ValueError(f"{field}: {value!r} is not a region name such as 'US-1'")
    return list(dict.fromkeys(lowered))


class SSHVerification(RequestModel):
    """Log in to the restored machine and run a command; exit status 0 means verified.

    The private key is never a parameter: name a key file on the worker or a Prefect
    Secret block holding it (neither given: the worker's own keys and agent).
    """

    command: str = Field(
        default="nvidia-smi", min_length=1, description="Command to run; exit 0 = verified."
    )
    username: str = Field(default="ubuntu", min_length=1, description="SSH login.")
    port: int = Field(default=22, ge=1, le=65535, description="SSH port.")
    timeout_minutes: float = Field(
        default=5,
        gt=0,
        description="Budget for connecting (sshd may still be starting) and running the command.",
    )
    retry_seconds: float = Field(default=5, gt=0, description="Pause between connection tries.")
    expect_output: str | None = Field(
        default=None, description="Text the command's output must contain, e.g. 'H100'."
    )
    private_key_path: str | None = Field(
        default=None, description="Private key file on the worker."
    )
    private_key_secret_block: str | None = Field(
        default=None, description="Name of a Prefect Secret block holding the private key."
    )
    known_hosts_path: str | None = Field(
        default=None,
        description="known_hosts file to check the host key against; empty means no check "
        "(a restored machine has a new address).",
    )
    connect_host: str | None = Field(
        default=None,
        description="Connect here instead of the instance's IP (a port forward or jump "
        "host that reaches it).",
    )

    @model_validator(mode="after")
    def _one_key_source(self) -> SSHVerification:
        if self.private_key_path and self.private_key_secret_block:
            raise ValueError("ssh: give private_key_path or private_key_secret_block, not both")
        return self


class RestoreSettings(RecipeParams):
    """What a restore and a drill share: targets, checks, waits, verification."""

    exclude_source_region: bool = Field(
        default=False, description="Never restore into the snapshot's own region."
    )
    min_runway_hours: float = Field(
        default=24,
        ge=0,
        description="Warn when the balance would last fewer hours with the restored "
        "instance running alongside the fleet.",
    )
    ssh: SSHVerification | None = Field(
        default=None, description="Verify the machine over SSH; empty skips verification."
    )
    wait_timeout_minutes: float = Field(
        default=30, gt=0, description="How long to wait for ACTIVE with an IP."
    )
    poll_seconds: float = Field(
        default=10, gt=0, description="First wait between status checks (it grows x1.5)."
    )
    max_poll_seconds: float = Field(
        default=60, gt=0, description="Longest wait between status checks."
    )
    cleanup_timeout_minutes: float = Field(
        default=15,
        gt=0,
        description="How long deleting a failed or drill instance may take (it must settle "
        "before it can be deleted).",
    )


class RestoreParams(RestoreSettings):
    """Restore a snapshot into a new instance, in the best region that can take it.

    Example:
        >>> RestoreParams(instance_name="llm-train-01", targets=["us-1", "source"]).targets
        ['US-1', 'source']
    """

    snapshot_id: str | None = Field(
        default=None, description="The snapshot to restore (or give instance_name)."
    )
    instance_name: str | None = Field(
        default=None,
        description="Restore this instance's newest SUCCESS snapshot (or give snapshot_id).",
    )
    targets: list[str] = Field(
        default_factory=lambda: [AUTO],
        description="Regions in order of preference ('source' = the snapshot's region), "
        "or ['auto']: ranked by stock for the snapshot's GPUs, then by price.",
    )
    name: str | None = Field(
        default=None,
        description="Name of the new instance (2-30 letters, digits, '_', '.', '-'); empty "
        "means '<instance>-<region>', e.g. llm-train-01-us1.",
    )
    delete_failed: bool = Field(
        default=True,
        description="Delete an instance whose restore ended in ERROR or timed out, so it "
        "stops billing.",
    )
    drill: bool = Field(
        default=False,
        description="A drill: restore, verify, time it, then delete the restored instance.",
    )

    @field_validator("snapshot_id", "instance_name")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        return normalize_targets(value)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return None if value is None else validate_instance_name(value, field="name")

    @model_validator(mode="after")
    def _one_source(self) -> RestoreParams:
        if (self.snapshot_id is None) == (self.instance_name is None):
            raise ValueError(
                "give exactly one source: snapshot_id, or instance_name (its newest "
                "SUCCESS snapshot)"
            )
        return self

    def describe_source(self) -> str:
        """The source in words, for reports."""
        if self.snapshot_id is not None:
            return f"snapshot {self.snapshot_id}"
        return f"newest SUCCESS snapshot of {self.instance_name}"


class RestoreDrillParams(RestoreSettings):
    """Restore each protected instance's newest snapshot in turn, verify, time, delete."""

    selection: InstanceSelection = Field(
        default_factory=InstanceSelection, description="The protected instances to drill."
    )
    targets: list[str] = Field(
        default_factory=lambda: [SOURCE],
        description="Where to restore: 'source' (the snapshot's region), regions in order, "
        "or ['auto'].",
    )
    max_drills: int = Field(
        default=10,
        ge=1,
        le=100,
        description="At most this many instances per run; above it, a rotating subset "
        "(by ISO week) so every instance is drilled over the weeks.",
    )

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        return normalize_targets(value)
