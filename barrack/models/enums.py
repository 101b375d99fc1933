"""The API's enumerations (A2, A3, B4, B5).

Every enum is open (see :class:`~barrack.models._base.OpenEnum`): a value added by the API
after this client was written parses into a pseudo-member whose ``is_known`` is False,
instead of failing a whole list call. Code that acts on a value must treat unknown members
as "not safe to act on"; the helpers on :class:`VMStatus` already do.

``GpuCountEnum`` is the one integer enum: GPU counts are numbers on the wire and in
arithmetic (a price times a count), so it is an :class:`~barrack.models._base.OpenIntEnum`
of ``1, 2, 4, 8``; other positive counts parse as unknown members.
"""

from __future__ import annotations

from typing import Any, Final

from barrack.models._base import OpenEnum, OpenIntEnum

__all__ = [
    "ACTIONABLE_VM_STATUSES",
    "READY_SNAPSHOT_STATUSES",
    "SETTLED_VM_STATUSES",
    "TRANSITIONAL_VM_STATUSES",
    "VM_TRANSITION_TARGETS",
    "BootSource",
    "CurrencyEnum",
    "DirectionEnum",
    "EthertypeEnum",
    "GpuCountEnum",
    "GpuModelEnum",
    "ImageStatus",
    "ProtocolEnum",
    "RegionEnum",
    "ResourceTypeEnum",
    "SnapshotStatus",
    "TierEnum",
    "VMStatus",
    "VolumeStatus",
    "VolumeTypeEnum",
]


class CurrencyEnum(OpenEnum):
    """Account currency, fixed by the account's country (India INR, Europe EUR, else USD)."""

    USD = "USD"
    EUR = "EUR"
    INR = "INR"


class RegionEnum(OpenEnum):
    """A Barrack region."""

    NORWAY_1 = "NORWAY-1"
    CANADA_1 = "CANADA-1"
    US_1 = "US-1"


class GpuModelEnum(OpenEnum):
    """A GPU model, spelled as the API spells it (A3)."""

    H100_SXM5_80GB = "H100-SXM5-80GB"
    H100_PCIE_NVLINK_80GB = "H100-PCIe-NVLink-80GB"
    H100_PCIE_80GB = "H100-PCIe-80GB"
    A100_SXM4_80GB_NVLINK = "A100-SXM4-80GB-NVLink"
    A100_PCIE_80GB = "A100-PCIe-80GB"
    L40 = "L40"
    RTX_A6000 = "RTX-A6000"
    A40 = "A40"
    B300_262GB = "B300-262GB"


class GpuCountEnum(OpenIntEnum):
    """GPUs per instance. Integers on the wire; other positive counts parse as unknown."""

    ONE = 1
    TWO = 2
    FOUR = 4
    EIGHT = 8

    @classmethod
    def _missing_(cls, value: object) -> Any:
        # A GPU count below one is never meaningful, known or not.
        if isinstance(value, int) and value < 1:
            return None
        return super()._missing_(value)


class VMStatus(OpenEnum):
    """Instance status (A3, B4): settled states, transitional states, and ``UNKNOWN``."""

    ACTIVE = "ACTIVE"
    SHUTOFF = "SHUTOFF"
    HIBERNATED = "HIBERNATED"
    DELETED = "DELETED"
    ERROR = "ERROR"
    CREATING = "CREATING"
    DELETING = "DELETING"
    STOPPING = "STOPPING"
    STARTING = "STARTING"
    REBOOTING = "REBOOTING"
    HIBERNATING = "HIBERNATING"
    RESTORING = "RESTORING"
    UNKNOWN = "UNKNOWN"

    @property
    def is_settled(self) -> bool:
        """True for a state that will not change by itself (ACTIVE, SHUTOFF, ..., ERROR)."""
        return self in SETTLED_VM_STATUSES

    @property
    def is_transitional(self) -> bool:
        """True while an action is in progress; callers poll until the state settles."""
        return self in TRANSITIONAL_VM_STATUSES

    @property
    def is_actionable(self) -> bool:
        """True when it is safe to start an action (stop, hibernate, snapshot...) from here.

        Unknown, transitional, ``ERROR``, ``UNKNOWN`` and ``DELETED`` states are not.
        """
        return self in ACTIONABLE_VM_STATUSES


SETTLED_VM_STATUSES: Final[frozenset[VMStatus]] = frozenset(
    {VMStatus.ACTIVE, VMStatus.SHUTOFF, VMStatus.HIBERNATED, VMStatus.DELETED, VMStatus.ERROR}
)
"""States an instance stays in until someone acts (B4: delete is allowed from any of them)."""

VM_TRANSITION_TARGETS: Final[dict[VMStatus, VMStatus]] = {
    VMStatus.CREATING: VMStatus.ACTIVE,
    VMStatus.STOPPING: VMStatus.SHUTOFF,
    VMStatus.STARTING: VMStatus.ACTIVE,
    VMStatus.REBOOTING: VMStatus.ACTIVE,
    VMStatus.HIBERNATING: VMStatus.HIBERNATED,
    VMStatus.RESTORING: VMStatus.ACTIVE,
    VMStatus.DELETING: VMStatus.DELETED,
}
"""B4: each transitional state and the state it settles into when it succeeds."""

TRANSITIONAL_VM_STATUSES: Final[frozenset[VMStatus]] = frozenset(VM_TRANSITION_TARGETS)
"""States that change by themselves once the action in progress ends (or fails to ERROR)."""

ACTIONABLE_VM_STATUSES: Final[frozenset[VMStatus]] = frozenset(
    {VMStatus.ACTIVE, VMStatus.SHUTOFF, VMStatus.HIBERNATED}
)
"""States from which a recipe may safely start an action. Anything else is left alone."""


class SnapshotStatus(OpenEnum):
    """Snapshot status (B5). ``available`` is the legacy spelling of ``SUCCESS``."""

    CREATING = "CREATING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    AVAILABLE = "available"

    @property
    def is_ready(self) -> bool:
        """True when the snapshot can be restored or turned into an image."""
        return self in READY_SNAPSHOT_STATUSES


READY_SNAPSHOT_STATUSES: Final[frozenset[SnapshotStatus]] = frozenset(
    {SnapshotStatus.SUCCESS, SnapshotStatus.AVAILABLE}
)
"""Snapshot states that mean "ready" (older API versions answer ``available``)."""


class ImageStatus(OpenEnum):
    """Custom image status (the project's choice; the docs do not list them)."""

    CREATING = "CREATING"
    ACTIVE = "ACTIVE"
    ERROR = "ERROR"
    DELETING = "DELETING"


class VolumeStatus(OpenEnum):
    """Volume status (the project's choice; the docs do not list them)."""

    CREATING = "CREATING"
    AVAILABLE = "AVAILABLE"
    IN_USE = "IN_USE"
    RESIZING = "RESIZING"
    DELETING = "DELETING"
    ERROR = "ERROR"


class TierEnum(OpenEnum):
    """Service tier (Part C): prices, volume types and GPU models differ by tier."""

    LEGACY = "legacy"
    ADVANCED = "advanced"


class DirectionEnum(OpenEnum):
    """Direction of a firewall or security rule."""

    INGRESS = "ingress"
    EGRESS = "egress"


class EthertypeEnum(OpenEnum):
    """IP version a firewall or security rule applies to."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"


class ProtocolEnum(OpenEnum):
    """Protocol of a firewall or security rule; only TCP and UDP carry ports."""

    TCP = "TCP"
    UDP = "UDP"
    ICMP = "ICMP"


class ResourceTypeEnum(OpenEnum):
    """What a price or a bill is for (Part C's ``resource_type``)."""

    GPUS = "gpus"
    VOLUMES = "volumes"
    SNAPSHOTS = "snapshots"


class VolumeTypeEnum(OpenEnum):
    """Volume storage type (Part C): ``SSD`` in the legacy tier, ``HDD`` and ``NVMe`` in
    the advanced tier."""

    SSD = "SSD"
    HDD = "HDD"
    NVME = "NVMe"


class BootSource(OpenEnum):
    """What an instance booted from; a restored instance reads ``snapshot``."""

    OS_IMAGE = "os_image"
    VOLUME = "volume"
    CUSTOM_IMAGE = "custom_image"
    SNAPSHOT = "snapshot"
