"""What a recipe reports: an :class:`Alert` about one subject, of one kind, at one severity.

An alert is data, not a message: rendering (:mod:`notifications.render`) turns it into a
title and body per destination, routing (:mod:`notifications.routing`) picks where it goes,
and the dedup ledger (:mod:`notifications.dedup`) decides whether it goes out at all.

Example:
    >>> from decimal import Decimal
    >>> from datetime import timedelta
    >>> alert = Alert(
    ...     kind=AlertKind.LOW_BALANCE,
    ...     severity=Severity.CRITICAL,
    ...     subject=Subject.for_account("acme"),
    ...     facts={"balance": Amount(value=Decimal("4.20"), currency="USD"),
    ...            "runway": timedelta(hours=7.5)},
    ... )
    >>> alert.key.id
    'low-balance|account|acme'
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from notifications.text import format_money

__all__ = [
    "Alert",
    "AlertKey",
    "AlertKind",
    "Amount",
    "FactValue",
    "Severity",
    "Subject",
    "SubjectKind",
]


class Severity(StrEnum):
    """How urgent an alert is; ordered ``info < warning < critical``.

    The values compare by urgency, not alphabetically, so ``max(severities)`` is the worst.
    """

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for critical."""
        return _SEVERITY_RANK[self.value]

    # str already defines the comparisons (alphabetically, which would put "critical"
    # first), so each one is overridden rather than filled in by functools.total_ordering.
    def __lt__(self, other: str) -> bool:
        return self.rank < Severity(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Severity(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Severity(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Severity(other).rank


_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class AlertKind(StrEnum):
    """What happened. The value is also the routing tag suffix: ``kind:<value>``."""

    SNAPSHOT_FAILED = "snapshot-failed"
    SNAPSHOT_CREATED = "snapshot-created"
    RETENTION_BLOCKED = "retention-blocked"
    SNAPSHOT_STALE = "snapshot-stale"
    IDLE_WARNING = "idle-warning"
    HIBERNATED = "hibernated"
    HIBERNATE_FAILED = "hibernate-failed"
    RESTORE_FINISHED = "restore-finished"
    RESTORE_FAILED = "restore-failed"
    DRILL_FAILED = "drill-failed"
    DRILL_SUCCEEDED = "drill-succeeded"
    LOW_BALANCE = "low-balance"
    BALANCE_RESOLVED = "balance-resolved"
    SPEND_ANOMALY = "spend-anomaly"
    SPEND_DIGEST = "spend-digest"
    FLOW_FAILED = "flow-failed"
    GENERIC = "generic"


class SubjectKind(StrEnum):
    """What an alert is about."""

    INSTANCE = "instance"
    REGION = "region"
    ACCOUNT = "account"
    FLOW = "flow"


class _Frozen(BaseModel):
    """Alert data is a value: unknown fields are typos, and nothing changes after creation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Subject(_Frozen):
    """The thing an alert is about: an instance, a region, the account, or a flow.

    ``id`` is what dedup keys on (an instance id, a region name, an account name, a flow
    name); ``name`` and ``region`` only make messages readable.
    """

    kind: SubjectKind
    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, max_length=100)

    @classmethod
    def for_instance(
        cls, id: str, *, name: str | None = None, region: str | None = None
    ) -> Subject:
        """An instance, e.g. ``Subject.for_instance("BRK-1A2B3C4", name="train-1")``."""
        return cls(kind=SubjectKind.INSTANCE, id=id, name=name, region=region)

    @classmethod
    def for_region(cls, region: str) -> Subject:
        """A whole region, e.g. ``Subject.for_region("CANADA-1")``."""
        return cls(kind=SubjectKind.REGION, id=region, region=region)

    @classmethod
    def for_account(cls, id: str = "account", *, name: str | None = None) -> Subject:
        """The Barrack account (balance, profile)."""
        return cls(kind=SubjectKind.ACCOUNT, id=id, name=name)

    @classmethod
    def for_flow(cls, flow_name: str) -> Subject:
        """A Prefect flow (not one run of it: repeated failures of a flow are one alert)."""
        return cls(kind=SubjectKind.FLOW, id=flow_name)

    @property
    def label(self) -> str:
        """``train-1 (BRK-1A2B3C4)`` when a name is known, else the id."""
        if self.name and self.name != self.id:
            return f"{self.name} ({self.id})"
        return self.id


class Amount(_Frozen):
    """Money with its currency, rendered as ``USD 4.20``."""

    value: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD, EUR, INR")

    def __str__(self) -> str:
        return format_money(self.value, self.currency)


FactValue = str | int | float | bool | Decimal | Amount | timedelta | AwareDatetime | list[str]
"""A fact's value. Amounts render with their currency, durations in hours, times in UTC."""


class AlertKey(_Frozen):
    """What dedup and resolve key on: the kind and the subject, not the severity."""

    kind: AlertKind
    subject: Subject

    @property
    def id(self) -> str:
        """A stable string, e.g. ``snapshot-failed|instance|BRK-1A2B3C4``."""
        return f"{self.kind.value}|{self.subject.kind.value}|{self.subject.id}"


class Alert(_Frozen):
    """One condition a recipe wants a person to know about.

    Attributes:
        kind: What happened.
        severity: How urgent; decides routing (see :mod:`notifications.routing`).
        subject: What it is about; with ``kind`` it forms the dedup key.
        title: A short specific title; left out, one is derived from kind and subject.
        facts: Ordered label -> value pairs a person acts on (error, amount, runway...).
            Keys in ``snake_case`` are shown as ``Snake case``; other keys as written.
        flow_run_url: Link to the Prefect flow run that raised the alert.
    """

    kind: AlertKind
    severity: Severity
    subject: Subject
    title: str | None = Field(default=None, min_length=1, max_length=200)
    facts: dict[Annotated[str, Field(min_length=1, max_length=100)], FactValue] = Field(
        default_factory=dict
    )
    flow_run_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)

    @field_validator("title")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or "\r" in value):
            raise ValueError("title must be a single line")
        return value

    @property
    def key(self) -> AlertKey:
        """The dedup key of this alert."""
        return AlertKey(kind=self.kind, subject=self.subject)

    def with_changes(self, **changes: Any) -> Alert:
        """A validated copy with some fields replaced."""
        return Alert.model_validate({**self.model_dump(), **changes})
