"""GPU instances: the instance object, deployment, and the action responses."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from barrack.models._base import (
    BarrackModel,
    Envelope,
    FlatResponse,
    Money,
    RequestModel,
    UTCDateTime,
)
from barrack.models._types import InstanceName, ResourceId
from barrack.models.common import SecurityRuleRequestBase
from barrack.models.enums import (
    BootSource,
    CurrencyEnum,
    DirectionEnum,
    EthertypeEnum,
    GpuCountEnum,
    GpuModelEnum,
    ProtocolEnum,
    RegionEnum,
    TierEnum,
    VMStatus,
)

__all__ = [
    "AddVMSecurityRuleResponse",
    "DeleteVMResponse",
    "DeploymentRequest",
    "DeploymentResponse",
    "HibernateVMResponse",
    "InstanceActionResponse",
    "ListUserVMsResponse",
    "ListVMsResponse",
    "RebootVMResponse",
    "RemoveVMSecurityRuleResponse",
    "RestoreVMResponse",
    "StartVMResponse",
    "StopVMResponse",
    "ToggleVMPublicIPResponse",
    "UserVM",
    "VMDetailsResponse",
    "VMFlavor",
    "VMImage",
    "VMInstance",
    "VMResponse",
    "VMSecurityRule",
    "VMSecurityRuleRequest",
    "VMVolumeAttachment",
]


class VMFlavor(BarrackModel):
    """The hardware of an instance (B3a).

    Attributes:
        name: flavor name (``"2x-H100-SXM5-80GB"``).
        gpu_model: which GPU.
        gpu_count: how many GPUs.
        vcpus: virtual CPUs.
        ram_gb: host RAM.
        disk_gb: boot disk size.
    """

    name: str
    gpu_model: GpuModelEnum
    gpu_count: GpuCountEnum
    vcpus: int
    ram_gb: int
    disk_gb: int


class VMImage(BarrackModel):
    """The image an instance booted from.

    Attributes:
        id: OS image or custom image id.
        name: display name.
        source: what kind of image it is.
    """

    id: str
    name: str | None = None
    source: BootSource | None = None


class VMVolumeAttachment(BarrackModel):
    """A volume attached to an instance.

    Attributes:
        volume_id: the volume.
        name: the volume's name.
        size_gb: its size.
        bootable: True for the boot volume (it cannot be detached while running).
        device: where the guest sees it (``/dev/vdb``).
        attached_at: when it was attached.
    """

    volume_id: str
    name: str | None = None
    size_gb: int | None = None
    bootable: bool = False
    device: str | None = None
    attached_at: UTCDateTime | None = None


class VMSecurityRule(BarrackModel):
    """A security rule on one instance (a firewall rule that belongs to the instance).

    Attributes:
        id: rule id, for removal.
        direction: ingress or egress.
        protocol: TCP, UDP or ICMP.
        ethertype: IPv4 or IPv6.
        port_range_min: first port, or None for all ports.
        port_range_max: last port, or None for all ports.
        remote_cidr: peer network, or None for anywhere.
        description: what it is for.
    """

    id: str
    direction: DirectionEnum
    protocol: ProtocolEnum
    ethertype: EthertypeEnum = EthertypeEnum.IPV4
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_cidr: str | None = None
    description: str | None = None


class VMSecurityRuleRequest(SecurityRuleRequestBase):
    """Add a security rule to an instance (also used inline in a ``DeploymentRequest``)."""


class VMInstance(BarrackModel):
    """A GPU instance (B3a).

    Attributes:
        id: instance id, ``BRK-`` plus 7 characters.
        name: unique among the account's instances.
        status: life-cycle state (B4); unknown states are not safe to act on.
        region: where it runs.
        flavor: its hardware.
        image: what it booted from, when that was an image.
        boot_source: ``os_image``, ``volume``, ``custom_image`` or ``snapshot``.
        ip_address: public IP; None until assigned or when the public IP is disabled.
        private_ip: private IP, once assigned.
        public_ip_enabled: whether a public IP is wanted.
        ssh_key_ids: SSH keys installed at creation.
        volumes: attached volumes.
        security_rules: the instance's own security rules.
        hourly_price: what it costs per hour in its current state.
        currency: the account currency.
        tier: the service tier its GPU model is offered in (``legacy``, ``advanced``).
        startup_script_id: the startup script run at first boot, if any.
        snapshot_id: the snapshot it was restored from, if any.
        created_at: creation time.
        updated_at: last change.
    """

    id: str
    name: str
    status: VMStatus
    region: RegionEnum
    flavor: VMFlavor
    image: VMImage | None = None
    boot_source: BootSource | None = None
    ip_address: str | None = None
    private_ip: str | None = None
    public_ip_enabled: bool = True
    ssh_key_ids: list[str] = Field(default_factory=list)
    volumes: list[VMVolumeAttachment] = Field(default_factory=list)
    security_rules: list[VMSecurityRule] = Field(default_factory=list)
    tier: TierEnum | None = None
    hourly_price: Money | None = None
    currency: CurrencyEnum | None = None
    startup_script_id: str | None = None
    snapshot_id: str | None = None
    created_at: UTCDateTime
    updated_at: UTCDateTime | None = None

    def restored_from(self, snapshot_id: str) -> bool:
        """True when this instance was restored from the snapshot ``snapshot_id``.

        ``snapshot_id`` says so when the API gives it; otherwise an instance that booted
        from a snapshot names it as its image.
        """
        if self.snapshot_id is not None:
            return self.snapshot_id == snapshot_id
        return (
            self.boot_source == BootSource.SNAPSHOT
            and self.image is not None
            and self.image.id == snapshot_id
        )


class DeploymentRequest(RequestModel):
    """Deploy a new instance (``POST /instances``, B3a).

    Exactly one boot source is given: ``image_id`` (an OS image), ``volume_id`` (a bootable
    volume) or ``custom_image_id``.
    """

    name: InstanceName = Field(
        description="Instance name: 2-30 letters, digits, '_', '.', '-'; unique.",
    )
    region: RegionEnum = Field(description="Region to deploy in.")
    gpu_model: GpuModelEnum = Field(description="GPU model, e.g. H100-SXM5-80GB.")
    gpu_count: GpuCountEnum = Field(default=GpuCountEnum.ONE, description="GPUs per instance.")
    image_id: ResourceId | None = Field(default=None, description="OS image to boot from.")
    volume_id: ResourceId | None = Field(default=None, description="Bootable volume to boot from.")
    custom_image_id: ResourceId | None = Field(
        default=None, description="Custom image (made from a snapshot) to boot from."
    )
    ssh_key_ids: list[ResourceId] = Field(
        min_length=1, description="SSH keys to install; at least one."
    )
    public_ip: bool = Field(default=True, description="Assign a public IP address.")
    startup_script_id: ResourceId | None = Field(
        default=None, description="Startup script to run at first boot."
    )
    security_rules: list[VMSecurityRuleRequest] = Field(
        default_factory=list, description="Security rules to create with the instance."
    )

    @model_validator(mode="after")
    def _one_boot_source(self) -> Self:
        given = [
            name
            for name in ("image_id", "volume_id", "custom_image_id")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of image_id, volume_id, custom_image_id "
                f"(got {', '.join(given) or 'none'})"
            )
        return self


class UserVM(BarrackModel):
    """An instance in short form (the snapshot-eligible list).

    Attributes:
        id: instance id.
        name: instance name.
        status: life-cycle state; only ``ACTIVE`` can be snapshotted.
        region: where it runs.
        flavor: its hardware.
        disk_gb: boot disk size (what a snapshot would store at most).
        created_at: creation time.
    """

    id: str
    name: str
    status: VMStatus
    region: RegionEnum | None = None
    flavor: VMFlavor | None = None
    disk_gb: int | None = None
    created_at: UTCDateTime | None = None


class VMResponse(Envelope[VMInstance]):
    """One instance under ``instance``; the base of every single-instance answer."""

    wire_payload_key: ClassVar[str] = "instance"


class DeploymentResponse(VMResponse):
    """``POST /instances`` (201): the new instance, in ``CREATING``."""


class VMDetailsResponse(VMResponse):
    """``GET /instances/{id}``."""


class InstanceActionResponse(FlatResponse):
    """What an instance action answers, flat (B1, in the style of Part C's C3).

    Attributes:
        instance_id: the instance acted on.
        status: its new, usually transitional, status (``STARTING``, ``HIBERNATING``...).
        tier: the instance's tier, echoed.
    """

    instance_id: str
    status: VMStatus | None = None
    tier: TierEnum | None = None


class StartVMResponse(InstanceActionResponse):
    """``POST /instances/{id}/start/`` (202): ``status`` is ``STARTING``."""


class StopVMResponse(InstanceActionResponse):
    """``POST /instances/{id}/stop/`` (202): ``status`` is ``STOPPING``."""


class RebootVMResponse(InstanceActionResponse):
    """``POST /instances/{id}/reboot/`` (202): ``status`` is ``REBOOTING``."""


class HibernateVMResponse(InstanceActionResponse):
    """``POST /instances/{id}/hibernate/`` (202): ``status`` is ``HIBERNATING``."""


class RestoreVMResponse(InstanceActionResponse):
    """``POST /instances/{id}/hibernate-restore/`` (202): ``status`` is ``RESTORING``."""


class DeleteVMResponse(InstanceActionResponse):
    """``DELETE /instances/{id}/``: ``status`` is ``DELETING``."""


class ToggleVMPublicIPResponse(InstanceActionResponse):
    """``POST /instances/{id}/public-ip/`` with ``{"enabled": bool}``.

    Attributes:
        public_ip_enabled: whether the instance now has a public IP (guessed field).
    """

    public_ip_enabled: bool | None = None


class ListVMsResponse(Envelope[list[VMInstance]]):
    """``GET /instances`` (paginated)."""


class ListUserVMsResponse(Envelope[list[UserVM]]):
    """``GET /snapshots/eligible-instances``."""


class AddVMSecurityRuleResponse(FlatResponse):
    """``POST /instances/{id}/security-rules/`` (201), flat like its twin below.

    Attributes:
        instance_id: the instance.
        rule_id: the new rule's id.
        tier: the instance's tier, echoed.
    """

    instance_id: str
    rule_id: str
    tier: TierEnum | None = None


class RemoveVMSecurityRuleResponse(FlatResponse):
    """``DELETE /instances/{id}/security-rules/{rule_id}/``: Part C's C3, verbatim.

    Attributes:
        instance_id: the instance.
        rule_id: the removed rule.
        tier: the instance's tier, echoed.
    """

    instance_id: str
    rule_id: str
    tier: TierEnum | None = None
