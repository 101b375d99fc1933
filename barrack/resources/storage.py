"""Volumes, custom images and SSH keys."""

from __future__ import annotations

import builtins

from barrack.models import (
    CloneVolumeRequest,
    CloneVolumeResponse,
    CreatedSSHKey,
    CreateImageFromSnapshotRequest,
    CreateSSHKeyRequest,
    CreateSSHKeyResponse,
    CreateVolumeRequest,
    CreateVolumeResponse,
    DeleteSSHKeyResponse,
    DeleteVolumeResponse,
    GetSSHKeysResponse,
    GetVolumeDetailsResponse,
    GetVolumesWithNextNameResponse,
    GetVolumeTypesResponse,
    Image,
    ImageCreateResponse,
    ImageDeleteResponse,
    ImageDetailResponse,
    ImageListResponse,
    ResizeVolumeRequest,
    ResizeVolumeResponse,
    SSHKey,
    SSHKeyResponse,
    VolumeBilling,
    VolumeHourlyBillingResponse,
    VolumeResponse,
    VolumesWithNextName,
    VolumeType,
)
from barrack.resources._base import AsyncResource

__all__ = ["AsyncImages", "AsyncSSHKeys", "AsyncVolumes"]


class AsyncVolumes(AsyncResource):
    """Block volumes (``client.volumes``): region-bound, attached to ACTIVE instances."""

    async def list(self, *, region: str | None = None) -> VolumesWithNextName:
        """The volumes, and the name the console would suggest for the next one."""
        envelope = await self._client.request(
            "volumes.list", GetVolumesWithNextNameResponse, query={"region": region}
        )
        return envelope.payload

    async def create(
        self,
        *,
        name: str,
        region: str,
        size_gb: int,
        volume_type: str = "SSD",
        bootable: bool = False,
        image_id: str | None = None,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> VolumeResponse:
        """Create a volume of 100-1000 GB; a bootable one gets the OS image ``image_id``."""
        body = self._client.build(
            CreateVolumeRequest,
            "volumes.create",
            name=name,
            region=region,
            size_gb=size_gb,
            volume_type=volume_type,
            bootable=bootable,
            image_id=image_id,
            description=description,
        )
        envelope = await self._client.request(
            "volumes.create", CreateVolumeResponse, body=body, idempotency_key=idempotency_key
        )
        return envelope.payload

    async def get(self, volume_id: str) -> VolumeResponse:
        """One volume's details."""
        envelope = await self._client.request(
            "volumes.get", GetVolumeDetailsResponse, path_params={"volume_id": volume_id}
        )
        return envelope.payload

    async def delete(self, volume_id: str) -> None:
        """Delete a detached volume."""
        await self._client.request(
            "volumes.delete", DeleteVolumeResponse, path_params={"volume_id": volume_id}
        )

    async def resize(self, volume_id: str, *, size_gb: int) -> VolumeResponse:
        """Grow a volume (up to 1000 GB)."""
        body = self._client.build(ResizeVolumeRequest, "volumes.resize", size_gb=size_gb)
        envelope = await self._client.request(
            "volumes.resize",
            ResizeVolumeResponse,
            path_params={"volume_id": volume_id},
            body=body,
        )
        return envelope.payload

    async def clone(self, volume_id: str, *, name: str) -> VolumeResponse:
        """Copy a volume under a new name, in the same region."""
        body = self._client.build(CloneVolumeRequest, "volumes.clone", name=name)
        envelope = await self._client.request(
            "volumes.clone", CloneVolumeResponse, path_params={"volume_id": volume_id}, body=body
        )
        return envelope.payload

    async def types(self) -> builtins.list[VolumeType]:
        """The volume types, with their size limits and prices."""
        return (await self._client.request("volumes.types", GetVolumeTypesResponse)).payload

    async def billing(self, volume_id: str) -> VolumeBilling:
        """What the volume has cost, hour by hour."""
        envelope = await self._client.request(
            "volumes.billing", VolumeHourlyBillingResponse, path_params={"volume_id": volume_id}
        )
        return envelope.payload


class AsyncImages(AsyncResource):
    """Custom images built from snapshots (``client.images``)."""

    async def list(self) -> builtins.list[Image]:
        """Every custom image."""
        return (await self._client.request("images.list", ImageListResponse)).payload

    async def get(self, image_id: str) -> Image:
        """One custom image's details."""
        envelope = await self._client.request(
            "images.get", ImageDetailResponse, path_params={"image_id": image_id}
        )
        return envelope.payload

    async def create(self, *, snapshot_id: str, name: str, description: str | None = None) -> Image:
        """Build a custom image from a ``SUCCESS`` snapshot (the snapshot is then protected)."""
        body = self._client.build(
            CreateImageFromSnapshotRequest,
            "images.create",
            snapshot_id=snapshot_id,
            name=name,
            description=description,
        )
        return (await self._client.request("images.create", ImageCreateResponse, body=body)).payload

    async def delete(self, image_id: str) -> None:
        """Delete a custom image (its snapshot becomes deletable again)."""
        await self._client.request(
            "images.delete", ImageDeleteResponse, path_params={"image_id": image_id}
        )


class AsyncSSHKeys(AsyncResource):
    """Account-wide SSH keys (``client.ssh_keys``)."""

    async def list(self) -> builtins.list[SSHKey]:
        """Every SSH key."""
        return (await self._client.request("ssh_keys.list", GetSSHKeysResponse)).payload

    async def get(self, key_id: str) -> SSHKey:
        """One SSH key."""
        envelope = await self._client.request(
            "ssh_keys.get", SSHKeyResponse, path_params={"key_id": key_id}
        )
        return envelope.payload

    async def create(self, *, name: str, public_key: str | None = None) -> CreatedSSHKey:
        """Register a public key, or (without one) generate a pair.

        A generated pair's private key is returned once, as a secret
        (``key.private_key.get_secret_value()``); store it at once.
        """
        body = self._client.build(
            CreateSSHKeyRequest, "ssh_keys.create", name=name, public_key=public_key
        )
        return (
            await self._client.request("ssh_keys.create", CreateSSHKeyResponse, body=body)
        ).payload

    async def delete(self, key_id: str) -> None:
        """Delete an SSH key."""
        await self._client.request(
            "ssh_keys.delete", DeleteSSHKeyResponse, path_params={"key_id": key_id}
        )
