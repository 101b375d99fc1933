"""Which destinations receive an alert, decided from the destinations' tags.

A destination receives an alert when ANY of its tags lets it through (the tags are OR-ed,
like a list of tags in apprise):

======================  ==========================================================
tag                     receives
======================  ==========================================================
(no tags)               every alert (``untagged`` threshold, default ``info``)
``all``, ``info``       every alert
``warning``             warning and critical alerts
``critical``            critical alerts
``kind:<kind>``         alerts of that kind at any severity, e.g. ``kind:low-balance``
``fallback``            nothing at first; alerts whose primary destinations all failed
                        (its other tags, if any, narrow which of those it takes)
your own tags           what ``RoutingRules.severity_tags`` maps them to,
                        e.g. ``{"pager": "critical"}``
======================  ==========================================================

A tag that routes nothing is a configuration error: ``critcal`` is a typo, not a
destination that should silently stay quiet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from notifications.alerts import Alert, AlertKind, Severity

__all__ = ["KIND_TAG_PREFIX", "RoutingRules"]

KIND_TAG_PREFIX: Final = "kind:"

DEFAULT_SEVERITY_TAGS: Final = {
    "all": Severity.INFO,
    "info": Severity.INFO,
    "warning": Severity.WARNING,
    "critical": Severity.CRITICAL,
}


class RoutingRules(BaseModel):
    """The tag -> alert mapping. The defaults are the table in the module docstring.

    Attributes:
        severity_tags: Tag -> the lowest severity it receives. Merged over the defaults by
            :meth:`with_routes`.
        untagged: The lowest severity a destination without tags receives; ``None`` makes
            untagged destinations receive nothing.
        fallback_tag: Marks destinations used only when every primary destination failed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity_tags: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_TAGS))
    untagged: Severity | None = Severity.INFO
    fallback_tag: str = "fallback"

    @field_validator("severity_tags")
    @classmethod
    def _lowercase_plain_tags(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        for tag in value:
            if tag != tag.lower() or tag.startswith(KIND_TAG_PREFIX) or not tag:
                raise ValueError(
                    f"severity tag {tag!r} must be lowercase and not start with 'kind:'"
                )
        return value

    def with_routes(self, routes: dict[str, Severity]) -> RoutingRules:
        """These rules plus extra tag -> severity routes (overriding same-named ones)."""
        return RoutingRules(
            severity_tags={**self.severity_tags, **routes},
            untagged=self.untagged,
            fallback_tag=self.fallback_tag,
        )

    def is_fallback(self, tags: frozenset[str]) -> bool:
        """True for a destination that only receives when primaries failed."""
        return self.fallback_tag in tags

    def accepts(self, tags: frozenset[str], alert: Alert) -> bool:
        """Whether a destination with ``tags`` receives ``alert`` as a primary destination."""
        if self.is_fallback(tags):
            return False
        return self._matches(tags, alert)

    def accepts_as_fallback(self, tags: frozenset[str], alert: Alert) -> bool:
        """Whether a fallback destination takes ``alert`` once its primaries failed."""
        if not self.is_fallback(tags):
            return False
        narrowing = tags - {self.fallback_tag}
        return not narrowing or self._matches(narrowing, alert)

    def _matches(self, tags: frozenset[str], alert: Alert) -> bool:
        if not tags:
            return self.untagged is not None and alert.severity >= self.untagged
        for tag in tags:
            threshold = self.severity_tags.get(tag)
            if threshold is not None and alert.severity >= threshold:
                return True
            if tag == f"{KIND_TAG_PREFIX}{alert.kind.value}":
                return True
        return False

    def unknown_tags(self, tags: Iterable[str]) -> list[str]:
        """The tags these rules cannot route (typos, unknown kinds), sorted."""
        kinds = {f"{KIND_TAG_PREFIX}{kind.value}" for kind in AlertKind}
        known = set(self.severity_tags) | kinds | {self.fallback_tag}
        return sorted(tag for tag in tags if tag not in known)

    def describe(self, tags: frozenset[str]) -> str:
        """What a destination with ``tags`` receives, in words (for ``check`` output)."""
        parts: list[str] = []
        if self.is_fallback(tags):
            narrowing = tags - {self.fallback_tag}
            inner = self.describe(narrowing) if narrowing else "any alert"
            return f"fallback only: {inner}, when every primary destination failed"
        if not tags:
            if self.untagged is None:
                return "nothing (untagged destinations are switched off)"
            return f"alerts at or above {self.untagged.value}"
        lowest = [self.severity_tags[t] for t in tags if t in self.severity_tags]
        if lowest:
            parts.append(f"alerts at or above {min(lowest).value}")
        kinds = sorted(
            t.removeprefix(KIND_TAG_PREFIX) for t in tags if t.startswith(KIND_TAG_PREFIX)
        )
        if kinds:
            parts.append(f"{', '.join(kinds)} alerts at any severity")
        return " or ".join(parts) or "nothing"
