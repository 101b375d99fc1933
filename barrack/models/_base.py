"""Conventions every Barrack model follows.

* Responses accept unknown fields (the API may grow): they subclass :class:`BarrackModel`.
* Requests, policies and settings forbid unknown fields (a typo is an error, not a silent
  default): they subclass :class:`RequestModel`.
* Enums are open: a value the API adds later (a new GPU model, a new status) parses into a
  pseudo-member instead of failing the whole list call. ``Enum.is_known`` tells them apart.
* Money is :class:`decimal.Decimal`. On the wire it is a JSON number, read from the
  number's own text (never through a float, see ``barrack._json``) and written exactly.
  Anywhere else (artifacts, state files) it is written as a decimal string.
* Timestamps are timezone-aware and normalised to UTC; RFC 3339 strings and Unix seconds
  are both read.
* A success answer is ``success``, ``message``, ``request_id`` and either one payload key
  named for the resource (:class:`Envelope`) or flat fields (:class:`FlatResponse`). The
  payload key of each schema comes from the route table (``barrack._wire``); in Python the
  payload is always ``.payload``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from functools import cache
from typing import Annotated, Any, Final, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from barrack._wire import PAYLOAD_KEYS

__all__ = [
    "WIRE_CONTEXT",
    "WIRE_MONEY_MARK",
    "BarrackModel",
    "DataT",
    "Envelope",
    "ErrorBody",
    "ErrorResponse",
    "FlatResponse",
    "Money",
    "OpenEnum",
    "OpenIntEnum",
    "Pagination",
    "RequestModel",
    "UTCDateTime",
]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _unix_seconds(value: Any) -> Any:
    """Unix seconds read exactly as a Decimal (``barrack._json``) become a float first."""
    return float(value) if isinstance(value, Decimal) else value


UTCDateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_unix_seconds),
    AfterValidator(_to_utc),
    PlainSerializer(_rfc3339, return_type=str, when_used="json"),
]
"""A timezone-aware timestamp, normalised to UTC, written as RFC 3339 with ``Z``."""

WIRE_CONTEXT: Final = "barrack_wire"
"""Serialisation context flag: set by ``barrack._json.dump_wire`` for bodies on the wire."""
WIRE_MONEY_MARK: Final = "\x00barrack-money:"
"""Prefix of a money value in a wire dump, replaced by the bare number afterwards."""


def _money_json(value: Decimal, info: SerializationInfo) -> str:
    if info.context and info.context.get(WIRE_CONTEXT):
        return f"{WIRE_MONEY_MARK}{value}"
    return str(value)


Money = Annotated[
    Decimal,
    PlainSerializer(_money_json, return_type=str, when_used="json"),
]
"""An amount in the account currency: a ``Decimal`` in Python, a JSON number on the wire
(exactly its digits), a decimal string in every other JSON (artifacts, state files)."""


class OpenEnum(StrEnum):
    """A string enum that still parses values it does not know.

    ``VMStatus("MIGRATING")`` returns a pseudo-member whose ``is_known`` is False, so a
    response carrying a status added after this client was written still parses. Code that
    acts on a status must treat unknown members as "not safe to act on".
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str) or not value:
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper().replace("-", "_").replace(" ", "_")
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """True when the value is one this client was written for."""
        return self._value_ in type(self)._value2member_map_


class OpenIntEnum(IntEnum):
    """An integer enum that still parses values it does not know (the int twin of OpenEnum).

    ``GpuCountEnum(16)`` returns a pseudo-member named ``VALUE_16`` whose ``is_known`` is
    False. Booleans never become pseudo-members (``True`` equals 1, so it finds member 1).
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        member = int.__new__(cls, value)
        member._name_ = f"VALUE_{value}"
        member._value_ = value
        return member

    @property
    def is_known(self) -> bool:
        """True when the value is one this client was written for."""
        return self._value_ in type(self)._value2member_map_


class BarrackModel(BaseModel):
    """Base of every model read from the API: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestModel(BaseModel):
    """Base of every model sent to the API: unknown fields and bad values are errors."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False)


DataT = TypeVar("DataT")


class Pagination(BarrackModel):
    """Where a page sits in a paginated list (B1)."""

    page: int
    per_page: int
    total: int
    total_pages: int


@cache
def _schema_payload_key(model: type[BaseModel]) -> str | None:
    """The payload key of a response schema, found by name along its bases.

    A base that no route answers with (``VMResponse``) names its key in ``wire_payload_key``.
    """
    for klass in model.__mro__:
        if klass.__name__ in PAYLOAD_KEYS:
            return PAYLOAD_KEYS[klass.__name__]
        declared = klass.__dict__.get("wire_payload_key")
        if isinstance(declared, str):
            return declared
    return "payload"


class Envelope(BarrackModel, Generic[DataT]):
    """A success answer whose payload sits under one key named for the resource.

    On the wire: ``{"success": true, "message": ..., "<key>": <payload>, "request_id": ...}``
    (plus ``pagination`` beside a list). The key is the route table's (``instances``,
    ``pricing_data``...); in Python it is always ``.payload``.
    """

    success: bool = True
    message: str | None = None
    payload: DataT
    pagination: Pagination | None = None
    request_id: str | None = None

    @classmethod
    def payload_key(cls) -> str | None:
        """The wire key of this schema's payload."""
        return _schema_payload_key(cls)

    @model_validator(mode="before")
    @classmethod
    def _payload_from_wire(cls, value: Any) -> Any:
        key = _schema_payload_key(cls)
        if isinstance(value, dict) and key and key != "payload" and "payload" not in value:
            if key not in value:
                raise ValueError(f"no {key!r} in the answer (its payload key)")
            value = dict(value)
            value["payload"] = value.pop(key)
        return value

    @model_serializer(mode="wrap")
    def _payload_to_wire(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        key = _schema_payload_key(type(self))
        if isinstance(data, dict) and key and "payload" in data:
            data = {
                k: v
                for k, v in data.items()
                if k != "payload" and not (k == "pagination" and v is None)
            } | {key: data["payload"]}
        return data


class FlatResponse(BarrackModel):
    """A success answer whose fields sit beside ``success`` (actions, deletes; Part C's
    ``RemoveVMSecurityRuleResponse``)."""

    success: bool = True
    message: str | None = None
    request_id: str | None = None


class ErrorBody(BarrackModel):
    """The ``error`` object of an :class:`ErrorResponse` (guessed, in Part C's style)."""

    code: str
    details: dict[str, Any] | None = None
    message: str | None = None


class ErrorResponse(BarrackModel):
    """A failed answer: ``{"success": false, "message": ..., "error": {"code", "details"},
    "request_id": ...}``.

    The ``error`` object is the project's guess; an answer without one still reads (its
    code then comes from the HTTP status).
    """

    success: bool = False
    message: str | None = None
    error: ErrorBody | None = None
    request_id: str | None = None
