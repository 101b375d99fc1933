"""Shapes shared by several groups: acknowledgements, paging, and rule requests."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from barrack._wire import DEFAULT_PER_PAGE, MAX_PER_PAGE
from barrack.models._base import BarrackModel, RequestModel
from barrack.models._rules import PORT_MAX, PORT_MIN, check_security_rule
from barrack.models._types import Description, require_known
from barrack.models.enums import DirectionEnum, EthertypeEnum, ProtocolEnum

__all__ = ["Data", "PageParams", "SecurityRuleRequestBase"]


class Data(BarrackModel):
    """A free-form ``data`` object: the answer of operations that only acknowledge (deletes).

    Extra fields are kept. Deletes of one resource carry its ``id``; bulk operations list
    the affected ``ids``.

    Attributes:
        id: the resource the operation touched, when there is one.
        ids: the resources a bulk operation touched.
    """

    id: str | None = None
    ids: list[str] = Field(default_factory=list)


class PageParams(RequestModel):
    """The ``page`` and ``per_page`` query parameters of a paginated list (B1)."""

    page: int = Field(default=1, ge=1, description="Page number, from 1.")
    per_page: int = Field(
        default=DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"Items per page, at most {MAX_PER_PAGE}.",
    )


class SecurityRuleRequestBase(RequestModel):
    """Fields and checks shared by instance security rules and firewall rules."""

    direction: Annotated[DirectionEnum, AfterValidator(require_known)] = Field(
        description="Traffic direction: ingress or egress."
    )
    protocol: Annotated[ProtocolEnum, AfterValidator(require_known)] = Field(
        description="TCP, UDP or ICMP; only TCP and UDP take ports."
    )
    ethertype: Annotated[EthertypeEnum, AfterValidator(require_known)] = Field(
        default=EthertypeEnum.IPV4, description="IP version: IPv4 or IPv6 (must match the CIDR)."
    )
    port_range_min: int | None = Field(
        default=None,
        ge=PORT_MIN,
        le=PORT_MAX,
        description="First port (1-65535), TCP/UDP only. Leave both ports empty for all ports.",
    )
    port_range_max: int | None = Field(
        default=None,
        ge=PORT_MIN,
        le=PORT_MAX,
        description="Last port (1-65535), at least port_range_min.",
    )
    remote_cidr: str | None = Field(
        default=None,
        description="Peer network such as 203.0.113.0/24 or ::/0; empty means anywhere.",
    )
    description: Description | None = Field(default=None, description="What the rule is for.")

    @model_validator(mode="after")
    def _check_rule(self) -> Self:
        problem = check_security_rule(
            protocol=self.protocol.value,
            ethertype=self.ethertype.value,
            port_range_min=self.port_range_min,
            port_range_max=self.port_range_max,
            remote_cidr=self.remote_cidr,
        )
        if problem is not None:
            raise ValueError(problem)
        return self
