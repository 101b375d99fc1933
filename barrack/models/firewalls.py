"""Firewalls: named rule sets attached to instances of one region (at most 25 an account)."""

from __future__ import annotations

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, FlatResponse, RequestModel, UTCDateTime
from barrack.models._types import Description, FirewallName, ResourceId
from barrack.models.common import SecurityRuleRequestBase
from barrack.models.enums import (
    DirectionEnum,
    EthertypeEnum,
    ProtocolEnum,
    RegionEnum,
    VMStatus,
)

__all__ = [
    "AddFirewallRuleRequest",
    "AddFirewallRuleResponse",
    "AttachFirewallRequest",
    "AttachFirewallResponse",
    "AttachedFirewall",
    "CreateFirewallRequest",
    "CreateFirewallResponse",
    "DeleteFirewallResponse",
    "FirewallAttachment",
    "FirewallEnvironment",
    "FirewallResponse",
    "FirewallRule",
    "FirewallVM",
    "FirewallVMListResponse",
    "GetFirewallDetailsResponse",
    "GetSupportedProtocolsResponse",
    "GetVMAttachedFirewallsResponse",
    "ListFirewallsResponse",
    "Protocol",
    "RemoveFirewallRuleResponse",
]


class FirewallRule(BarrackModel):
    """One rule of a firewall.

    Attributes:
        id: rule id, for removal.
        direction: ingress or egress.
        protocol: TCP, UDP or ICMP.
        ethertype: IPv4 or IPv6.
        port_range_min: first port, or None for all ports (and for ICMP).
        port_range_max: last port, or None for all ports.
        remote_cidr: peer network, or None for anywhere.
        description: what it is for.
        created_at: creation time.
    """

    id: str
    direction: DirectionEnum
    protocol: ProtocolEnum
    ethertype: EthertypeEnum = EthertypeEnum.IPV4
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_cidr: str | None = None
    description: str | None = None
    created_at: UTCDateTime | None = None


class FirewallAttachment(BarrackModel):
    """A firewall attached to an instance.

    Attributes:
        firewall_id: the firewall.
        instance_id: the instance.
        instance_name: its name.
        attached_at: when it was attached.
    """

    firewall_id: str
    instance_id: str
    instance_name: str | None = None
    attached_at: UTCDateTime | None = None


class FirewallEnvironment(BarrackModel):
    """Where a firewall lives: its region and network.

    Attributes:
        region: the firewall's one region.
        network_id: the private network its rules apply in.
        name: display name of that environment.
    """

    region: RegionEnum
    network_id: str | None = None
    name: str | None = None


class FirewallResponse(BarrackModel):
    """A firewall (the object; the A2 name reads like an envelope but is the firewall itself).

    Attributes:
        id: firewall id.
        name: unique name.
        description: free text.
        region: its one region.
        environment: its region and network.
        rules: its rules.
        attachments: the instances it is attached to.
        created_at: creation time.
        updated_at: last change.
    """

    id: str
    name: str
    description: str | None = None
    region: RegionEnum
    environment: FirewallEnvironment | None = None
    rules: list[FirewallRule] = Field(default_factory=list)
    attachments: list[FirewallAttachment] = Field(default_factory=list)
    created_at: UTCDateTime
    updated_at: UTCDateTime | None = None


class AttachedFirewall(BarrackModel):
    """A firewall as seen from an instance it is attached to.

    Attributes:
        id: firewall id.
        name: its name.
        description: free text.
        region: its region.
        rules: its rules.
        attached_at: when it was attached to this instance.
    """

    id: str
    name: str
    description: str | None = None
    region: RegionEnum | None = None
    rules: list[FirewallRule] = Field(default_factory=list)
    attached_at: UTCDateTime | None = None


class FirewallVM(BarrackModel):
    """An instance a firewall could be attached to (``ACTIVE``, same region).

    Attributes:
        id: instance id.
        name: instance name.
        status: its status.
        region: its region.
        ip_address: its public IP, if any.
    """

    id: str
    name: str
    status: VMStatus
    region: RegionEnum | None = None
    ip_address: str | None = None


class Protocol(BarrackModel):
    """A protocol rules may use.

    Attributes:
        name: ``TCP``, ``UDP`` or ``ICMP``.
        supports_ports: whether rules with this protocol take a port range.
        description: free text.
    """

    name: ProtocolEnum
    supports_ports: bool = False
    description: str | None = None


class AddFirewallRuleRequest(SecurityRuleRequestBase):
    """Add a rule to a firewall (``POST /firewalls/{id}/rules``; also inline at creation)."""


class CreateFirewallRequest(RequestModel):
    """Create a firewall (``POST /firewalls``)."""

    name: FirewallName = Field(
        description="Firewall name: 1-50 letters, digits, spaces, '_', '.', '-'; unique."
    )
    region: RegionEnum = Field(description="Its one region; it attaches only to instances there.")
    description: Description | None = Field(default=None, description="Free text, 255 at most.")
    rules: list[AddFirewallRuleRequest] = Field(
        default_factory=list, description="Rules to create with the firewall."
    )


class AttachFirewallRequest(RequestModel):
    """Attach a firewall to ``ACTIVE`` instances of its region."""

    instance_ids: list[ResourceId] = Field(min_length=1, description="Instances to attach to.")


class ListFirewallsResponse(Envelope[list[FirewallResponse]]):
    """``GET /firewalls``."""


class GetFirewallDetailsResponse(Envelope[FirewallResponse]):
    """``GET /firewalls/{id}``."""


class CreateFirewallResponse(Envelope[FirewallResponse]):
    """``POST /firewalls`` (201): the new firewall."""


class DeleteFirewallResponse(FlatResponse):
    """``DELETE /firewalls/{id}/``, flat: the deleted firewall's id."""

    firewall_id: str


class AddFirewallRuleResponse(Envelope[FirewallRule]):
    """``POST /firewalls/{id}/rules`` (201): the new rule."""


class RemoveFirewallRuleResponse(FlatResponse):
    """``DELETE /firewalls/{id}/rules/{rule_id}/``, flat: the firewall and the removed rule."""

    firewall_id: str
    rule_id: str


class AttachFirewallResponse(Envelope[list[FirewallAttachment]]):
    """``POST /firewalls/{id}/attach``: one attachment per instance."""


class GetSupportedProtocolsResponse(Envelope[list[Protocol]]):
    """``GET /firewalls/protocols``."""


class FirewallVMListResponse(Envelope[list[FirewallVM]]):
    """``GET /firewalls/{id}/available-instances``."""


class GetVMAttachedFirewallsResponse(Envelope[list[AttachedFirewall]]):
    """``GET /instances/{id}/firewalls``."""
