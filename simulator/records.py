"""The backend's own records of each resource, converted to ``barrack.models`` at the edge.

Records are plain mutable dataclasses: the backend changes them in place and calls
:meth:`Record.touch`, which bumps ``version`` so the edge can cache each record's model
and serialise it once per change, not once per request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "AIUsageRec",
    "AccountRec",
    "FirewallRec",
    "Flavor",
    "ImageRec",
    "InstanceRec",
    "Record",
    "RuleRec",
    "SSHKeyRec",
    "ScriptRec",
    "SnapshotRec",
    "VolumeRec",
]


@dataclass(slots=True)
class Record:
    """Fields every stored resource has."""

    id: str
    created_at: datetime
    updated_at: datetime
    seq: int = 0
    version: int = 0
    cache: tuple[int, Any] | None = field(default=None, repr=False, compare=False)

    def touch(self, now: datetime) -> None:
        """Mark the record changed at ``now`` (invalidates its cached model)."""
        self.updated_at = now
        self.version += 1


@dataclass(frozen=True, slots=True)
class Flavor:
    """An instance's hardware, copied into snapshots (a restore gets the same)."""

    name: str
    gpu_model: str
    gpu_count: int
    vcpus: int
    ram_gb: int
    disk_gb: int


@dataclass(slots=True)
class RuleRec:
    """A firewall rule or an instance security rule."""

    id: str
    direction: str
    protocol: str
    ethertype: str
    port_range_min: int | None
    port_range_max: int | None
    remote_cidr: str | None
    description: str | None
    created_at: datetime


@dataclass(slots=True)
class InstanceRec(Record):
    """A GPU instance."""

    name: str = ""
    region: str = ""
    flavor: Flavor = field(default_factory=lambda: Flavor("", "", 1, 0, 0, 0))
    status: str = "CREATING"
    status_since: datetime | None = None
    boot_source: str = "os_image"
    image_id: str | None = None
    image_name: str | None = None
    ip_address: str | None = None
    private_ip: str | None = None
    public_ip_enabled: bool = True
    ssh_key_ids: list[str] = field(default_factory=list)
    volumes: dict[str, datetime] = field(default_factory=dict)
    security_rules: dict[str, RuleRec] = field(default_factory=dict)
    firewalls: dict[str, datetime] = field(default_factory=dict)
    hourly_price: Decimal = Decimal(0)
    startup_script_id: str | None = None
    snapshot_id: str | None = None
    holds_gpus: bool = False
    actions: int = 0
    hibernated_at: datetime | None = None
    history: list[tuple[datetime, str]] = field(default_factory=list)
    profile: Any = None


@dataclass(slots=True)
class SnapshotRec(Record):
    """A snapshot of an instance's disk; ``deleted`` marks a tombstone (410 on restore)."""

    name: str = ""
    description: str | None = None
    status: str = "CREATING"
    region: str = ""
    instance_id: str | None = None
    instance_name: str | None = None
    size_gb: int = 0
    flavor: Flavor = field(default_factory=lambda: Flavor("", "", 1, 0, 0, 0))
    image_ids: list[str] = field(default_factory=list)
    public_ip_enabled: bool = True
    ssh_key_ids: list[str] = field(default_factory=list)
    security_rules: list[RuleRec] = field(default_factory=list)
    deleted: bool = False


@dataclass(slots=True)
class VolumeRec(Record):
    """A block volume, bound to its region."""

    name: str = ""
    description: str | None = None
    region: str = ""
    size_gb: int = 0
    volume_type: str = "SSD"
    bootable: bool = False
    status: str = "CREATING"
    image_id: str | None = None
    instance_id: str | None = None
    device: str | None = None
    actions: int = 0


@dataclass(slots=True)
class FirewallRec(Record):
    """A firewall: rules plus the instances (of its one region) it is attached to."""

    name: str = ""
    description: str | None = None
    region: str = ""
    network_id: str = ""
    rules: dict[str, RuleRec] = field(default_factory=dict)
    attachments: dict[str, datetime] = field(default_factory=dict)


@dataclass(slots=True)
class ImageRec(Record):
    """A custom image built from a snapshot (in the snapshot's region)."""

    name: str = ""
    description: str | None = None
    status: str = "CREATING"
    region: str = ""
    snapshot_id: str = ""
    size_gb: int = 0


@dataclass(slots=True)
class SSHKeyRec(Record):
    """An account-wide SSH public key."""

    name: str = ""
    public_key: str = ""
    fingerprint: str = ""


@dataclass(slots=True)
class ScriptRec(Record):
    """An account-wide startup script."""

    name: str = ""
    description: str | None = None
    content: str = ""


@dataclass(slots=True)
class AIUsageRec(Record):
    """One AI chat call and what it cost."""

    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = Decimal(0)


@dataclass(slots=True)
class AccountRec:
    """The account: currency, profile, and top-up history (the ledger holds the balance)."""

    currency: str = "USD"
    full_name: str | None = "Ada Lovelace"
    billing_address: str | None = "12 Analytical Row"
    postal_code: str | None = "0150"
    country: str | None = "NO"
    top_ups: list[tuple[datetime, Decimal]] = field(default_factory=list)

    @property
    def profile_complete(self) -> bool:
        """A3: name, billing address, postal code and country are all set."""
        return all((self.full_name, self.billing_address, self.postal_code, self.country))

    def set_profile_complete(self, complete: bool) -> None:
        """Fill the profile with placeholder details, or blank the billing address."""
        if complete:
            self.full_name = self.full_name or "Ada Lovelace"
            self.billing_address = self.billing_address or "12 Analytical Row"
            self.postal_code = self.postal_code or "0150"
            self.country = self.country or "NO"
        else:
            self.billing_address = None
