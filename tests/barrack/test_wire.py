"""The route table against B3 of the wire contract, transcribed here independently."""

from __future__ import annotations

import pytest

import barrack.models as models
from barrack._wire import ERROR_STATUS, ROUTES, route

# B3, one (method, path) per operation, copied from ../shared/barrack-api.md.
B3 = {
    ("GET", "/balance"),
    ("GET", "/gpu-stocks"),
    ("GET", "/gpu-specs"),
    ("GET", "/regions"),
    ("GET", "/pricing"),
    ("POST", "/pricing"),
    ("POST", "/instances"),
    ("GET", "/instances"),
    ("GET", "/instances/{instance_id}"),
    ("GET", "/instances/{instance_id}/billing"),
    ("POST", "/instances/{instance_id}/start"),
    ("POST", "/instances/{instance_id}/stop"),
    ("POST", "/instances/{instance_id}/reboot"),
    ("POST", "/instances/{instance_id}/hibernate"),
    ("POST", "/instances/{instance_id}/hibernate-restore"),
    ("POST", "/instances/{instance_id}/public-ip"),
    ("POST", "/instances/{instance_id}/security-rules"),
    ("DELETE", "/instances/{instance_id}/security-rules/{rule_id}"),
    ("DELETE", "/instances/{instance_id}"),
    ("GET", "/instances/hibernated"),
    ("GET", "/instances/{instance_id}/firewalls"),
    ("GET", "/snapshots/eligible-instances"),
    ("GET", "/os-images"),
    ("GET", "/ssh-keys"),
    ("GET", "/ssh-keys/{key_id}"),
    ("POST", "/ssh-keys"),
    ("DELETE", "/ssh-keys/{key_id}"),
    ("GET", "/volumes"),
    ("POST", "/volumes"),
    ("GET", "/volumes/{volume_id}"),
    ("DELETE", "/volumes/{volume_id}"),
    ("POST", "/volumes/{volume_id}/resize"),
    ("POST", "/volumes/{volume_id}/clone"),
    ("POST", "/instances/{instance_id}/volumes/attach"),
    ("POST", "/instances/{instance_id}/volumes/detach"),
    ("GET", "/volume-types"),
    ("GET", "/volumes/{volume_id}/billing"),
    ("GET", "/firewalls"),
    ("GET", "/firewalls/{firewall_id}"),
    ("POST", "/firewalls"),
    ("DELETE", "/firewalls/{firewall_id}"),
    ("GET", "/firewalls/protocols"),
    ("GET", "/firewalls/{firewall_id}/available-instances"),
    ("POST", "/firewalls/{firewall_id}/rules"),
    ("DELETE", "/firewalls/{firewall_id}/rules/{rule_id}"),
    ("POST", "/firewalls/{firewall_id}/attach"),
    ("GET", "/scripts"),
    ("GET", "/scripts/{script_id}"),
    ("POST", "/scripts"),
    ("PUT", "/scripts/{script_id}"),
    ("DELETE", "/scripts/{script_id}"),
    ("POST", "/scripts/bulk-delete"),
    ("GET", "/snapshots"),
    ("GET", "/snapshots/{snapshot_id}"),
    ("POST", "/snapshots"),
    ("DELETE", "/snapshots/{snapshot_id}"),
    ("GET", "/snapshots/{snapshot_id}/billing"),
    ("POST", "/snapshots/{snapshot_id}/restore"),
    ("GET", "/images"),
    ("GET", "/images/{image_id}"),
    ("POST", "/images"),
    ("DELETE", "/images/{image_id}"),
    ("GET", "/snapshots/{snapshot_id}/image-relationship"),
    ("POST", "/snapshots/image-relationships"),
    ("GET", "/ai/models"),
    ("POST", "/ai/chat/completions"),
    ("GET", "/ai/usage/summary"),
    ("GET", "/ai/usage/history"),
}

INSTANCE_ACTIONS = {
    "instances.start",
    "instances.stop",
    "instances.reboot",
    "instances.hibernate",
    "instances.restore_hibernated",
}


def test_routes_match_b3_exactly() -> None:
    assert {(r.method, r.path) for r in ROUTES.values()} == B3


def test_success_statuses_follow_b1() -> None:
    for spec in ROUTES.values():
        if spec.operation in INSTANCE_ACTIONS:
            assert spec.status == 202, spec.operation
        elif spec.method == "POST" and spec.operation.endswith(
            ("create", "restore", "add_rule", "add_security_rule", "clone")
        ):
            assert spec.status == 201, spec.operation
        else:
            assert spec.status == 200, spec.operation


def test_every_named_schema_exists() -> None:
    for spec in ROUTES.values():
        assert isinstance(getattr(models, spec.response, None), type), spec.response
        if spec.request:
            assert isinstance(getattr(models, spec.request, None), type), spec.request


def test_error_codes_follow_b2() -> None:
    assert ERROR_STATUS == {
        "VALIDATION_ERROR": 400,
        "UNAUTHORIZED": 401,
        "INSUFFICIENT_CREDITS": 402,
        "PROFILE_INCOMPLETE": 403,
        "NOT_FOUND": 404,
        "DUPLICATE_NAME": 409,
        "INVALID_STATE": 409,
        "INVALID_SNAPSHOT_STATUS": 409,
        "OUT_OF_STOCK": 409,
        "SNAPSHOT_DELETED": 410,
        "INVALID_NAME_FORMAT": 422,
        "REGION_INCOMPATIBLE": 422,
        "LAYER2_VALIDATION_FAILED": 422,
        "RATE_LIMITED": 429,
        "INTERNAL": 500,
        "UNAVAILABLE": 503,
    }


def test_path_parameters_are_quoted() -> None:
    spec = route("snapshots.get")
    assert spec.format_path(snapshot_id="../balance") == "/snapshots/..%2Fbalance"
    with pytest.raises(KeyError, match="snapshot_id"):
        spec.format_path()
    with pytest.raises(KeyError, match="unknown Barrack operation"):
        route("snapshots.explode")
