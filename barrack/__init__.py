"""A typed, async client for the whole Barrack GPU cloud API.

Example:
    >>> from barrack import AsyncBarrack
    >>> async with AsyncBarrack() as client:  # reads BARRACK_API_KEY  # doctest: +SKIP
    ...     print((await client.balance.get()).balance)
"""

from barrack._client import AsyncBarrack
from barrack._exceptions import (
    APIConnectionError,
    APIRefusedError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    APIUnreachableError,
    AuthenticationError,
    BadRequestError,
    BarrackError,
    ConfigurationError,
    ConflictError,
    DuplicateNameError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidNameFormatError,
    InvalidSnapshotStatusError,
    InvalidStateError,
    Layer2ValidationError,
    NotFoundError,
    OutOfStockError,
    ProfileIncompleteError,
    RateLimitError,
    RegionIncompatibleError,
    RequestValidationError,
    ServerError,
    ServiceUnavailableError,
    SnapshotDeletedError,
    UnprocessableEntityError,
    scrub,
)
from barrack._pagination import AsyncPaginator, Page
from barrack._ratelimit import RateLimiter
from barrack._retry import RetryPolicy, is_retryable, parse_retry_after
from barrack._settings import BarrackSettings
from barrack._version import __version__

__all__ = [
    "APIConnectionError",
    "APIRefusedError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "APIUnreachableError",
    "AsyncBarrack",
    "AsyncPaginator",
    "AuthenticationError",
    "BadRequestError",
    "BarrackError",
    "BarrackSettings",
    "ConfigurationError",
    "ConflictError",
    "DuplicateNameError",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidNameFormatError",
    "InvalidSnapshotStatusError",
    "InvalidStateError",
    "Layer2ValidationError",
    "NotFoundError",
    "OutOfStockError",
    "Page",
    "ProfileIncompleteError",
    "RateLimitError",
    "RateLimiter",
    "RegionIncompatibleError",
    "RequestValidationError",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "SnapshotDeletedError",
    "UnprocessableEntityError",
    "__version__",
    "is_retryable",
    "parse_retry_after",
    "scrub",
]
