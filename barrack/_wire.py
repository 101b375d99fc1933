"""Every wire detail of the Barrack API in one place.

Paths, methods, success statuses, envelopes, error codes and header names live here and
nowhere else: the client builds its requests from this table and the simulator mounts
its handlers from it, so the two cannot drift, and matching the real API once its wire
format is known is a change to this module alone.

Operations are named ``"<group>.<verb>"``; request and response schemas are named by their
``barrack.models`` class names (resolved lazily, so this module imports nothing heavy).

List operations answer newest first (``created_at`` descending, then id), so a caller
looking for recent resources can stop paging early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "API_PREFIX",
    "DEFAULT_BASE_URL",
    "ERROR_STATUS",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_RATELIMIT_LIMIT",
    "HEADER_RATELIMIT_REMAINING",
    "HEADER_RATELIMIT_RESET",
    "HEADER_REQUEST_ID",
    "HEADER_RETRY_AFTER",
    "MAX_PER_PAGE",
    "ROUTES",
    "Route",
    "route",
]

DEFAULT_BASE_URL: Final = "https://api.barrack.ai/v1"
API_PREFIX: Final = "/v1"
"""Where the simulator serves the API (its base URL is ``http://HOST:PORT/v1``)."""

HEADER_IDEMPOTENCY_KEY: Final = "Idempotency-Key"
HEADER_RETRY_AFTER: Final = "Retry-After"
HEADER_RATELIMIT_LIMIT: Final = "X-RateLimit-Limit"
HEADER_RATELIMIT_REMAINING: Final = "X-RateLimit-Remaining"
HEADER_RATELIMIT_RESET: Final = "X-RateLimit-Reset"
HEADER_REQUEST_ID: Final = "X-Request-Id"

DEFAULT_PER_PAGE: Final = 50
MAX_PER_PAGE: Final = 100

ERROR_STATUS: Final[dict[str, int]] = {
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
"""B2: each ``error.code`` with its HTTP status."""

_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class Route:
    """One API operation on the wire.

    Attributes:
        operation: ``"<group>.<verb>"``, the key the client and the simulator share.
        method: HTTP method.
        path: path under the base URL, with ``{name}`` placeholders.
        response: name of the ``barrack.models`` envelope schema of a success.
        request: name of the ``barrack.models`` body schema, if the body is a model.
        status: HTTP status of a success (201 creates, 202 instance actions, else 200).
        query: query parameters the operation accepts.
        paginated: whether ``page``/``per_page`` apply and a ``pagination`` comes back.
        raw_body: body keys for operations whose body is a small ad-hoc object.
    """

    operation: str
    method: str
    path: str
    response: str
    request: str | None = None
    status: int = 200
    query: tuple[str, ...] = ()
    paginated: bool = False
    raw_body: tuple[str, ...] = ()
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(_PARAM.findall(self.path)))

    @property
    def mutating(self) -> bool:
        """True for methods that change state (the ones that carry an Idempotency-Key)."""
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}

    def format_path(self, **params: str) -> str:
        """Fill the placeholders; every value is percent-quoted so an id cannot add segments."""
        from urllib.parse import quote

        missing = set(self.path_params) - params.keys()
        if missing:
            raise KeyError(f"{self.operation}: missing path parameter(s) {sorted(missing)}")
        return _PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=""), self.path)


_PAGE = ("page", "per_page")

_ROUTE_LIST: tuple[Route, ...] = (
    # Balance
    Route("balance.get", "GET", "/balance", "CreditBalanceResponse"),
    # GPU stocks and specs
    Route("gpu_stocks.list", "GET", "/gpu-stocks", "GPUStocksResponse", query=("region",)),
    Route("gpu_specs.list", "GET", "/gpu-specs", "GPUSpecsResponse"),
    # Regions
    Route("regions.list", "GET", "/regions", "RegionsResponse"),
    # Pricing
    Route("pricing.list", "GET", "/pricing", "PricingResponse", query=("gpu_model", "region")),
    Route("pricing.quote", "POST", "/pricing", "PricingResponse", request="PricingRequest"),
    # Instances
    Route(
        "instances.create",
        "POST",
        "/instances",
        "DeploymentResponse",
        request="DeploymentRequest",
        status=201,
    ),
    Route(
        "instances.list",
        "GET",
        "/instances",
        "ListVMsResponse",
        query=("status", "region", *_PAGE),
        paginated=True,
    ),
    Route("instances.list_hibernated", "GET", "/instances/hibernated", "GetHibernatedVMsResponse"),
    Route("instances.get", "GET", "/instances/{instance_id}", "VMDetailsResponse"),
    Route(
        "instances.billing",
        "GET",
        "/instances/{instance_id}/billing",
        "AggregatedBillingResponse",
        query=("start", "end"),
    ),
    Route(
        "instances.start", "POST", "/instances/{instance_id}/start", "StartVMResponse", status=202
    ),
    Route("instances.stop", "POST", "/instances/{instance_id}/stop", "StopVMResponse", status=202),
    Route(
        "instances.reboot",
        "POST",
        "/instances/{instance_id}/reboot",
        "RebootVMResponse",
        status=202,
    ),
    Route(
        "instances.hibernate",
        "POST",
        "/instances/{instance_id}/hibernate",
        "HibernateVMResponse",
        status=202,
    ),
    Route(
        "instances.restore_hibernated",
        "POST",
        "/instances/{instance_id}/hibernate-restore",
        "RestoreVMResponse",
        status=202,
    ),
    Route(
        "instances.toggle_public_ip",
        "POST",
        "/instances/{instance_id}/public-ip",
        "ToggleVMPublicIPResponse",
        raw_body=("enabled",),
    ),
    Route(
        "instances.add_security_rule",
        "POST",
        "/instances/{instance_id}/security-rules",
        "AddVMSecurityRuleResponse",
        request="VMSecurityRuleRequest",
        status=201,
    ),
    Route(
        "instances.remove_security_rule",
        "DELETE",
        "/instances/{instance_id}/security-rules/{rule_id}",
        "RemoveVMSecurityRuleResponse",
    ),
    Route("instances.delete", "DELETE", "/instances/{instance_id}", "DeleteVMResponse"),
    Route(
        "instances.firewalls",
        "GET",
        "/instances/{instance_id}/firewalls",
        "GetVMAttachedFirewallsResponse",
    ),
    Route(
        "instances.attach_volumes",
        "POST",
        "/instances/{instance_id}/volumes/attach",
        "AttachVolumesResponse",
        request="AttachVolumesRequest",
    ),
    Route(
        "instances.detach_volumes",
        "POST",
        "/instances/{instance_id}/volumes/detach",
        "DetachVolumesResponse",
        request="DetachVolumesRequest",
    ),
    # OS images
    Route("os_images.list", "GET", "/os-images", "OSImagesResponse", query=("region",)),
    # SSH keys
    Route("ssh_keys.list", "GET", "/ssh-keys", "GetSSHKeysResponse"),
    Route("ssh_keys.get", "GET", "/ssh-keys/{key_id}", "SSHKeyResponse"),
    Route(
        "ssh_keys.create",
        "POST",
        "/ssh-keys",
        "CreateSSHKeyResponse",
        request="CreateSSHKeyRequest",
        status=201,
    ),
    Route("ssh_keys.delete", "DELETE", "/ssh-keys/{key_id}", "DeleteSSHKeyResponse"),
    # Volumes
    Route("volumes.list", "GET", "/volumes", "GetVolumesWithNextNameResponse", query=("region",)),
    Route(
        "volumes.create",
        "POST",
        "/volumes",
        "CreateVolumeResponse",
        request="CreateVolumeRequest",
        status=201,
    ),
    Route("volumes.get", "GET", "/volumes/{volume_id}", "GetVolumeDetailsResponse"),
    Route("volumes.delete", "DELETE", "/volumes/{volume_id}", "DeleteVolumeResponse"),
    Route(
        "volumes.resize",
        "POST",
        "/volumes/{volume_id}/resize",
        "ResizeVolumeResponse",
        request="ResizeVolumeRequest",
    ),
    Route(
        "volumes.clone",
        "POST",
        "/volumes/{volume_id}/clone",
        "CloneVolumeResponse",
        request="CloneVolumeRequest",
        status=201,
    ),
    Route("volumes.types", "GET", "/volume-types", "GetVolumeTypesResponse"),
    Route("volumes.billing", "GET", "/volumes/{volume_id}/billing", "VolumeHourlyBillingResponse"),
    # Firewalls
    Route("firewalls.list", "GET", "/firewalls", "ListFirewallsResponse"),
    Route("firewalls.protocols", "GET", "/firewalls/protocols", "GetSupportedProtocolsResponse"),
    Route("firewalls.get", "GET", "/firewalls/{firewall_id}", "GetFirewallDetailsResponse"),
    Route(
        "firewalls.create",
        "POST",
        "/firewalls",
        "CreateFirewallResponse",
        request="CreateFirewallRequest",
        status=201,
    ),
    Route("firewalls.delete", "DELETE", "/firewalls/{firewall_id}", "DeleteFirewallResponse"),
    Route(
        "firewalls.available_instances",
        "GET",
        "/firewalls/{firewall_id}/available-instances",
        "FirewallVMListResponse",
    ),
    Route(
        "firewalls.add_rule",
        "POST",
        "/firewalls/{firewall_id}/rules",
        "AddFirewallRuleResponse",
        request="AddFirewallRuleRequest",
        status=201,
    ),
    Route(
        "firewalls.remove_rule",
        "DELETE",
        "/firewalls/{firewall_id}/rules/{rule_id}",
        "RemoveFirewallRuleResponse",
    ),
    Route(
        "firewalls.attach",
        "POST",
        "/firewalls/{firewall_id}/attach",
        "AttachFirewallResponse",
        request="AttachFirewallRequest",
    ),
    # Startup scripts
    Route("scripts.list", "GET", "/scripts", "ScriptListResponse"),
    Route("scripts.get", "GET", "/scripts/{script_id}", "ScriptResponse"),
    Route(
        "scripts.create",
        "POST",
        "/scripts",
        "ScriptResponse",
        request="CreateScriptRequest",
        status=201,
    ),
    Route(
        "scripts.update",
        "PUT",
        "/scripts/{script_id}",
        "ScriptResponse",
        request="UpdateScriptRequest",
    ),
    Route("scripts.delete", "DELETE", "/scripts/{script_id}", "DeleteScriptResponse"),
    Route(
        "scripts.delete_many",
        "POST",
        "/scripts/bulk-delete",
        "DeleteScriptResponse",
        raw_body=("ids",),
    ),
    # Snapshots
    Route(
        "snapshots.list",
        "GET",
        "/snapshots",
        "SnapshotListResponse",
        query=("region", "instance_id", *_PAGE),
        paginated=True,
    ),
    Route(
        "snapshots.eligible_instances",
        "GET",
        "/snapshots/eligible-instances",
        "ListUserVMsResponse",
    ),
    Route("snapshots.get", "GET", "/snapshots/{snapshot_id}", "SnapshotResponse"),
    Route(
        "snapshots.billing", "GET", "/snapshots/{snapshot_id}/billing", "SnapshotBillingResponse"
    ),
    Route(
        "snapshots.create",
        "POST",
        "/snapshots",
        "CreateSnapshotResponse",
        request="CreateSnapshotRequest",
        status=201,
    ),
    Route("snapshots.delete", "DELETE", "/snapshots/{snapshot_id}", "DeleteSnapshotResponse"),
    Route(
        "snapshots.restore",
        "POST",
        "/snapshots/{snapshot_id}/restore",
        "RestoreSnapshotResponse",
        request="RestoreSnapshotRequest",
        status=201,
    ),
    Route(
        "snapshots.image_relationship",
        "GET",
        "/snapshots/{snapshot_id}/image-relationship",
        "SnapshotImageRelationshipResponse",
    ),
    Route(
        "snapshots.image_relationships",
        "POST",
        "/snapshots/image-relationships",
        "BatchSnapshotImageRelationshipResponse",
        request="GetBatchSnapshotImageRelationshipsRequest",
    ),
    # Custom images
    Route("images.list", "GET", "/images", "ImageListResponse"),
    Route("images.get", "GET", "/images/{image_id}", "ImageDetailResponse"),
    Route(
        "images.create",
        "POST",
        "/images",
        "ImageCreateResponse",
        request="CreateImageFromSnapshotRequest",
        status=201,
    ),
    Route("images.delete", "DELETE", "/images/{image_id}", "ImageDeleteResponse"),
    # AI chat
    Route("ai.models", "GET", "/ai/models", "ModelsResponse"),
    Route(
        "ai.chat",
        "POST",
        "/ai/chat/completions",
        "ChatCompletionsResponse",
        request="ChatCompletionsRequest",
    ),
    Route(
        "ai.usage_summary",
        "GET",
        "/ai/usage/summary",
        "UsageSummaryResponse",
        query=("start", "end"),
    ),
    Route(
        "ai.usage_history",
        "GET",
        "/ai/usage/history",
        "UsageHistoryResponse",
        query=("start", "end", *_PAGE),
        paginated=True,
    ),
)

ROUTES: Final[dict[str, Route]] = {r.operation: r for r in _ROUTE_LIST}
"""Every operation, by name."""


def route(operation: str) -> Route:
    """Look an operation up by name.

    Raises:
        KeyError: the operation is not in the table.
    """
    try:
        return ROUTES[operation]
    except KeyError:
        raise KeyError(f"unknown Barrack operation {operation!r}") from None
