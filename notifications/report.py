"""What a notifier call did, for the recipe's own report: per alert and per destination."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from notifications.alerts import AlertKind, Severity
from notifications.dedup import SendDecision
from notifications.delivery import DeliveryResult

__all__ = ["AlertOutcome", "DeliveryReport"]


class AlertOutcome(BaseModel):
    """What happened to one reported alert or clearance.

    Attributes:
        key: The dedup key (``kind|subject kind|subject id``).
        kind: The alert kind.
        subject: The subject, readable (``train-1 (BRK-1A2B3C4)``).
        severity: The severity reported (for a resolution: the one last sent; None when
            nothing was open).
        decision: new, escalated, repeat, suppressed, resolved or not-open.
        delivered: True when at least one destination accepted it.
        destinations: The masked destinations that accepted it.
        note: Why it was not delivered, when it was not.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    kind: AlertKind
    subject: str
    severity: Severity | None = None
    decision: SendDecision
    delivered: bool = False
    destinations: list[str] = Field(default_factory=list)
    note: str | None = None


class DeliveryReport(BaseModel):
    """The outcome of one :class:`~notifications.notifier.Notifier` call (returned, never raised).

    Attributes:
        outcomes: One per alert reported and per clearance.
        deliveries: One per message sent to a destination (fallbacks included).
        problems: Anything else that went wrong (the ledger could not be read, ...), masked.
    """

    model_config = ConfigDict(extra="forbid")

    outcomes: list[AlertOutcome] = Field(default_factory=list)
    deliveries: list[DeliveryResult] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def undelivered(self) -> list[AlertOutcome]:
        """Alerts that should have gone out but reached no destination."""
        return [o for o in self.outcomes if o.decision.sends and not o.delivered]

    @property
    def failed_deliveries(self) -> list[DeliveryResult]:
        """Sends a destination did not accept (including timeouts)."""
        return [d for d in self.deliveries if not d.ok]

    @property
    def ok(self) -> bool:
        """True when every alert due went out and nothing else went wrong.

        A failed destination does not make the report "not ok" when a fallback (or another
        destination) carried the alert; :attr:`failed_deliveries` still lists it.
        """
        return not self.undelivered and not self.problems

    def merge(self, other: DeliveryReport) -> DeliveryReport:
        """Both reports in one (a recipe that notifies several times per run)."""
        return DeliveryReport(
            outcomes=[*self.outcomes, *other.outcomes],
            deliveries=[*self.deliveries, *other.deliveries],
            problems=[*self.problems, *other.problems],
        )

    def summary(self) -> str:
        """One line, e.g. ``1 new, 2 suppressed; 1/2 deliveries ok; failed: json://... (...)``."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.decision.value] = counts.get(outcome.decision.value, 0) + 1
        alerts = ", ".join(f"{n} {decision}" for decision, n in counts.items()) or "no alerts"
        ok = sum(1 for d in self.deliveries if d.ok)
        text = f"{alerts}; {ok}/{len(self.deliveries)} deliveries ok"
        failed = [f"{d.destination} ({d.status.value}: {d.reason})" for d in self.failed_deliveries]
        if failed:
            text += "; failed: " + ", ".join(failed)
        if self.undelivered:
            text += f"; {len(self.undelivered)} alert(s) reached no destination"
        if self.problems:
            text += "; problems: " + "; ".join(self.problems)
        return text
