"""The wire table, public: for code that speaks to the API outside the client.

``barrack._wire`` holds every wire detail (paths, payload keys, envelopes, headers) and
``barrack._json`` reads and writes bodies with exact money; the client, the models and
the simulator use them directly. Tools that check or drive the API from outside
(``barrack-ops doctor``, the ``make up`` stack's health checks, the benchmarks, the
tests) take the same names from here, so they follow any change of the table.
"""

from barrack._json import dump_wire, load_wire
from barrack._wire import (
    API_PREFIX,
    AUTH_HEADER_CHOICES,
    DEFAULT_AUTH_HEADER,
    DEFAULT_BASE_URL,
    ENVELOPE_FIELDS,
    ERROR_STATUS,
    FLAT,
    HEADER_IDEMPOTENCY_KEY,
    HEADER_RATELIMIT_LIMIT,
    HEADER_RATELIMIT_REMAINING,
    HEADER_RATELIMIT_RESET,
    HEADER_REQUEST_ID,
    HEADER_RETRY_AFTER,
    MAX_PER_PAGE,
    PAYLOAD_KEYS,
    PROMETHEUS_PREFIX,
    ROUTES,
    Route,
    auth_header_value,
    payload_key,
    route,
)

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
    "dump_wire",
    "load_wire",
    "payload_key",
    "route",
]
