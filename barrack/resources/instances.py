"""GPU instances: deploy, inspect, act on, delete."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from barrack._pagination import AsyncPaginator
from barrack.models import (
    AddVMSecurityRuleResponse,
    AggregatedBillingResponse,
    AttachedFirewall,
    AttachVolumesRequest,
    AttachVolumesResponse,
    Billing,
    DeleteVMResponse,
    DeploymentRequest,
    DeploymentResponse,
    DetachVolumesRequest,
    DetachVolumesResponse,
    GetHibernatedVMsResponse,
    GetVMAttachedFirewallsResponse,
    HibernatedVMs,
    HibernateVMResponse,
    InstanceActionResponse,
    ListVMsResponse,
    RebootVMResponse,
    RemoveVMSecurityRuleResponse,
    RestoreVMResponse,
    StartVMResponse,
    StopVMResponse,
    ToggleVMPublicIPResponse,
    VMDetailsResponse,
    VMInstance,
    VMSecurityRuleRequest,
    VolumeResponse,
)
from barrack.models._base import Envelope
from barrack.resources._base import AsyncResource, timestamp_param

__all__ = ["AsyncInstances"]

A = TypeVar("A", bound=InstanceActionResponse)


class AsyncInstances(AsyncResource):
    """GPU instances (``client.instances``).

    Actions (start, stop, reboot, hibernate, restore_hibernated, delete) answer flat at
    once: ``instance_id``, the transitional ``status`` and the ``tier``; poll :meth:`get`
    until the instance settles (B4).
    """

    async def create(
        self,
        *,
        name: str,
        region: str,
        gpu_model: str,
        ssh_key_ids: Sequence[str],
        gpu_count: int = 1,
        image_id: str | None = None,
        volume_id: str | None = None,
        custom_image_id: str | None = None,
        public_ip: bool = True,
        startup_script_id: str | None = None,
        security_rules: Sequence[VMSecurityRuleRequest | dict[str, Any]] = (),
        idempotency_key: str | None = None,
    ) -> VMInstance:
        """Deploy a new instance; it starts in ``CREATING`` and billing starts when ACTIVE.

        Exactly one of ``image_id``, ``volume_id`` and ``custom_image_id`` is required,
        and at least one SSH key.

        Example:
            >>> vm = await client.instances.create(  # doctest: +SKIP
            ...     name="trainer-1", region="CANADA-1", gpu_model="H100-SXM5-80GB",
            ...     image_id="img-ubuntu-2204", ssh_key_ids=["key-1"])
        """
        body = self._client.build(
            DeploymentRequest,
            "instances.create",
            name=name,
            region=region,
            gpu_model=gpu_model,
            gpu_count=gpu_count,
            image_id=image_id,
            volume_id=volume_id,
            custom_image_id=custom_image_id,
            ssh_key_ids=list(ssh_key_ids),
            public_ip=public_ip,
            startup_script_id=startup_script_id,
            security_rules=list(security_rules),
        )
        envelope = await self._client.request(
            "instances.create", DeploymentResponse, body=body, idempotency_key=idempotency_key
        )
        return envelope.payload

    def list(
        self,
        *,
        status: str | None = None,
        region: str | None = None,
        per_page: int = 50,
    ) -> AsyncPaginator[VMInstance]:
        """Every instance (lazily, page by page), optionally filtered by status and region.

        Example:
            >>> async for vm in client.instances.list(status="ACTIVE"):  # doctest: +SKIP
            ...     print(vm.id, vm.name)
        """
        return self._paginate(
            "instances.list",
            ListVMsResponse,
            query={"status": status, "region": region},
            per_page=per_page,
        )

    async def get(self, instance_id: str) -> VMInstance:
        """One instance's details."""
        return await self._instance("instances.get", VMDetailsResponse, instance_id)

    async def billing(
        self,
        instance_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Billing:
        """What the instance was charged, per status interval, between ``start`` and ``end``."""
        envelope = await self._client.request(
            "instances.billing",
            AggregatedBillingResponse,
            path_params={"instance_id": instance_id},
            query={"start": timestamp_param(start), "end": timestamp_param(end)},
        )
        return envelope.payload

    async def start(self, instance_id: str) -> StartVMResponse:
        """Start a ``SHUTOFF`` instance (the answer's ``status`` is ``STARTING``)."""
        return await self._act("instances.start", StartVMResponse, instance_id)

    async def stop(self, instance_id: str) -> StopVMResponse:
        """Stop an ``ACTIVE`` instance (a stopped instance still pays the full rate)."""
        return await self._act("instances.stop", StopVMResponse, instance_id)

    async def reboot(self, instance_id: str) -> RebootVMResponse:
        """Reboot an ``ACTIVE`` instance."""
        return await self._act("instances.reboot", RebootVMResponse, instance_id)

    async def hibernate(self, instance_id: str) -> HibernateVMResponse:
        """Hibernate an ``ACTIVE`` instance: it then pays only the hibernation rate."""
        return await self._act("instances.hibernate", HibernateVMResponse, instance_id)

    async def restore_hibernated(self, instance_id: str) -> RestoreVMResponse:
        """Bring a ``HIBERNATED`` instance back (the answer's ``status`` is ``RESTORING``)."""
        return await self._act("instances.restore_hibernated", RestoreVMResponse, instance_id)

    async def set_public_ip(self, instance_id: str, *, enabled: bool) -> ToggleVMPublicIPResponse:
        """Turn the instance's public IP on or off."""
        return await self._client.request(
            "instances.toggle_public_ip",
            ToggleVMPublicIPResponse,
            path_params={"instance_id": instance_id},
            body={"enabled": bool(enabled)},
        )

    async def add_security_rule(
        self,
        instance_id: str,
        *,
        direction: str,
        protocol: str,
        ethertype: str = "IPv4",
        port_range_min: int | None = None,
        port_range_max: int | None = None,
        remote_cidr: str | None = None,
        description: str | None = None,
    ) -> AddVMSecurityRuleResponse:
        """Add a security rule to the instance (ports for TCP and UDP only).

        The answer is flat: ``instance_id``, the new ``rule_id`` and the ``tier``.
        """
        body = self._client.build(
            VMSecurityRuleRequest,
            "instances.add_security_rule",
            direction=direction,
            protocol=protocol,
            ethertype=ethertype,
            port_range_min=port_range_min,
            port_range_max=port_range_max,
            remote_cidr=remote_cidr,
            description=description,
        )
        return await self._client.request(
            "instances.add_security_rule",
            AddVMSecurityRuleResponse,
            path_params={"instance_id": instance_id},
            body=body,
        )

    async def remove_security_rule(
        self, instance_id: str, rule_id: str
    ) -> RemoveVMSecurityRuleResponse:
        """Remove one of the instance's security rules."""
        return await self._client.request(
            "instances.remove_security_rule",
            RemoveVMSecurityRuleResponse,
            path_params={"instance_id": instance_id, "rule_id": rule_id},
        )

    async def delete(self, instance_id: str) -> DeleteVMResponse:
        """Delete the instance and its boot disk (the answer's ``status`` is ``DELETING``)."""
        return await self._act("instances.delete", DeleteVMResponse, instance_id)

    async def list_hibernated(self) -> HibernatedVMs:
        """The hibernated instances, with what hibernation is saving."""
        return (
            await self._client.request("instances.list_hibernated", GetHibernatedVMsResponse)
        ).payload

    async def firewalls(self, instance_id: str) -> builtins.list[AttachedFirewall]:
        """The firewalls attached to the instance."""
        envelope = await self._client.request(
            "instances.firewalls",
            GetVMAttachedFirewallsResponse,
            path_params={"instance_id": instance_id},
        )
        return envelope.payload

    async def attach_volumes(
        self, instance_id: str, volume_ids: Sequence[str]
    ) -> builtins.list[VolumeResponse]:
        """Attach volumes of the same region to an ``ACTIVE`` instance."""
        body = self._client.build(
            AttachVolumesRequest, "instances.attach_volumes", volume_ids=list(volume_ids)
        )
        envelope = await self._client.request(
            "instances.attach_volumes",
            AttachVolumesResponse,
            path_params={"instance_id": instance_id},
            body=body,
        )
        return envelope.payload

    async def detach_volumes(
        self, instance_id: str, volume_ids: Sequence[str]
    ) -> builtins.list[VolumeResponse]:
        """Detach volumes from an ``ACTIVE`` instance (never its running boot volume)."""
        body = self._client.build(
            DetachVolumesRequest, "instances.detach_volumes", volume_ids=list(volume_ids)
        )
        envelope = await self._client.request(
            "instances.detach_volumes",
            DetachVolumesResponse,
            path_params={"instance_id": instance_id},
            body=body,
        )
        return envelope.payload

    async def _instance(
        self, operation: str, response_model: type[Envelope[VMInstance]], instance_id: str
    ) -> VMInstance:
        envelope = await self._client.request(
            operation, response_model, path_params={"instance_id": instance_id}
        )
        return envelope.payload

    async def _act(self, operation: str, response_model: type[A], instance_id: str) -> A:
        return await self._client.request(
            operation, response_model, path_params={"instance_id": instance_id}
        )
