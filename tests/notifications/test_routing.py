from __future__ import annotations

import pytest
from pydantic import ValidationError

from notifications import Alert, AlertKind, RoutingRules, Severity, Subject

INFO = Severity.INFO
WARNING = Severity.WARNING
CRITICAL = Severity.CRITICAL


def alert(severity: Severity, kind: AlertKind = AlertKind.SNAPSHOT_FAILED) -> Alert:
    return Alert(kind=kind, severity=severity, subject=Subject.for_account())


RULES = RoutingRules().with_routes({"pager": CRITICAL, "chat": WARNING})

# tags, severity, kind, receives as primary
TABLE = [
    ((), INFO, AlertKind.GENERIC, True),
    ((), CRITICAL, AlertKind.GENERIC, True),
    (("all",), INFO, AlertKind.GENERIC, True),
    (("info",), INFO, AlertKind.GENERIC, True),
    (("warning",), INFO, AlertKind.GENERIC, False),
    (("warning",), WARNING, AlertKind.GENERIC, True),
    (("warning",), CRITICAL, AlertKind.GENERIC, True),
    (("critical",), WARNING, AlertKind.GENERIC, False),
    (("critical",), CRITICAL, AlertKind.GENERIC, True),
    (("pager",), WARNING, AlertKind.GENERIC, False),
    (("pager",), CRITICAL, AlertKind.GENERIC, True),
    (("chat",), WARNING, AlertKind.GENERIC, True),
    (("kind:low-balance",), INFO, AlertKind.LOW_BALANCE, True),
    (("kind:low-balance",), CRITICAL, AlertKind.SNAPSHOT_FAILED, False),
    # tags are OR-ed
    (("critical", "kind:low-balance"), INFO, AlertKind.LOW_BALANCE, True),
    (("critical", "kind:low-balance"), CRITICAL, AlertKind.SNAPSHOT_FAILED, True),
    (("critical", "kind:low-balance"), WARNING, AlertKind.SNAPSHOT_FAILED, False),
    # fallback destinations never receive as primaries
    (("fallback",), CRITICAL, AlertKind.GENERIC, False),
    (("fallback", "all"), CRITICAL, AlertKind.GENERIC, False),
]


@pytest.mark.parametrize(("tags", "severity", "kind", "receives"), TABLE)
def test_primary_routing(
    tags: tuple[str, ...], severity: Severity, kind: AlertKind, receives: bool
) -> None:
    assert RULES.accepts(frozenset(tags), alert(severity, kind)) is receives


@pytest.mark.parametrize(
    ("tags", "severity", "receives"),
    [
        (("fallback",), INFO, True),
        (("fallback",), CRITICAL, True),
        (("fallback", "critical"), WARNING, False),
        (("fallback", "critical"), CRITICAL, True),
        (("all",), CRITICAL, False),
        ((), CRITICAL, False),
    ],
)
def test_fallback_routing(tags: tuple[str, ...], severity: Severity, receives: bool) -> None:
    assert RULES.accepts_as_fallback(frozenset(tags), alert(severity)) is receives


def test_untagged_threshold_can_be_raised_or_switched_off() -> None:
    warning_up = RoutingRules(untagged=WARNING)
    assert not warning_up.accepts(frozenset(), alert(INFO))
    assert warning_up.accepts(frozenset(), alert(WARNING))
    off = RoutingRules(untagged=None)
    assert not off.accepts(frozenset(), alert(CRITICAL))


def test_unknown_tags() -> None:
    tags = ["critcal", "kind:disk-full", "kind:low-balance", "pager", "fallback", "all"]
    assert RULES.unknown_tags(tags) == ["critcal", "kind:disk-full"]


def test_severity_tags_must_be_plain_lowercase() -> None:
    with pytest.raises(ValidationError, match="lowercase"):
        RoutingRules(severity_tags={"Pager": CRITICAL})
    with pytest.raises(ValidationError, match="kind:"):
        RoutingRules(severity_tags={"kind:x": CRITICAL})


@pytest.mark.parametrize(
    ("tags", "text"),
    [
        ((), "alerts at or above info"),
        (("critical",), "alerts at or above critical"),
        (("warning", "pager"), "alerts at or above warning"),
        (("kind:low-balance",), "low-balance alerts at any severity"),
        (
            ("critical", "kind:low-balance"),
            "alerts at or above critical or low-balance alerts at any severity",
        ),
        (
            ("fallback",),
            "fallback only: any alert, when every primary destination failed",
        ),
    ],
)
def test_describe(tags: tuple[str, ...], text: str) -> None:
    assert RULES.describe(frozenset(tags)) == text
