"""Every wire detail of the Barrack API in one place.

Paths, methods, success statuses, payload keys, envelopes, error codes and header names
live here and nowhere else: the client builds its requests from this table, the models
read their payload keys from it and the simulator mounts its handlers from it, so the
three cannot drift, and matching the real API is a change to this module alone
(``barrack-ops doctor`` shows what differs; ``docs/barrack-api.md`` says how to adjust).

What is documented and what is chosen (``docs/barrack-api.md`` has the long form):

* **Documented** by Barrack's published samples: the host and prefix
  (``https://barrack.ai/api``), the trailing slash (``/api/pricing/``), the success
  envelope (``success``, ``message``, a payload key named for the resource such as
  ``pricing_data``, ``request_id``; no ``data``), flat action answers (``instance_id``,
  ``rule_id``, ``tier``), money as JSON numbers, POST pricing taking its fields as query
  parameters and as a JSON body.
* **Guessed** in the same style, where no page shows wire text: every other path, every
  other payload key, the status codes, the error body, the auth header, pagination,
  ``Idempotency-Key`` and the rate-limit headers.

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
    "AUTH_HEADER_CHOICES",
    "DEFAULT_AUTH_HEADER",
    "DEFAULT_BASE_URL",
    "ENVELOPE_FIELDS",
    "ERROR_STATUS",
    "FLAT",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_RATELIMIT_LIMIT",
    "HEADER_RATELIMIT_REMAINING",
    "HEADER_RATELIMIT_RESET",
    "HEADER_REQUEST_ID",
    "HEADER_RETRY_AFTER",
    "MAX_PER_PAGE",
    "PAYLOAD_KEYS",
    "PROMETHEUS_PREFIX",
    "ROUTES",
    "Route",
    "auth_header_value",
    "payload_key",
    "route",
]

DEFAULT_BASE_URL: Final = "https://barrack.ai/api"
"""Documented (Part C's curl): host and prefix; every path under it ends with ``/``."""
API_PREFIX: Final = "/api"
"""Where the simulator serves the API (its base URL is ``http://HOST:PORT/api``)."""
PROMETHEUS_PREFIX: Final = "/prometheus"
"""Where the simulator serves its Prometheus API (not part of Barrack)."""

DEFAULT_AUTH_HEADER: Final = "Authorization"
"""Guessed: ``Authorization: Bearer <key>``. Any other header carries the bare key."""
AUTH_HEADER_CHOICES: Final = ("Authorization", "X-API-Key", "api_key")
"""The headers ``barrack-ops doctor`` tries, the configured one first."""


def auth_header_value(header: str, key: str) -> str:
    """The value of the auth header: ``Bearer <key>`` for ``Authorization``, else the key."""
    return f"Bearer {key}" if header.lower() == "authorization" else key


HEADER_IDEMPOTENCY_KEY: Final = "Idempotency-Key"
HEADER_RETRY_AFTER: Final = "Retry-After"
HEADER_RATELIMIT_LIMIT: Final = "X-RateLimit-Limit"
HEADER_RATELIMIT_REMAINING: Final = "X-RateLimit-Remaining"
HEADER_RATELIMIT_RESET: Final = "X-RateLimit-Reset"
HEADER_REQUEST_ID: Final = "X-Request-Id"
"""Guessed: the body's ``request_id`` is documented; this header is read when sent."""

ENVELOPE_FIELDS: Final = ("success", "message", "request_id")
"""Documented: the fields of every answer besides its payload."""

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
"""B2 (guessed): each ``error.code`` with its HTTP status."""

FLAT: Final = None
"""The payload "key" of an answer whose fields sit beside ``success`` (actions, deletes)."""

_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class Route:
    """One API operation on the wire.

    Attributes:
        operation: ``"<group>.<verb>"``, the key the client and the simulator share.
        method: HTTP method.
        path: path under the base URL, with ``{name}`` placeholders and its trailing slash.
        response: name of the ``barrack.models`` schema of a success.
        payload: the key the answer's payload sits under (``"instances"``,
            ``"pricing_data"``), or :data:`FLAT` when its fields sit at the top level.
        request: name of the ``barrack.models`` body schema, if the body is a model.
        status: HTTP status of a success (201 creates, 202 instance actions, else 200).
        query: query parameters the operation accepts.
        paginated: whether ``page``/``per_page`` apply and a ``pagination`` comes back.
        raw_body: body keys for operations whose body is a small ad-hoc object.
        query_mirrors_body: the body's fields are also sent as query parameters
            (Part C's POST pricing shows both).
    """

    operation: str
    method: str
    path: str
    response: str
    payload: str | None
    request: str | None = None
    status: int = 200
    query: tuple[str, ...] = ()
    paginated: bool = False
    raw_body: tuple[str, ...] = ()
    query_mirrors_body: bool = False
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(_PARAM.findall(self.path)))

    @property
    def mutating(self) -> bool:
        """True for methods that change state (the ones that carry an Idempotency-Key)."""
        return self.method in {"POST", "PUT", "PATCH", "DELETE"} and self.operation not in (
            _READ_ONLY_POSTS
        )

    def format_path(self, **params: str) -> str:
        """Fill the placeholders; every value is percent-quoted so an id cannot add segments."""
        from urllib.parse import quote

        missing = set(self.path_params) - params.keys()
        if missing:
            raise KeyError(f"{self.operation}: missing path parameter(s) {sorted(missing)}")
        return _PARAM.sub(lambda m: quote(str(params[m.group(1)]), safe=""), self.path)


_READ_ONLY_POSTS: Final = frozenset({"pricing.quote", "snapshots.image_relationships", "ai.chat"})
"""POSTs that change nothing (a query with a body): ``doctor`` may call them."""

_PRICING_QUERY: Final = (
    "tier",
    "currency",
    "resource_type",
    "gpu_model",
    "gpu_count",
    "volume_type",
    "volume_size_gb",
)
_PAGE = ("page", "per_page")

_ROUTE_LIST: tuple[Route, ...] = (
    # Balance
    Route("balance.get", "GET", "/balance/", "CreditBalanceResponse", payload="credit"),
    Route(
        "balance.transactions",
        "GET",
        "/balance/transactions/",
        "CreditTransactionsResponse",
        payload="transactions",
        query=("start", "end", *_PAGE),
        paginated=True,
    ),
    # Account-wide billing (guessed: one list of every billed period, deleted resources'
    # included, so a report over last week still sees what was deleted since)
    Route(
        "billing.records",
        "GET",
        "/billing/records/",
        "BillingRecordsResponse",
        payload="records",
        query=("start", "end", "resource_type", *_PAGE),
        paginated=True,
    ),
    # GPU stocks and specs
    Route(
        "gpu_stocks.list",
        "GET",
        "/gpu-stocks/",
        "GPUStocksResponse",
        payload="stocks",
        query=("region",),
    ),
    Route("gpu_specs.list", "GET", "/gpu-specs/", "GPUSpecsResponse", payload="gpu_specs"),
    # Regions
    Route("regions.list", "GET", "/regions/", "RegionsResponse", payload="regions"),
    # Pricing
    Route(
        "pricing.list",
        "GET",
        "/pricing/",
        "PricingResponse",
        payload="pricing_data",
        query=_PRICING_QUERY,
    ),
    Route(
        "pricing.quote",
        "POST",
        "/pricing/",
        "PricingResponse",
        payload="pricing_data",
        request="PricingRequest",
        query=_PRICING_QUERY,
        query_mirrors_body=True,
    ),
    # Instances
    Route(
        "instances.create",
        "POST",
        "/instances/",
        "DeploymentResponse",
        payload="instance",
        request="DeploymentRequest",
        status=201,
    ),
    Route(
        "instances.list",
        "GET",
        "/instances/",
        "ListVMsResponse",
        payload="instances",
        query=("status", "region", *_PAGE),
        paginated=True,
    ),
    Route(
        "instances.list_hibernated",
        "GET",
        "/instances/hibernated/",
        "GetHibernatedVMsResponse",
        payload="hibernated",
    ),
    Route(
        "instances.get", "GET", "/instances/{instance_id}/", "VMDetailsResponse", payload="instance"
    ),
    Route(
        "instances.billing",
        "GET",
        "/instances/{instance_id}/billing/",
        "AggregatedBillingResponse",
        payload="billing",
        query=("start", "end"),
    ),
    Route(
        "instances.start",
        "POST",
        "/instances/{instance_id}/start/",
        "StartVMResponse",
        payload=FLAT,
        status=202,
    ),
    Route(
        "instances.stop",
        "POST",
        "/instances/{instance_id}/stop/",
        "StopVMResponse",
        payload=FLAT,
        status=202,
    ),
    Route(
        "instances.reboot",
        "POST",
        "/instances/{instance_id}/reboot/",
        "RebootVMResponse",
        payload=FLAT,
        status=202,
    ),
    Route(
        "instances.hibernate",
        "POST",
        "/instances/{instance_id}/hibernate/",
        "HibernateVMResponse",
        payload=FLAT,
        status=202,
    ),
    Route(
        "instances.restore_hibernated",
        "POST",
        "/instances/{instance_id}/hibernate-restore/",
        "RestoreVMResponse",
        payload=FLAT,
        status=202,
    ),
    Route(
        "instances.toggle_public_ip",
        "POST",
        "/instances/{instance_id}/public-ip/",
        "ToggleVMPublicIPResponse",
        payload=FLAT,
        raw_body=("enabled",),
    ),
    Route(
        "instances.add_security_rule",
        "POST",
        "/instances/{instance_id}/security-rules/",
        "AddVMSecurityRuleResponse",
        payload=FLAT,
        request="VMSecurityRuleRequest",
        status=201,
    ),
    Route(
        "instances.remove_security_rule",
        "DELETE",
        "/instances/{instance_id}/security-rules/{rule_id}/",
        "RemoveVMSecurityRuleResponse",
        payload=FLAT,
    ),
    Route(
        "instances.delete", "DELETE", "/instances/{instance_id}/", "DeleteVMResponse", payload=FLAT
    ),
    Route(
        "instances.firewalls",
        "GET",
        "/instances/{instance_id}/firewalls/",
        "GetVMAttachedFirewallsResponse",
        payload="firewalls",
    ),
    Route(
        "instances.attach_volumes",
        "POST",
        "/instances/{instance_id}/volumes/attach/",
        "AttachVolumesResponse",
        payload="volumes",
        request="AttachVolumesRequest",
    ),
    Route(
        "instances.detach_volumes",
        "POST",
        "/instances/{instance_id}/volumes/detach/",
        "DetachVolumesResponse",
        payload="volumes",
        request="DetachVolumesRequest",
    ),
    # OS images
    Route(
        "os_images.list",
        "GET",
        "/os-images/",
        "OSImagesResponse",
        payload="os_images",
        query=("region",),
    ),
    # SSH keys
    Route("ssh_keys.list", "GET", "/ssh-keys/", "GetSSHKeysResponse", payload="ssh_keys"),
    Route("ssh_keys.get", "GET", "/ssh-keys/{key_id}/", "SSHKeyResponse", payload="ssh_key"),
    Route(
        "ssh_keys.create",
        "POST",
        "/ssh-keys/",
        "CreateSSHKeyResponse",
        payload="ssh_key",
        request="CreateSSHKeyRequest",
        status=201,
    ),
    Route("ssh_keys.delete", "DELETE", "/ssh-keys/{key_id}/", "DeleteSSHKeyResponse", payload=FLAT),
    # Volumes
    Route(
        "volumes.list",
        "GET",
        "/volumes/",
        "GetVolumesWithNextNameResponse",
        payload="volumes",
        query=("region",),
    ),
    Route(
        "volumes.create",
        "POST",
        "/volumes/",
        "CreateVolumeResponse",
        payload="volume",
        request="CreateVolumeRequest",
        status=201,
    ),
    Route(
        "volumes.get", "GET", "/volumes/{volume_id}/", "GetVolumeDetailsResponse", payload="volume"
    ),
    Route(
        "volumes.delete", "DELETE", "/volumes/{volume_id}/", "DeleteVolumeResponse", payload=FLAT
    ),
    Route(
        "volumes.resize",
        "POST",
        "/volumes/{volume_id}/resize/",
        "ResizeVolumeResponse",
        payload="volume",
        request="ResizeVolumeRequest",
    ),
    Route(
        "volumes.clone",
        "POST",
        "/volumes/{volume_id}/clone/",
        "CloneVolumeResponse",
        payload="volume",
        request="CloneVolumeRequest",
        status=201,
    ),
    Route(
        "volumes.types", "GET", "/volume-types/", "GetVolumeTypesResponse", payload="volume_types"
    ),
    Route(
        "volumes.billing",
        "GET",
        "/volumes/{volume_id}/billing/",
        "VolumeHourlyBillingResponse",
        payload="billing",
    ),
    # Firewalls
    Route("firewalls.list", "GET", "/firewalls/", "ListFirewallsResponse", payload="firewalls"),
    Route(
        "firewalls.protocols",
        "GET",
        "/firewalls/protocols/",
        "GetSupportedProtocolsResponse",
        payload="protocols",
    ),
    Route(
        "firewalls.get",
        "GET",
        "/firewalls/{firewall_id}/",
        "GetFirewallDetailsResponse",
        payload="firewall",
    ),
    Route(
        "firewalls.create",
        "POST",
        "/firewalls/",
        "CreateFirewallResponse",
        payload="firewall",
        request="CreateFirewallRequest",
        status=201,
    ),
    Route(
        "firewalls.delete",
        "DELETE",
        "/firewalls/{firewall_id}/",
        "DeleteFirewallResponse",
        payload=FLAT,
    ),
    Route(
        "firewalls.available_instances",
        "GET",
        "/firewalls/{firewall_id}/available-instances/",
        "FirewallVMListResponse",
        payload="instances",
    ),
    Route(
        "firewalls.add_rule",
        "POST",
        "/firewalls/{firewall_id}/rules/",
        "AddFirewallRuleResponse",
        payload="rule",
        request="AddFirewallRuleRequest",
        status=201,
    ),
    Route(
        "firewalls.remove_rule",
        "DELETE",
        "/firewalls/{firewall_id}/rules/{rule_id}/",
        "RemoveFirewallRuleResponse",
        payload=FLAT,
    ),
    Route(
        "firewalls.attach",
        "POST",
        "/firewalls/{firewall_id}/attach/",
        "AttachFirewallResponse",
        payload="attachments",
        request="AttachFirewallRequest",
    ),
    # Startup scripts
    Route("scripts.list", "GET", "/scripts/", "ScriptListResponse", payload="scripts"),
    Route("scripts.get", "GET", "/scripts/{script_id}/", "ScriptResponse", payload="script"),
    Route(
        "scripts.create",
        "POST",
        "/scripts/",
        "ScriptResponse",
        payload="script",
        request="CreateScriptRequest",
        status=201,
    ),
    Route(
        "scripts.update",
        "PUT",
        "/scripts/{script_id}/",
        "ScriptResponse",
        payload="script",
        request="UpdateScriptRequest",
    ),
    Route(
        "scripts.delete", "DELETE", "/scripts/{script_id}/", "DeleteScriptResponse", payload=FLAT
    ),
    Route(
        "scripts.delete_many",
        "POST",
        "/scripts/bulk-delete/",
        "DeleteScriptResponse",
        payload=FLAT,
        raw_body=("ids",),
    ),
    # Snapshots
    Route(
        "snapshots.list",
        "GET",
        "/snapshots/",
        "SnapshotListResponse",
        payload="snapshots",
        query=("region", "instance_id", *_PAGE),
        paginated=True,
    ),
    Route(
        "snapshots.eligible_instances",
        "GET",
        "/snapshots/eligible-instances/",
        "ListUserVMsResponse",
        payload="instances",
    ),
    Route(
        "snapshots.get", "GET", "/snapshots/{snapshot_id}/", "SnapshotResponse", payload="snapshot"
    ),
    Route(
        "snapshots.billing",
        "GET",
        "/snapshots/{snapshot_id}/billing/",
        "SnapshotBillingResponse",
        payload="billing",
    ),
    Route(
        "snapshots.create",
        "POST",
        "/snapshots/",
        "CreateSnapshotResponse",
        payload="snapshot",
        request="CreateSnapshotRequest",
        status=201,
    ),
    Route(
        "snapshots.delete",
        "DELETE",
        "/snapshots/{snapshot_id}/",
        "DeleteSnapshotResponse",
        payload=FLAT,
    ),
    Route(
        "snapshots.restore",
        "POST",
        "/snapshots/{snapshot_id}/restore/",
        "RestoreSnapshotResponse",
        payload="instance",
        request="RestoreSnapshotRequest",
        status=201,
    ),
    Route(
        "snapshots.image_relationship",
        "GET",
        "/snapshots/{snapshot_id}/image-relationship/",
        "SnapshotImageRelationshipResponse",
        payload="relationship",
    ),
    Route(
        "snapshots.image_relationships",
        "POST",
        "/snapshots/image-relationships/",
        "BatchSnapshotImageRelationshipResponse",
        payload="relationships",
        request="GetBatchSnapshotImageRelationshipsRequest",
    ),
    # Custom images
    Route("images.list", "GET", "/images/", "ImageListResponse", payload="images"),
    Route("images.get", "GET", "/images/{image_id}/", "ImageDetailResponse", payload="image"),
    Route(
        "images.create",
        "POST",
        "/images/",
        "ImageCreateResponse",
        payload="image",
        request="CreateImageFromSnapshotRequest",
        status=201,
    ),
    Route("images.delete", "DELETE", "/images/{image_id}/", "ImageDeleteResponse", payload=FLAT),
    # AI chat
    Route("ai.models", "GET", "/ai/models/", "ModelsResponse", payload="models"),
    Route(
        "ai.chat",
        "POST",
        "/ai/chat/completions/",
        "ChatCompletionsResponse",
        payload="completion",
        request="ChatCompletionsRequest",
    ),
    Route(
        "ai.usage_summary",
        "GET",
        "/ai/usage/summary/",
        "UsageSummaryResponse",
        payload="summary",
        query=("start", "end"),
    ),
    Route(
        "ai.usage_history",
        "GET",
        "/ai/usage/history/",
        "UsageHistoryResponse",
        payload="transactions",
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


def _payload_keys() -> dict[str, str | None]:
    keys: dict[str, str | None] = {}
    for spec in _ROUTE_LIST:
        if keys.setdefault(spec.response, spec.payload) != spec.payload:
            raise ValueError(f"{spec.response} answers under two payload keys")
    return keys


PAYLOAD_KEYS: Final[dict[str, str | None]] = _payload_keys()
"""Each response schema's payload key (None: flat), derived from the route table."""


def payload_key(schema: str) -> str | None:
    """The payload key of a response schema (None for a flat answer).

    Raises:
        KeyError: no route answers with that schema.
    """
    try:
        return PAYLOAD_KEYS[schema]
    except KeyError:
        raise KeyError(f"no Barrack route answers {schema!r}") from None
