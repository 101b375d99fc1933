"""Turn raw request parts into validated input, or into the contract's 400/422 errors.

Bodies are validated by the very request models the client sends (``barrack.models``),
so a field the client would reject the simulator rejects too, with the field named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from barrack import models as barrack_models
from barrack._wire import Route
from barrack.models import OpenEnum, OpenIntEnum, PageParams, RegionEnum, VMStatus
from barrack.models._rules import NameKind
from simulator.errors import InvalidNameFormat, ValidationFailed
from simulator.timeparse import parse_time

__all__ = [
    "RAW_BODY_MODELS",
    "BulkDeleteBody",
    "Query",
    "TogglePublicIPBody",
    "parse_body",
    "parse_query",
    "validation_failed",
]

NAME_KINDS: Final[dict[str, NameKind]] = {
    "DeploymentRequest": "instance",
    "RestoreSnapshotRequest": "instance",
    "CreateSnapshotRequest": "snapshot",
    "CreateFirewallRequest": "firewall",
    "CreateSSHKeyRequest": "ssh_key",
    "CreateVolumeRequest": "volume",
    "CloneVolumeRequest": "volume",
    "CreateImageFromSnapshotRequest": "image",
    "CreateScriptRequest": "script",
    "UpdateScriptRequest": "script",
}
"""Which name rule a request's ``name`` follows: a broken one is 422, not 400."""

_CATALOG_ENUMS: Final = (RegionEnum, barrack_models.GpuModelEnum)
"""Open enums the backend checks against its own catalog (regions, GPU models)."""


class TogglePublicIPBody(BaseModel):
    """``POST /instances/{id}/public-ip``."""

    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool


class BulkDeleteBody(BaseModel):
    """``POST /scripts/bulk-delete``."""

    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1)


RAW_BODY_MODELS: Final[dict[str, type[BaseModel]]] = {
    "instances.toggle_public_ip": TogglePublicIPBody,
    "scripts.delete_many": BulkDeleteBody,
}
"""Models of the ad-hoc bodies the route table lists as ``raw_body`` keys."""


def _field(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def validation_failed(exc: ValidationError, name_kind: NameKind | None = None) -> Exception:
    """The contract's error for a failed validation.

    A body whose only problem is a badly formed name gets 422 INVALID_NAME_FORMAT; any
    other problem 400 VALIDATION_ERROR naming the first bad field (all are in details).
    """
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    listed = [
        {"field": _field(tuple(e["loc"])), "problem": _problem(e["type"], e["msg"])} for e in errors
    ]
    if name_kind is not None and all(
        e["loc"] == ("name",) and e["type"] == "value_error" for e in errors
    ):
        return InvalidNameFormat("name", listed[0]["problem"])
    first = listed[0]
    return ValidationFailed(first["field"], first["problem"], listed if len(listed) > 1 else None)


def _problem(kind: str, message: str) -> str:
    if kind == "json_invalid":
        return f"the body is not valid JSON ({message.removeprefix('Invalid JSON: ')})"
    if kind == "extra_forbidden":
        return "unknown field"
    return message.removeprefix("Value error, ")


def parse_body(route: Route, raw: bytes) -> Any:
    """The validated body of a request (a model), or None for operations without one.

    Raises:
        ValidationFailed: malformed JSON, wrong types, unknown fields, missing body.
        InvalidNameFormat: the ``name`` breaks its rule.
    """
    model: type[BaseModel] | None = None
    if route.request is not None:
        model = getattr(barrack_models, route.request)
    elif route.raw_body:
        model = RAW_BODY_MODELS[route.operation]
    if model is None:
        if raw.strip() not in (b"", b"{}", b"null"):
            raise ValidationFailed("body", f"{route.operation} takes no body")
        return None
    if not raw.strip():
        raise ValidationFailed("body", "a JSON body is required")
    try:
        parsed = model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_failed(exc, NAME_KINDS.get(model.__name__)) from None
    _reject_unknown_members(parsed, "")
    return parsed


def _reject_unknown_members(value: Any, where: str) -> None:
    """Open enums let any string through; the simulator knows the full list."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _reject_unknown_members(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_unknown_members(item, f"{where}[{index}]")
    elif (
        isinstance(value, OpenEnum | OpenIntEnum)
        and not isinstance(value, _CATALOG_ENUMS)
        and not value.is_known
    ):
        raise ValidationFailed(where, f"{value.value!r} is not one of {_known_values(type(value))}")


def _known_values(enum: type[Enum]) -> list[Any]:
    return [member.value for member in enum]


class Query:
    """The query parameters an operation accepts, validated."""

    __slots__ = ("page", "per_page", "values")

    def __init__(self, values: dict[str, str], page: int, per_page: int) -> None:
        self.values = values
        self.page = page
        self.per_page = per_page

    def text(self, name: str) -> str | None:
        """A parameter as given, or None."""
        return self.values.get(name)

    def time(self, name: str) -> datetime | None:
        """A time parameter (RFC 3339 or Unix seconds), or None."""
        text = self.values.get(name)
        if text is None:
            return None
        try:
            return parse_time(text)
        except ValueError as exc:
            raise ValidationFailed(name, str(exc)) from None

    def status(self) -> str | None:
        """The ``status`` filter, which must be a known instance status."""
        text = self.values.get("status")
        if text is not None and not VMStatus(text).is_known:
            raise ValidationFailed("status", f"{text!r} is not one of {_known_values(VMStatus)}")
        return text


_DEFAULT_PAGE: Final = PageParams()


def parse_query(route: Route, params: Mapping[str, str]) -> Query:
    """Keep the parameters ``route`` accepts (others are ignored) and check paging."""
    values = {name: params[name] for name in route.query if params.get(name)}
    if not route.paginated:
        return Query(values, _DEFAULT_PAGE.page, _DEFAULT_PAGE.per_page)
    paging = {k: values.pop(k) for k in ("page", "per_page") if k in values}
    if not paging:
        return Query(values, _DEFAULT_PAGE.page, _DEFAULT_PAGE.per_page)
    try:
        page = PageParams.model_validate(paging)
    except ValidationError as exc:
        raise validation_failed(exc) from None
    return Query(values, page.page, page.per_page)


def loads(raw: bytes, field: str = "body") -> Any:
    """Parse JSON, or fail with VALIDATION_ERROR naming ``field``."""
    try:
        return json.loads(raw) if raw.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(field, f"the body is not valid JSON ({exc})") from None
