"""The models carry the A2 names, resolve every route, and read the wire format faithfully."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import barrack.models as models
from barrack._wire import ROUTES
from barrack.models import (
    ACTIONABLE_VM_STATUSES,
    Balance,
    BarrackModel,
    CreatedSSHKey,
    Envelope,
    FlatResponse,
    GpuCountEnum,
    GpuModelEnum,
    ListVMsResponse,
    OpenEnum,
    RequestModel,
    Snapshot,
    SnapshotStatus,
    VMInstance,
    VMStatus,
)

# Section A2 of the API reference, verbatim (the models carry exactly these names).
A2_NAMES = sorted(
    [
        "AITransaction",
        "AddFirewallRuleRequest",
        "AddFirewallRuleResponse",
        "AddVMSecurityRuleResponse",
        "AggregatedBillingResponse",
        "AttachFirewallRequest",
        "AttachFirewallResponse",
        "AttachVolumesRequest",
        "AttachVolumesResponse",
        "AttachedFirewall",
        "Balance",
        "BatchSnapshotImageRelationshipResponse",
        "Billing",
        "BillingRecord",
        "BillingSummary",
        "ChatCompletionsRequest",
        "ChatCompletionsResponse",
        "CloneVolumeRequest",
        "CloneVolumeResponse",
        "CreateFirewallRequest",
        "CreateFirewallResponse",
        "CreateImageFromSnapshotRequest",
        "CreateSSHKeyRequest",
        "CreateSSHKeyResponse",
        "CreateScriptRequest",
        "CreateSnapshotRequest",
        "CreateSnapshotResponse",
        "CreateVolumeRequest",
        "CreateVolumeResponse",
        "CreditBalanceResponse",
        "CurrencyEnum",
        "Data",
        "DeleteFirewallResponse",
        "DeleteSSHKeyResponse",
        "DeleteSnapshotResponse",
        "DeleteVMResponse",
        "DeleteVolumeResponse",
        "DeploymentRequest",
        "DeploymentResponse",
        "DetachVolumesRequest",
        "DetachVolumesResponse",
        "DirectionEnum",
        "ErrorResponse",
        "EthertypeEnum",
        "FirewallAttachment",
        "FirewallEnvironment",
        "FirewallResponse",
        "FirewallRule",
        "FirewallVM",
        "GPUSpec",
        "GPUSpecsResponse",
        "GPUStockConfiguration",
        "GPUStockItem",
        "GPUStocksResponse",
        "GetBatchSnapshotImageRelationshipsRequest",
        "GetFirewallDetailsResponse",
        "GetHibernatedVMsResponse",
        "GetSSHKeysResponse",
        "GetSupportedProtocolsResponse",
        "GetVMAttachedFirewallsResponse",
        "GetVolumeDetailsResponse",
        "GetVolumeTypesResponse",
        "GetVolumesWithNextNameResponse",
        "GpuCountEnum",
        "GpuModelEnum",
        "HibernateVMResponse",
        "HibernationBillingMetrics",
        "Image",
        "ImageCreateResponse",
        "ImageDeleteResponse",
        "ImageDetailResponse",
        "ImageListResponse",
        "ListFirewallsResponse",
        "ListUserVMsResponse",
        "ListVMsResponse",
        "ModelsResponse",
        "OSImage",
        "OSImagesResponse",
        "Pagination",
        "Price",
        "PricingRequest",
        "PricingResponse",
        "Protocol",
        "ProtocolEnum",
        "RebootVMResponse",
        "RecentHibernation",
        "Region",
        "RegionEnum",
        "RegionsResponse",
        "RemoveFirewallRuleResponse",
        "RemoveVMSecurityRuleResponse",
        "ResizeVolumeRequest",
        "ResizeVolumeResponse",
        "ResourceTypeEnum",
        "RestoreSnapshotRequest",
        "RestoreSnapshotResponse",
        "RestoreVMResponse",
        "SSHKeyResponse",
        "Script",
        "ScriptListResponse",
        "Snapshot",
        "SnapshotImageRelationshipResponse",
        "Specs",
        "SpecsMetadata",
        "StartVMResponse",
        "StopVMResponse",
        "TierEnum",
        "ToggleVMPublicIPResponse",
        "UpdateScriptRequest",
        "UsageHistoryResponse",
        "UsageSummaryResponse",
        "UserVM",
        "VMDetailsResponse",
        "VMFlavor",
        "VMImage",
        "VMInstance",
        "VMResponse",
        "VMSecurityRule",
        "VMSecurityRuleRequest",
        "VMStatus",
        "VMVolumeAttachment",
        "VolumeBillingRecord",
        "VolumeBillingSummary",
        "VolumeHourlyBillingResponse",
        "VolumeResponse",
        "VolumeTypeEnum",
    ]
)
EXTRA_EXPORTS = [
    "Envelope",
    "FlatResponse",
    "Pagination",
    "ErrorResponse",
    "ErrorBody",
    "OpenEnum",
    "Money",
    "UTCDateTime",
    "BarrackModel",
    "RequestModel",
]


def test_the_a2_list_is_complete() -> None:
    # 126 names in A2; a shorter list would let a missing model slip through.
    assert len(set(A2_NAMES)) == 126


# A2 names that are objects, not envelopes, despite the ``Response`` suffix.
OBJECT_NAMED_RESPONSE = {"ErrorResponse", "VolumeResponse", "FirewallResponse"}

# B1: instance actions answer flat ``instance_id``, ``status``, ``tier``; security-rule
# changes flat ``instance_id``, ``rule_id``, ``tier`` (Part C's C3); other deletes flat
# ``<resource>_id``. Every other ``*Response`` has one payload key.
FLAT_RESPONSE_FIELDS: dict[str, set[str]] = {
    "StartVMResponse": {"instance_id", "status", "tier"},
    "StopVMResponse": {"instance_id", "status", "tier"},
    "RebootVMResponse": {"instance_id", "status", "tier"},
    "HibernateVMResponse": {"instance_id", "status", "tier"},
    "RestoreVMResponse": {"instance_id", "status", "tier"},
    "DeleteVMResponse": {"instance_id", "status", "tier"},
    "ToggleVMPublicIPResponse": {"instance_id", "status", "tier", "public_ip_enabled"},
    "AddVMSecurityRuleResponse": {"instance_id", "rule_id", "tier"},
    "RemoveVMSecurityRuleResponse": {"instance_id", "rule_id", "tier"},
    "DeleteFirewallResponse": {"firewall_id"},
    "RemoveFirewallRuleResponse": {"firewall_id", "rule_id"},
    "DeleteSSHKeyResponse": {"ssh_key_id"},
    "DeleteSnapshotResponse": {"snapshot_id"},
    "DeleteVolumeResponse": {"volume_id"},
    "ImageDeleteResponse": {"image_id"},
}
ENVELOPE_FIELDS = {"success", "message", "request_id"}


@pytest.mark.parametrize("name", A2_NAMES)
def test_every_a2_name_is_an_exported_model_or_enum(name: str) -> None:
    assert name in models.__all__
    obj = getattr(models, name)
    assert isinstance(obj, type)
    assert issubclass(obj, BaseModel | Enum), f"{name} is {obj!r}"
    if issubclass(obj, Enum):
        # Open: a value the client does not know still parses.
        assert obj._missing_("SOMETHING_NEW" if issubclass(obj, str) else 99) is not None


@pytest.mark.parametrize("name", EXTRA_EXPORTS)
def test_the_conventions_are_exported(name: str) -> None:
    assert name in models.__all__
    assert getattr(models, name) is not None


def test_all_lists_only_names_that_exist() -> None:
    missing = [name for name in models.__all__ if not hasattr(models, name)]
    assert missing == []


@pytest.mark.parametrize("name", [n for n in A2_NAMES if n.endswith("Response")])
def test_response_schemas_are_envelopes_or_flat(name: str) -> None:
    cls = getattr(models, name)
    # No generic ``data`` wrapper any more, in any shape.
    assert "data" not in cls.model_fields
    if name in OBJECT_NAMED_RESPONSE:
        assert not issubclass(cls, Envelope | FlatResponse)
    elif name in FLAT_RESPONSE_FIELDS:
        assert issubclass(cls, FlatResponse)
        assert not issubclass(cls, Envelope)
        assert set(cls.model_fields) == ENVELOPE_FIELDS | FLAT_RESPONSE_FIELDS[name]
    else:
        assert issubclass(cls, Envelope)
        assert set(cls.model_fields) == ENVELOPE_FIELDS | {"payload", "pagination"}


ROUTE_SCHEMAS = sorted(
    {(route.response, "response") for route in ROUTES.values()}
    | {(route.request, "request") for route in ROUTES.values() if route.request}
)


@pytest.mark.parametrize(("name", "role"), ROUTE_SCHEMAS)
def test_every_route_schema_resolves(name: str, role: str) -> None:
    cls = getattr(models, name, None)
    assert cls is not None, f"_wire names {name!r}, which barrack.models lacks"
    if role == "response":
        flat = {route.payload is None for route in ROUTES.values() if route.response == name}
        assert flat in ({True}, {False}), f"{name} is flat on one route and not on another"
        assert issubclass(cls, FlatResponse if flat == {True} else Envelope)
    else:
        assert issubclass(cls, RequestModel)


@pytest.mark.parametrize(
    "spec", [r for r in ROUTES.values() if r.payload is not None], ids=lambda r: r.operation
)
def test_every_envelope_reads_and_writes_its_payload_key(spec: Any) -> None:
    cls = getattr(models, spec.response)
    assert cls.payload_key() == spec.payload
    # A wire body without its payload key is refused, naming the key it lacked.
    with pytest.raises(ValidationError, match=spec.payload):
        cls.model_validate({"success": True, "message": "ok", "data": {}, "request_id": "r"})
    # The old generic wrapper is not read as the payload.
    with pytest.raises(ValidationError):
        cls.model_validate({"success": True, "data": [], "request_id": "r"})


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in models.__all__
        if isinstance(getattr(models, n), type)
        and issubclass(getattr(models, n), BaseModel)
        and n != "Envelope"
    ],
)
def test_every_model_builds_a_json_schema(name: str) -> None:
    # Prefect renders request models as forms from this schema; a broken type fails here.
    schema = getattr(models, name).model_json_schema()
    assert schema["type"] == "object"


def _instance_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": "BRK-A1B2C3D",
        "name": "trainer-01",
        "status": "ACTIVE",
        "region": "NORWAY-1",
        "flavor": {
            "name": "1x-H100",
            "gpu_model": "H100-SXM5-80GB",
            "gpu_count": 1,
            "vcpus": 26,
            "ram_gb": 200,
            "disk_gb": 500,
        },
        "hourly_price": "2.6900",
        "currency": "USD",
        "created_at": "2025-03-01T10:00:00Z",
    }
    payload.update(overrides)
    return payload


def test_a_sparse_instance_parses_with_defaults() -> None:
    instance = VMInstance.model_validate(_instance_payload())
    assert instance.ip_address is None
    assert instance.volumes == []
    assert instance.security_rules == []
    assert instance.public_ip_enabled is True
    assert instance.status is VMStatus.ACTIVE


def test_unknown_status_gpu_model_and_fields_parse() -> None:
    payload = _instance_payload(status="MIGRATING", gpu_topology="NVL72")
    payload["flavor"] = {**payload["flavor"], "gpu_model": "B200", "gpu_count": 16}
    instance = VMInstance.model_validate_json(json.dumps(payload))

    assert instance.status == "MIGRATING"
    assert instance.status.is_known is False
    assert not instance.status.is_settled
    assert not instance.status.is_transitional
    assert not instance.status.is_actionable
    assert instance.flavor.gpu_model == "B200"
    assert instance.flavor.gpu_model.is_known is False
    assert instance.flavor.gpu_count == 16
    assert instance.flavor.gpu_count.is_known is False
    assert instance.model_extra == {"gpu_topology": "NVL72"}
    # And it goes back out unchanged.
    dumped = json.loads(instance.model_dump_json())
    assert dumped["status"] == "MIGRATING"
    assert dumped["flavor"]["gpu_model"] == "B200"
    assert dumped["gpu_topology"] == "NVL72"


def test_a_list_with_one_unknown_status_still_parses() -> None:
    body = {
        "success": True,
        "message": "ok",
        "instances": [_instance_payload(), _instance_payload(id="BRK-ZZZZZZZ", status="PAUSED")],
        "pagination": {"page": 1, "per_page": 50, "total": 2, "total_pages": 1},
        "request_id": "req-1",
    }
    page = ListVMsResponse.model_validate(body)
    assert [i.status.is_known for i in page.payload] == [True, False]
    assert page.pagination is not None
    assert page.pagination.total == 2
    assert page.request_id == "req-1"
    # And it writes back under its payload key, never ``payload`` or ``data``.
    dumped = json.loads(page.model_dump_json())
    assert set(dumped) == {"success", "message", "instances", "pagination", "request_id"}
    assert [i["id"] for i in dumped["instances"]] == ["BRK-A1B2C3D", "BRK-ZZZZZZZ"]


def test_known_members_stay_known() -> None:
    assert GpuModelEnum("RTX-A6000") is GpuModelEnum.RTX_A6000
    assert GpuModelEnum.RTX_A6000.is_known
    assert GpuCountEnum(8) is GpuCountEnum.EIGHT


@pytest.mark.parametrize("bad", [0, -2, "x"])
def test_gpu_count_rejects_non_positive_and_non_numbers(bad: object) -> None:
    with pytest.raises(ValidationError, match="gpu_count"):
        VMInstance.model_validate(
            _instance_payload(flavor={**_instance_payload()["flavor"], "gpu_count": bad})
        )


@pytest.mark.parametrize(
    ("wire", "expected"),
    [("42.1700", Decimal("42.1700")), ("0", Decimal(0)), ("-3.5", Decimal("-3.5"))],
)
def test_money_is_decimal_and_round_trips_as_the_same_string(wire: str, expected: Decimal) -> None:
    balance = Balance.model_validate_json(json.dumps({"balance": wire, "currency": "EUR"}))
    assert isinstance(balance.balance, Decimal)
    assert balance.balance == expected
    assert json.loads(balance.model_dump_json())["balance"] == wire


@pytest.mark.parametrize(
    ("wire", "utc"),
    [
        ("2025-03-01T12:30:00+02:00", datetime(2025, 3, 1, 10, 30, tzinfo=UTC)),
        ("2025-03-01T10:30:00Z", datetime(2025, 3, 1, 10, 30, tzinfo=UTC)),
        ("2025-02-28T23:30:00-11:00", datetime(2025, 3, 1, 10, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_normalise_to_utc_and_dump_with_z(wire: str, utc: datetime) -> None:
    instance = VMInstance.model_validate(_instance_payload(created_at=wire))
    assert instance.created_at == utc
    assert instance.created_at.utcoffset() is not None
    assert instance.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert json.loads(instance.model_dump_json())["created_at"] == "2025-03-01T10:30:00Z"


def test_naive_timestamps_are_rejected() -> None:
    with pytest.raises(ValidationError, match="created_at"):
        VMInstance.model_validate(_instance_payload(created_at="2025-03-01T10:30:00"))


def test_a_response_missing_a_required_field_names_it() -> None:
    payload = _instance_payload()
    del payload["status"]
    with pytest.raises(ValidationError, match="status"):
        VMInstance.model_validate(payload)


@pytest.mark.parametrize(
    ("status", "settled", "transitional", "actionable"),
    [
        ("ACTIVE", True, False, True),
        ("SHUTOFF", True, False, True),
        ("HIBERNATED", True, False, True),
        ("DELETED", True, False, False),
        ("ERROR", True, False, False),
        ("CREATING", False, True, False),
        ("DELETING", False, True, False),
        ("STOPPING", False, True, False),
        ("STARTING", False, True, False),
        ("REBOOTING", False, True, False),
        ("HIBERNATING", False, True, False),
        ("RESTORING", False, True, False),
        ("UNKNOWN", False, False, False),
        ("MIGRATING", False, False, False),
    ],
)
def test_vm_status_helpers(
    status: str, settled: bool, transitional: bool, actionable: bool
) -> None:
    member = VMStatus(status)
    assert member.is_settled is settled
    assert member.is_transitional is transitional
    assert member.is_actionable is actionable
    assert (member in ACTIONABLE_VM_STATUSES) is actionable


def test_every_known_vm_status_is_classified() -> None:
    # A status added to the enum must be placed deliberately: settled, transitional or UNKNOWN.
    unclassified = [s for s in VMStatus if not (s.is_settled or s.is_transitional)]
    assert unclassified == [VMStatus.UNKNOWN]


@pytest.mark.parametrize(
    ("status", "ready"),
    [("SUCCESS", True), ("available", True), ("CREATING", False), ("ERROR", False), ("X", False)],
)
def test_snapshot_readiness_includes_the_legacy_spelling(status: str, ready: bool) -> None:
    snapshot = Snapshot.model_validate(
        {
            "id": "snap-1",
            "name": "nightly",
            "status": status,
            "region": "US-1",
            "created_at": "2025-03-01T10:00:00Z",
        }
    )
    assert snapshot.status.is_ready is ready
    assert isinstance(snapshot.status, SnapshotStatus)


def test_open_enum_pseudo_members_compare_by_value() -> None:
    assert VMStatus("MIGRATING") == VMStatus("MIGRATING")
    assert isinstance(VMStatus("MIGRATING"), OpenEnum)


def test_a_generated_private_key_is_masked_except_on_the_wire() -> None:
    key = CreatedSSHKey.model_validate({"id": "k1", "name": "ci", "private_key": "PRIVATE-PEM"})
    assert "PRIVATE-PEM" not in repr(key)
    assert "PRIVATE-PEM" not in str(key)
    assert key.private_key is not None
    assert key.private_key.get_secret_value() == "PRIVATE-PEM"
    assert json.loads(key.model_dump_json())["private_key"] == "PRIVATE-PEM"


def test_response_models_keep_unknown_fields_and_request_models_do_not() -> None:
    assert BarrackModel.model_config.get("extra") == "allow"
    assert RequestModel.model_config.get("extra") == "forbid"
