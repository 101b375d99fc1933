"""Behaviour switches of a running simulator (``PUT /_sim/settings``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from barrack._wire import DEFAULT_AUTH_HEADER

__all__ = ["SimSettings"]


class SimSettings(BaseModel):
    """What the simulator does beyond the API's rules; change it with ``PUT /_sim/settings``.

    Attributes:
        rate_limit_per_second: token-bucket rate per API key; 0 or None turns limiting off.
        rate_limit_burst: bucket size; None means one second's worth of tokens.
        idempotency_replay: replay the first response of a POST repeated with the same
            ``Idempotency-Key`` within ``idempotency_ttl_hours``.
        idempotency_ttl_hours: how long (simulated) a key is remembered.
        depletion_stop: stop ``ACTIVE`` instances when the balance reaches zero (B6).
        depletion_delete_after_hours: delete instances when the balance has stayed at or
            below zero this long; None never deletes.
        transition_error_rate: chance (0-1, seeded) that a transition ends in ``ERROR``.
        layer2_fail_regions: regions where a restore fails layer-2 validation (422).
        auth_header: the header that must carry the API key: ``Authorization`` (as
            ``Bearer <key>``) or another name (``X-API-Key``, ``api_key``) with the bare key.
        payload_keys: answer these operations under another payload key than the route
            table's (``{"instances.list": "vms"}``), to see what a client or ``doctor``
            makes of an API that differs from the contract.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    rate_limit_per_second: float | None = Field(default=20.0, ge=0)
    rate_limit_burst: int | None = Field(default=None, ge=1)
    idempotency_replay: bool = True
    idempotency_ttl_hours: float = Field(default=24.0, gt=0)
    depletion_stop: bool = True
    depletion_delete_after_hours: float | None = Field(default=24.0, ge=0)
    transition_error_rate: float = Field(default=0.0, ge=0, le=1)
    layer2_fail_regions: list[str] = Field(default_factory=list)
    auth_header: str = Field(default=DEFAULT_AUTH_HEADER, pattern=r"^[A-Za-z0-9_-]+$")
    payload_keys: dict[str, str] = Field(default_factory=dict)

    @property
    def rate_limited(self) -> bool:
        """True when requests are rate limited."""
        return bool(self.rate_limit_per_second)
