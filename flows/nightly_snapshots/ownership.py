"""Which snapshots a policy made: the marker written into the snapshot description.

A snapshot created by the nightly recipe carries, somewhere in its description::

    managed-by=barrack-ops policy=<policy-name> slot=<YYYY-MM-DDTHH:MMZ>

Only a snapshot whose description holds exactly one complete marker naming a policy is
owned by that policy, and only owned snapshots may ever be deleted (AWS DLM's rule: a
lifecycle policy deletes only what it created). The parse is strict in the safe
direction: a description that merely mentions barrack-ops, has a partial or malformed
marker, or holds two markers, is owned by nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "MARKER_PREFIX",
    "Ownership",
    "is_owned_by",
    "ownership_description",
    "parse_ownership",
    "validate_policy_name",
]

DESCRIPTION_MAX_LENGTH: Final = 255
"""Barrack's limit on snapshot descriptions."""

MARKER_PREFIX: Final = "managed-by=barrack-ops"

_POLICY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_SLOT_FORMAT: Final = "%Y-%m-%dT%H:%MZ"
# The marker must stand as its own words: preceded by the start or a blank, and followed
# by the end or a blank, so "xmanaged-by=..." or "slot=...Zfoo" do not count.
_MARKER = re.compile(
    r"(?<!\S)managed-by=barrack-ops"
    r" policy=(?P<policy>[A-Za-z0-9_.-]{1,40})"
    r" slot=(?P<slot>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z)"
    r"(?!\S)"
)
_ELLIPSIS: Final = "..."


@dataclass(frozen=True, slots=True)
class Ownership:
    """A parsed marker: the policy that made the snapshot, and for which schedule slot."""

    policy: str
    slot: datetime


def validate_policy_name(name: str, *, field: str = "policy") -> str:
    """Check a policy name: 1-40 characters of letters, digits, ``_``, ``.`` and ``-``.

    Raises:
        ValueError: naming ``field`` and the rule.
    """
    if not _POLICY_NAME.fullmatch(name):
        raise ValueError(f"{field}: {name!r} must be 1-40 characters of A-Z a-z 0-9 _ . -")
    return name


def ownership_description(policy: str, slot: datetime, extra: str | None = None) -> str:
    """Build the description of a snapshot made by ``policy`` for ``slot``.

    Args:
        policy: the policy name (validated).
        slot: the schedule slot, aware; written in UTC to the minute.
        extra: free text appended after the marker, shortened with ``...`` so the whole
            description stays within 255 characters. It may not contain a marker of its
            own.

    Raises:
        ValueError: a bad policy name, a naive slot or an ``extra`` holding a marker.

    Example:
        >>> ownership_description("nightly", datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
        'managed-by=barrack-ops policy=nightly slot=2026-11-20T02:00Z'
    """
    validate_policy_name(policy)
    if slot.tzinfo is None or slot.utcoffset() is None:
        raise ValueError(f"slot: must be timezone-aware, got naive {slot.isoformat()}")
    marker = f"{MARKER_PREFIX} policy={policy} slot={slot.astimezone(UTC):{_SLOT_FORMAT}}"
    if not extra:
        return marker
    if "managed-by=" in extra:
        raise ValueError("extra: must not contain a managed-by= marker")
    room = DESCRIPTION_MAX_LENGTH - len(marker) - 1
    if len(extra) > room:
        extra = extra[: room - len(_ELLIPSIS)] + _ELLIPSIS
    return f"{marker} {extra}"


def parse_ownership(description: str | None) -> Ownership | None:
    """Read the marker out of a description.

    Returns:
        The policy and slot (UTC), or None when the description holds no complete marker,
        a marker with an impossible slot, or more than one marker.

    Example:
        >>> parse_ownership("weekly backup managed-by=barrack-ops policy=nightly "
        ...                 "slot=2026-11-20T02:00Z").policy
        'nightly'
    """
    if not description:
        return None
    matches = list(_MARKER.finditer(description))
    # Two markers (even equal ones) mean someone edited the text: trust neither.
    if len(matches) != 1:
        return None
    match = matches[0]
    try:
        slot = datetime.strptime(match["slot"], _SLOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return Ownership(policy=match["policy"], slot=slot)


def is_owned_by(description: str | None, policy: str) -> bool:
    """True when ``description`` carries the marker of exactly ``policy`` (case-sensitive).

    Raises:
        ValueError: a bad policy name (a configuration error, not a foreign snapshot).
    """
    validate_policy_name(policy)
    ownership = parse_ownership(description)
    return ownership is not None and ownership.policy == policy
