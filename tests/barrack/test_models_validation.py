"""Request models refuse bad input before any HTTP call, naming the field at fault."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest
from pydantic import ValidationError

from barrack.models import (
    AddFirewallRuleRequest,
    AttachFirewallRequest,
    AttachVolumesRequest,
    ChatCompletionsRequest,
    CreateFirewallRequest,
    CreateImageFromSnapshotRequest,
    CreateScriptRequest,
    CreateSnapshotRequest,
    CreateSSHKeyRequest,
    CreateVolumeRequest,
    DeploymentRequest,
    GetBatchSnapshotImageRelationshipsRequest,
    PageParams,
    PricingRequest,
    RequestModel,
    ResizeVolumeRequest,
    RestoreSnapshotRequest,
    UpdateScriptRequest,
    VMSecurityRuleRequest,
)


def openssh_key(key_type: str, blob_type: str | None = None, comment: str = "me@host") -> str:
    """An OpenSSH public key line whose body starts with ``blob_type`` in SSH wire format."""
    name = (blob_type or key_type).encode()
    blob = struct.pack(">I", len(name)) + name + bytes(range(48))
    return f"{key_type} {base64.b64encode(blob).decode()} {comment}".rstrip()


ED25519 = openssh_key("ssh-ed25519")

VALID: dict[type[RequestModel], dict[str, Any]] = {
    DeploymentRequest: {
        "name": "trainer-01",
        "region": "NORWAY-1",
        "gpu_model": "H100-SXM5-80GB",
        "gpu_count": 2,
        "image_id": "os-ubuntu-22",
        "ssh_key_ids": ["key-1"],
    },
    CreateSnapshotRequest: {"instance_id": "BRK-A1B2C3D", "name": "nightly 2025-03-01"},
    RestoreSnapshotRequest: {"name": "restored.01"},
    CreateFirewallRequest: {"name": "web tier", "region": "US-1"},
    AddFirewallRuleRequest: {
        "direction": "ingress",
        "protocol": "TCP",
        "port_range_min": 22,
        "port_range_max": 22,
        "remote_cidr": "203.0.113.0/24",
    },
    VMSecurityRuleRequest: {"direction": "egress", "protocol": "ICMP"},
    CreateSSHKeyRequest: {"name": "laptop_key", "public_key": ED25519},
    CreateVolumeRequest: {"name": "data", "region": "CANADA-1", "size_gb": 100},
    ResizeVolumeRequest: {"size_gb": 500},
    AttachVolumesRequest: {"volume_ids": ["vol-1"]},
    AttachFirewallRequest: {"instance_ids": ["BRK-A1B2C3D"]},
    CreateImageFromSnapshotRequest: {"snapshot_id": "snap-1", "name": "golden"},
    GetBatchSnapshotImageRelationshipsRequest: {"snapshot_ids": ["snap-1", "snap-2"]},
    CreateScriptRequest: {"name": "setup", "content": "#!/bin/bash\necho hi\n"},
    UpdateScriptRequest: {"content": "#!/bin/bash\n"},
    ChatCompletionsRequest: {"model": "llama", "messages": [{"role": "user", "content": "hi"}]},
    PageParams: {"per_page": 100},
    # Part C's C1 body, verbatim (``"gpu_model": "string"`` included: GPU models are open).
    PricingRequest: {
        "tier": "legacy",
        "currency": "USD",
        "resource_type": "volumes",
        "volume_size_gb": 100,
        "volume_type": "SSD",
        "gpu_model": "string",
        "gpu_count": 1,
    },
}

# (model, changes to its valid payload, the field the error must name; None = valid)
CASES: list[tuple[type[RequestModel], dict[str, Any], str | None]] = [
    # Instance names: 2-30, [A-Za-z0-9][A-Za-z0-9_.-]{1,29}
    (DeploymentRequest, {"name": "ab"}, None),
    (DeploymentRequest, {"name": "a" * 30}, None),
    (DeploymentRequest, {"name": "9lives_v1.2-x"}, None),
    (DeploymentRequest, {"name": "a"}, "name"),
    (DeploymentRequest, {"name": "a" * 31}, "name"),
    (DeploymentRequest, {"name": "-leading"}, "name"),
    (DeploymentRequest, {"name": "_leading"}, "name"),
    (DeploymentRequest, {"name": "has space"}, "name"),
    (DeploymentRequest, {"name": "trailing\n"}, "name"),
    (DeploymentRequest, {"name": "ünïcode"}, "name"),
    (RestoreSnapshotRequest, {"name": "x"}, "name"),
    (RestoreSnapshotRequest, {"name": "bad/name"}, "name"),
    # Deployment: boot source, ssh keys, gpu count
    (DeploymentRequest, {"image_id": None, "volume_id": "vol-1"}, None),
    (DeploymentRequest, {"image_id": None, "custom_image_id": "img-1"}, None),
    (DeploymentRequest, {"image_id": None}, "image_id"),
    (DeploymentRequest, {"volume_id": "vol-1"}, "volume_id"),
    (DeploymentRequest, {"ssh_key_ids": []}, "ssh_key_ids"),
    (DeploymentRequest, {"ssh_key_ids": [""]}, "ssh_key_ids"),
    (DeploymentRequest, {"gpu_count": 0}, "gpu_count"),
    (DeploymentRequest, {"gpu_model": "B200"}, None),  # unknown models are the server's call
    (DeploymentRequest, {"security_rules": [{"direction": "ingress", "protocol": "UDP"}]}, None),
    (
        DeploymentRequest,
        {"security_rules": [{"direction": "ingress", "protocol": "ICMP", "port_range_min": 1}]},
        "port_range_min",
    ),
    # Snapshot names: 1-50 [A-Za-z0-9 _.-]; description <= 255
    (CreateSnapshotRequest, {"name": "n"}, None),
    (CreateSnapshotRequest, {"name": "s" * 50}, None),
    (CreateSnapshotRequest, {"name": ""}, "name"),
    (CreateSnapshotRequest, {"name": "s" * 51}, "name"),
    (CreateSnapshotRequest, {"name": "   "}, "name"),
    (CreateSnapshotRequest, {"name": "nightly:01"}, "name"),
    (CreateSnapshotRequest, {"description": "d" * 255}, None),
    (CreateSnapshotRequest, {"description": "d" * 256}, "description"),
    (CreateSnapshotRequest, {"instance_id": ""}, "instance_id"),
    # Firewall names: 1-50 [A-Za-z0-9 _.-]; description <= 255
    (CreateFirewallRequest, {"name": "f" * 50}, None),
    (CreateFirewallRequest, {"name": "f" * 51}, "name"),
    (CreateFirewallRequest, {"name": "web,tier"}, "name"),
    (CreateFirewallRequest, {"description": "d" * 256}, "description"),
    (CreateFirewallRequest, {"rules": [{"direction": "ingress", "protocol": "TCP"}]}, None),
    (
        CreateFirewallRequest,
        {"rules": [{"direction": "sideways", "protocol": "TCP"}]},
        "direction",
    ),
    # Rules: ports 1-65535, min <= max, TCP/UDP only, CIDR matching the ethertype
    (AddFirewallRuleRequest, {"port_range_min": 1, "port_range_max": 65535}, None),
    (AddFirewallRuleRequest, {"port_range_min": 0}, "port_range_min"),
    (AddFirewallRuleRequest, {"port_range_max": 65536}, "port_range_max"),
    (AddFirewallRuleRequest, {"port_range_min": 443, "port_range_max": 80}, "port_range_min"),
    (AddFirewallRuleRequest, {"port_range_max": None}, "port_range_max"),
    (AddFirewallRuleRequest, {"port_range_min": None, "port_range_max": None}, None),
    (AddFirewallRuleRequest, {"protocol": "UDP"}, None),
    (AddFirewallRuleRequest, {"protocol": "ICMP"}, "port_range_min"),
    (
        AddFirewallRuleRequest,
        {"protocol": "ICMP", "port_range_min": None, "port_range_max": None},
        None,
    ),
    (AddFirewallRuleRequest, {"remote_cidr": "0.0.0.0/0"}, None),
    (AddFirewallRuleRequest, {"remote_cidr": "198.51.100.7"}, None),
    (AddFirewallRuleRequest, {"remote_cidr": "::/0", "ethertype": "IPv6"}, None),
    (AddFirewallRuleRequest, {"remote_cidr": "::/0"}, "remote_cidr"),
    (AddFirewallRuleRequest, {"remote_cidr": "10.0.0.0/8", "ethertype": "IPv6"}, "remote_cidr"),
    (AddFirewallRuleRequest, {"remote_cidr": "10.0.0.1/8"}, "remote_cidr"),
    (AddFirewallRuleRequest, {"remote_cidr": "10.0.0.0/33"}, "remote_cidr"),
    (AddFirewallRuleRequest, {"remote_cidr": "anywhere"}, "remote_cidr"),
    (AddFirewallRuleRequest, {"protocol": "tcp"}, "protocol"),
    (AddFirewallRuleRequest, {"ethertype": "IPv5"}, "ethertype"),
    (CreateVolumeRequest, {"volume_type": "nvme"}, "volume_type"),
    (VMSecurityRuleRequest, {"port_range_min": 22, "port_range_max": 22}, "port_range_min"),
    (VMSecurityRuleRequest, {"protocol": "TCP", "description": "d" * 256}, "description"),
    # SSH keys: names 1-50 [A-Za-z0-9_.-]; OpenSSH one-line public keys
    (CreateSSHKeyRequest, {"public_key": None}, None),
    (CreateSSHKeyRequest, {"name": "k" * 50}, None),
    (CreateSSHKeyRequest, {"name": "k" * 51}, "name"),
    (CreateSSHKeyRequest, {"name": "my key"}, "name"),
    (CreateSSHKeyRequest, {"name": ""}, "name"),
    (CreateSSHKeyRequest, {"public_key": openssh_key("ssh-rsa")}, None),
    (CreateSSHKeyRequest, {"public_key": openssh_key("ssh-ed25519", comment="")}, None),
    (CreateSSHKeyRequest, {"public_key": openssh_key("ecdsa-sha2-nistp256")}, None),
    (CreateSSHKeyRequest, {"public_key": openssh_key("ecdsa-sha2-nistp384")}, None),
    (CreateSSHKeyRequest, {"public_key": openssh_key("ecdsa-sha2-nistp521")}, None),
    (CreateSSHKeyRequest, {"public_key": openssh_key("ssh-dss")}, "public_key"),
    (CreateSSHKeyRequest, {"public_key": "ssh-ed25519 not*base64"}, "public_key"),
    (CreateSSHKeyRequest, {"public_key": "ssh-ed25519"}, "public_key"),
    (CreateSSHKeyRequest, {"public_key": "ssh-ed25519 AAAA"}, "public_key"),
    (
        CreateSSHKeyRequest,
        {"public_key": openssh_key("ssh-ed25519", blob_type="ssh-rsa")},
        "public_key",
    ),
    (CreateSSHKeyRequest, {"public_key": ED25519 + "\n" + ED25519}, "public_key"),
    (
        CreateSSHKeyRequest,
        {"public_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn==\n"},
        "public_key",
    ),
    # Volumes: 100-1000 GB of type SSD, HDD or NVMe; a bootable one needs an OS image
    (CreateVolumeRequest, {"size_gb": 1000}, None),
    (CreateVolumeRequest, {"size_gb": 99}, "size_gb"),
    (CreateVolumeRequest, {"size_gb": 10}, "size_gb"),
    (CreateVolumeRequest, {"size_gb": 1001}, "size_gb"),
    (CreateVolumeRequest, {"volume_type": "HDD"}, None),
    (CreateVolumeRequest, {"volume_type": "NVMe"}, None),
    (CreateVolumeRequest, {"volume_type": "standard"}, "volume_type"),
    (CreateVolumeRequest, {"bootable": True, "size_gb": 100, "image_id": "os-1"}, None),
    (
        CreateVolumeRequest,
        {"bootable": True, "size_gb": 99, "image_id": "os-1"},
        "size_gb",
    ),
    (CreateVolumeRequest, {"bootable": True, "size_gb": 200}, "image_id"),
    (CreateVolumeRequest, {"image_id": "os-1"}, "image_id"),
    (CreateVolumeRequest, {"name": "v" * 51}, "name"),
    (ResizeVolumeRequest, {"size_gb": 1001}, "size_gb"),
    (ResizeVolumeRequest, {"size_gb": 99}, "size_gb"),
    (AttachVolumesRequest, {"volume_ids": []}, "volume_ids"),
    (AttachFirewallRequest, {"instance_ids": []}, "instance_ids"),
    # Images, scripts, AI, paging
    (CreateImageFromSnapshotRequest, {"name": "bad|name"}, "name"),
    (GetBatchSnapshotImageRelationshipsRequest, {"snapshot_ids": []}, "snapshot_ids"),
    (GetBatchSnapshotImageRelationshipsRequest, {"snapshot_ids": ["s"] * 101}, "snapshot_ids"),
    (CreateScriptRequest, {"content": ""}, "content"),
    (UpdateScriptRequest, {"content": None}, "content"),
    (UpdateScriptRequest, {"content": None, "name": "renamed"}, None),
    (ChatCompletionsRequest, {"messages": []}, "messages"),
    (ChatCompletionsRequest, {"temperature": 2.5}, "temperature"),
    (PricingRequest, {"volume_size_gb": 99}, "volume_size_gb"),
    (PricingRequest, {"volume_size_gb": None, "gpu_model": None}, None),
    (PageParams, {"per_page": 101}, "per_page"),
    (PageParams, {"per_page": 0}, "per_page"),
    (PageParams, {"page": 0}, "page"),
]


def _case_id(case: tuple[type[RequestModel], dict[str, Any], str | None]) -> str:
    model, changes, field = case
    return f"{model.__name__}-{'ok' if field is None else 'bad-' + field}-{sorted(changes)}"


def _error_names_field(error: ValidationError, field: str) -> bool:
    """True when some error's location or message names ``field``."""
    return any(field in map(str, e["loc"]) or field in e["msg"] for e in error.errors())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_request_validation(case: tuple[type[RequestModel], dict[str, Any], str | None]) -> None:
    model, changes, field = case
    payload = {**VALID[model], **changes}
    if field is None:
        model.model_validate(payload)
        return
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    assert _error_names_field(caught.value, field), caught.value.errors()


@pytest.mark.parametrize("model", list(VALID), ids=lambda m: m.__name__)
def test_valid_payloads_are_valid(model: type[RequestModel]) -> None:
    model.model_validate(VALID[model])


@pytest.mark.parametrize("model", list(VALID), ids=lambda m: m.__name__)
def test_requests_reject_unknown_fields(model: type[RequestModel]) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**VALID[model], "nmae": "typo"})
    assert _error_names_field(caught.value, "nmae")


def test_a_request_dumps_to_the_wire_shape() -> None:
    request = DeploymentRequest.model_validate(VALID[DeploymentRequest])
    body = request.model_dump(mode="json", exclude_none=True)
    assert body == {
        "name": "trainer-01",
        "region": "NORWAY-1",
        "gpu_model": "H100-SXM5-80GB",
        "gpu_count": 2,
        "image_id": "os-ubuntu-22",
        "ssh_key_ids": ["key-1"],
        "public_ip": True,
        "security_rules": [],
    }


def test_public_key_is_stored_without_surrounding_blanks() -> None:
    request = CreateSSHKeyRequest(name="k", public_key=f"  {ED25519}\n")
    assert request.public_key == ED25519


def test_request_fields_are_described_for_forms() -> None:
    # Prefect renders these models as UI forms; every field needs a description there.
    undocumented = [
        f"{model.__name__}.{name}"
        for model in VALID
        for name, info in model.model_fields.items()
        if not info.description
    ]
    assert undocumented == []
