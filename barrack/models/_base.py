"""Conventions every Barrack model follows.

* Responses accept unknown fields (the API may grow): they subclass :class:`BarrackModel`.
* Requests, policies and settings forbid unknown fields (a typo is an error, not a silent
  default): they subclass :class:`RequestModel`.
* Enums are open: a value the API adds later (a new GPU model, a new status) parses into a
  pseudo-member instead of failing the whole list call. ``Enum.is_known`` tells them apart.
* Money is :class:`decimal.Decimal`, sent and received as a decimal string.
* Timestamps are timezone-aware and normalised to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    PlainSerializer,
)

__all__ = [
    "BarrackModel",
    "DataT",
    "Envelope",
    "ErrorBody",
    "ErrorResponse",
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


UTCDateTime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(_rfc3339, return_type=str, when_used="json"),
]
"""A timezone-aware timestamp, normalised to UTC, written as RFC 3339 with ``Z``."""

Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value), return_type=str, when_used="json"),
]
"""An amount in the account currency: a ``Decimal`` in Python, a decimal string on the wire."""


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


class Envelope(BarrackModel, Generic[DataT]):
    """The B1 success envelope; every ``*Response`` schema is this with a typed ``data``."""

    success: bool = True
    message: str | None = None
    data: DataT
    pagination: Pagination | None = None


class ErrorBody(BarrackModel):
    """The ``error`` object of an :class:`ErrorResponse`."""

    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorResponse(BarrackModel):
    """The B1 error envelope: ``{"success": false, "error": {...}, "request_id": ...}``."""

    success: bool = False
    error: ErrorBody
    request_id: str | None = None
