"""The route table against B3 of the wire contract, transcribed here independently."""

from __future__ import annotations

import pytest

import barrack.models as models
from barrack._wire import (
    DEFAULT_BASE_URL,
    ERROR_STATUS,
    FLAT,
    PAYLOAD_KEYS,
    ROUTES,
    payload_key,
    route,
)
from barrack.models import Envelope, FlatResponse

# B3, one (method, path) per operation, copied from ../shared/barrack-api.md, each with the
# trailing slash B1 (after Part C's ``/api/pricing/``) puts on every path.
B3 = {
    ("GET", "/balance/"),
    ("GET", "/gpu-stocks/"),
    ("GET", "/gpu-specs/"),
    ("GET", "/regions/"),
    ("GET", "/pricing/"),
    ("POST", "/pricing/"),
    ("POST", "/instances/"),
    ("GET", "/instances/"),
    ("GET", "/instances/{instance_id}/"),
    ("GET", "/instances/{instance_id}/billing/"),
    ("POST", "/instances/{instance_id}/start/"),
    ("POST", "/instances/{instance_id}/stop/"),
    ("POST", "/instances/{instance_id}/reboot/"),
    ("POST", "/instances/{instance_id}/hibernate/"),
    ("POST", "/instances/{instance_id}/hibernate-restore/"),
    ("POST", "/instances/{instance_id}/public-ip/"),
    ("POST", "/instances/{instance_id}/security-rules/"),
    ("DELETE", "/instances/{instance_id}/security-rules/{rule_id}/"),
    ("DELETE", "/instances/{instance_id}/"),
    ("GET", "/instances/hibernated/"),
    ("GET", "/instances/{instance_id}/firewalls/"),
    ("GET", "/snapshots/eligible-instances/"),
    ("GET", "/os-images/"),
    ("GET", "/ssh-keys/"),
    ("GET", "/ssh-keys/{key_id}/"),
    ("POST", "/ssh-keys/"),
    ("DELETE", "/ssh-keys/{key_id}/"),
    ("GET", "/volumes/"),
    ("POST", "/volumes/"),
    ("GET", "/volumes/{volume_id}/"),
    ("DELETE", "/volumes/{volume_id}/"),
    ("POST", "/volumes/{volume_id}/resize/"),
    ("POST", "/volumes/{volume_id}/clone/"),
    ("POST", "/instances/{instance_id}/volumes/attach/"),
    ("POST", "/instances/{instance_id}/volumes/detach/"),
    ("GET", "/volume-types/"),
    ("GET", "/volumes/{volume_id}/billing/"),
    ("GET", "/firewalls/"),
    ("GET", "/firewalls/{firewall_id}/"),
    ("POST", "/firewalls/"),
    ("DELETE", "/firewalls/{firewall_id}/"),
    ("GET", "/firewalls/protocols/"),
    ("GET", "/firewalls/{firewall_id}/available-instances/"),
    ("POST", "/firewalls/{firewall_id}/rules/"),
    ("DELETE", "/firewalls/{firewall_id}/rules/{rule_id}/"),
    ("POST", "/firewalls/{firewall_id}/attach/"),
    ("GET", "/scripts/"),
    ("GET", "/scripts/{script_id}/"),
    ("POST", "/scripts/"),
    ("PUT", "/scripts/{script_id}/"),
    ("DELETE", "/scripts/{script_id}/"),
    ("POST", "/scripts/bulk-delete/"),
    ("GET", "/snapshots/"),
    ("GET", "/snapshots/{snapshot_id}/"),
    ("POST", "/snapshots/"),
    ("DELETE", "/snapshots/{snapshot_id}/"),
    ("GET", "/snapshots/{snapshot_id}/billing/"),
    ("POST", "/snapshots/{snapshot_id}/restore/"),
    ("GET", "/images/"),
    ("GET", "/images/{image_id}/"),
    ("POST", "/images/"),
    ("DELETE", "/images/{image_id}/"),
    ("GET", "/snapshots/{snapshot_id}/image-relationship/"),
    ("POST", "/snapshots/image-relationships/"),
    ("GET", "/ai/models/"),
    ("POST", "/ai/chat/completions/"),
    ("GET", "/ai/usage/summary/"),
    ("GET", "/ai/usage/history/"),
}

# B1's payload keys (Part C: ``pricing_data``; flat ``RemoveVMSecurityRuleResponse``): a list
# under the resource's plural, one object under the singular, instance actions and deletes
# flat. Changing one of these changes the wire, so it is pinned here.
B1_PAYLOAD = {
    "balance.get": "credit",
    "balance.transactions": "transactions",
    "billing.records": "records",
    "gpu_stocks.list": "stocks",
    "gpu_specs.list": "gpu_specs",
    "regions.list": "regions",
    "pricing.list": "pricing_data",
    "pricing.quote": "pricing_data",
    "instances.create": "instance",
    "instances.list": "instances",
    "instances.list_hibernated": "hibernated",
    "instances.get": "instance",
    "instances.billing": "billing",
    "instances.start": FLAT,
    "instances.stop": FLAT,
    "instances.reboot": FLAT,
    "instances.hibernate": FLAT,
    "instances.restore_hibernated": FLAT,
    "instances.toggle_public_ip": FLAT,
    "instances.add_security_rule": FLAT,
    "instances.remove_security_rule": FLAT,
    "instances.delete": FLAT,
    "instances.firewalls": "firewalls",
    "instances.attach_volumes": "volumes",
    "instances.detach_volumes": "volumes",
    "os_images.list": "os_images",
    "ssh_keys.list": "ssh_keys",
    "ssh_keys.get": "ssh_key",
    "ssh_keys.create": "ssh_key",
    "ssh_keys.delete": FLAT,
    "volumes.list": "volumes",
    "volumes.create": "volume",
    "volumes.get": "volume",
    "volumes.delete": FLAT,
    "volumes.resize": "volume",
    "volumes.clone": "volume",
    "volumes.types": "volume_types",
    "volumes.billing": "billing",
    "firewalls.list": "firewalls",
    "firewalls.protocols": "protocols",
    "firewalls.get": "firewall",
    "firewalls.create": "firewall",
    "firewalls.delete": FLAT,
    "firewalls.available_instances": "instances",
    "firewalls.add_rule": "rule",
    "firewalls.remove_rule": FLAT,
    "firewalls.attach": "attachments",
    "scripts.list": "scripts",
    "scripts.get": "script",
    "scripts.create": "script",
    "scripts.update": "script",
    "scripts.delete": FLAT,
    "scripts.delete_many": FLAT,
    "snapshots.list": "snapshots",
    "snapshots.eligible_instances": "instances",
    "snapshots.get": "snapshot",
    "snapshots.billing": "billing",
    "snapshots.create": "snapshot",
    "snapshots.delete": FLAT,
    "snapshots.restore": "instance",
    "snapshots.image_relationship": "relationship",
    "snapshots.image_relationships": "relationships",
    "images.list": "images",
    "images.get": "image",
    "images.create": "image",
    "images.delete": FLAT,
    "ai.models": "models",
    "ai.chat": "completion",
    "ai.usage_summary": "summary",
    "ai.usage_history": "transactions",
}

INSTANCE_ACTIONS = {
    "instances.start",
    "instances.stop",
    "instances.reboot",
    "instances.hibernate",
    "instances.restore_hibernated",
}


# Beyond B3, guessed for the spend report (docs/barrack-api.md says so): top-ups and the
# account-wide billing records, deleted resources included.
BEYOND_B3 = {
    ("GET", "/balance/transactions/"),
    ("GET", "/billing/records/"),
}


def test_routes_match_b3_exactly() -> None:
    assert {(r.method, r.path) for r in ROUTES.values()} == B3 | BEYOND_B3


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
    assert spec.format_path(snapshot_id="../balance") == "/snapshots/..%2Fbalance/"
    assert spec.format_path(snapshot_id="a/b?c#d") == "/snapshots/a%2Fb%3Fc%23d/"
    with pytest.raises(KeyError, match="snapshot_id"):
        spec.format_path()
    with pytest.raises(KeyError, match="unknown Barrack operation"):
        route("snapshots.explode")


def test_payload_keys_follow_b1() -> None:
    assert {op: spec.payload for op, spec in ROUTES.items()} == B1_PAYLOAD
    # Part C, verbatim: the two keys the published samples show.
    assert ROUTES["pricing.quote"].payload == "pricing_data"
    assert ROUTES["instances.remove_security_rule"].payload is FLAT


def test_flat_routes_answer_flat_schemas_and_the_rest_envelopes() -> None:
    for spec in ROUTES.values():
        schema = getattr(models, spec.response)
        if spec.payload is FLAT:
            assert issubclass(schema, FlatResponse), spec.operation
            assert not issubclass(schema, Envelope), spec.operation
        else:
            assert issubclass(schema, Envelope), spec.operation
            assert schema.payload_key() == spec.payload, spec.operation
        assert payload_key(spec.response) == spec.payload
    assert set(PAYLOAD_KEYS) == {spec.response for spec in ROUTES.values()}
    with pytest.raises(KeyError, match="no Barrack route"):
        payload_key("NoSuchResponse")


def test_every_path_ends_with_a_slash_and_has_no_version_prefix() -> None:
    for spec in ROUTES.values():
        assert spec.path.startswith("/"), spec.operation
        assert spec.path.endswith("/"), spec.operation
        assert "//" not in spec.path, spec.operation
        assert not spec.path.startswith(("/v1", "/api")), spec.operation
    assert DEFAULT_BASE_URL == "https://barrack.ai/api"


def test_only_pricing_quote_mirrors_its_body_into_the_query() -> None:
    assert [op for op, spec in ROUTES.items() if spec.query_mirrors_body] == ["pricing.quote"]
    assert set(ROUTES["pricing.quote"].query) == {
        "tier",
        "currency",
        "resource_type",
        "gpu_model",
        "gpu_count",
        "volume_type",
        "volume_size_gb",
    }
