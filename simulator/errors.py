"""The simulator's typed errors: every rule the backend enforces fails with one of these.

Each class carries one B2 ``error.code``; its HTTP status comes from
``barrack._wire.ERROR_STATUS`` (never written here), and :meth:`SimError.to_response`
turns it into the contract's ``ErrorResponse``::

    SimError
    ├── ValidationFailed          400 VALIDATION_ERROR
    ├── Unauthorized              401 UNAUTHORIZED
    ├── InsufficientCredits       402 INSUFFICIENT_CREDITS
    ├── ProfileIncomplete         403 PROFILE_INCOMPLETE
    ├── NotFound                  404 NOT_FOUND
    ├── DuplicateName             409 DUPLICATE_NAME
    ├── InvalidState              409 INVALID_STATE
    ├── InvalidSnapshotStatus     409 INVALID_SNAPSHOT_STATUS
    ├── OutOfStock                409 OUT_OF_STOCK
    ├── SnapshotDeleted           410 SNAPSHOT_DELETED
    ├── InvalidNameFormat         422 INVALID_NAME_FORMAT
    ├── RegionIncompatible        422 REGION_INCOMPATIBLE
    ├── Layer2ValidationFailed    422 LAYER2_VALIDATION_FAILED
    ├── RateLimited               429 RATE_LIMITED
    ├── InternalError             500 INTERNAL
    └── Unavailable               503 UNAVAILABLE
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from barrack._wire import ERROR_STATUS
from barrack.models import ErrorBody, ErrorResponse

__all__ = [
    "DuplicateName",
    "InsufficientCredits",
    "InternalError",
    "InvalidNameFormat",
    "InvalidSnapshotStatus",
    "InvalidState",
    "Layer2ValidationFailed",
    "NotFound",
    "OutOfStock",
    "ProfileIncomplete",
    "RateLimited",
    "RegionIncompatible",
    "SimError",
    "SnapshotDeleted",
    "Unauthorized",
    "Unavailable",
    "ValidationFailed",
    "error_class_for_status",
]


class SimError(Exception):
    """A rule was broken; serialises to the contract's ``ErrorResponse``.

    Args:
        message: what went wrong, for people.
        details: machine-readable facts (the field, the current status, ...).
    """

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        """The HTTP status of this error's code (B2)."""
        return ERROR_STATUS[self.code]

    def to_response(self, request_id: str | None) -> ErrorResponse:
        """The ``ErrorResponse`` body for this error."""
        return ErrorResponse(
            error=ErrorBody(code=self.code, message=self.message, details=self.details),
            request_id=request_id,
        )


class ValidationFailed(SimError):
    """A request is malformed: ``details.field`` names the first bad field."""

    code = "VALIDATION_ERROR"

    def __init__(
        self, field: str, problem: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        details: dict[str, Any] = {"field": field, "problem": problem}
        if errors:
            details["errors"] = errors
        super().__init__(f"{field}: {problem}", details)


class Unauthorized(SimError):
    """Missing or wrong bearer token."""

    code = "UNAUTHORIZED"


class InsufficientCredits(SimError):
    """The balance is below the minimum needed to create a resource."""

    code = "INSUFFICIENT_CREDITS"


class ProfileIncomplete(SimError):
    """The account profile lacks a name, address, postal code or country."""

    code = "PROFILE_INCOMPLETE"


class NotFound(SimError):
    """No such resource; ``details`` name its kind and id."""

    code = "NOT_FOUND"

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(
            f"{resource} {resource_id!r} not found",
            {"resource": resource, "id": resource_id},
        )


class DuplicateName(SimError):
    """Another resource of the same kind already has this name."""

    code = "DUPLICATE_NAME"

    def __init__(self, resource: str, name: str, existing_id: str) -> None:
        super().__init__(
            f"a {resource} named {name!r} already exists",
            {"resource": resource, "name": name, "existing_id": existing_id},
        )


class InvalidState(SimError):
    """The action is not allowed from the resource's current state."""

    code = "INVALID_STATE"

    def __init__(
        self,
        resource: str,
        resource_id: str,
        current_status: str,
        allowed: Iterable[str],
        message: str | None = None,
        **extra: Any,
    ) -> None:
        allowed_list = sorted(allowed)
        super().__init__(
            message
            or (
                f"{resource} {resource_id} is {current_status}; "
                f"allowed from {', '.join(allowed_list) or 'no state'}"
            ),
            {
                "resource": resource,
                "id": resource_id,
                "current_status": current_status,
                "allowed": allowed_list,
                **extra,
            },
        )


class InvalidSnapshotStatus(SimError):
    """The snapshot is not ready (``SUCCESS``)."""

    code = "INVALID_SNAPSHOT_STATUS"


class OutOfStock(SimError):
    """Not enough free GPUs of the model in the region."""

    code = "OUT_OF_STOCK"


class SnapshotDeleted(SimError):
    """The snapshot existed but has been deleted."""

    code = "SNAPSHOT_DELETED"


class InvalidNameFormat(SimError):
    """A name breaks its kind's rule (``barrack.models._rules``)."""

    code = "INVALID_NAME_FORMAT"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem, {"field": field, "problem": problem})


class RegionIncompatible(SimError):
    """The target region does not offer the GPU model."""

    code = "REGION_INCOMPATIBLE"


class Layer2ValidationFailed(SimError):
    """The target region's network cannot take the restored instance."""

    code = "LAYER2_VALIDATION_FAILED"


class RateLimited(SimError):
    """Too many requests; the HTTP layer adds ``Retry-After``."""

    code = "RATE_LIMITED"


class InternalError(SimError):
    """An injected (or genuine) server error."""

    code = "INTERNAL"


class Unavailable(SimError):
    """An injected outage."""

    code = "UNAVAILABLE"


_BY_STATUS: dict[int, type[SimError]] = {}
for _cls in (
    ValidationFailed,
    Unauthorized,
    InsufficientCredits,
    ProfileIncomplete,
    NotFound,
    InvalidState,
    SnapshotDeleted,
    InvalidNameFormat,
    RateLimited,
    InternalError,
    Unavailable,
):
    _BY_STATUS.setdefault(ERROR_STATUS[_cls.code], _cls)


def error_class_for_status(status: int) -> type[SimError]:
    """The error class an injected fault of this HTTP status is reported as.

    Statuses with no B2 code (502, 504, ...) are reported as ``UNAVAILABLE`` bodies with
    that status (the fault injector keeps the status it was given).
    """
    return _BY_STATUS.get(status, Unavailable)
