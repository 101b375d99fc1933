"""Names of restored instances: validated, and derived deterministically from the source.

A name derived from the request is what makes a retried restore safe: the same request
always asks for the same name, so a second attempt finds the first attempt's instance
instead of creating another (names are unique among an account's instances, A3).

Derived names are also unique per source: a source name that fits unchanged keeps the
readable ``<source>-<suffix>``; one that had to be cut or cleaned carries a short hash
of the full source name, so two long names sharing a prefix (or ``my model`` and
``my-model``) never restore to the same name and block each other.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Final

from barrack.models import NAME_RULES, check_name

__all__ = [
    "INSTANCE_NAME_MAX",
    "derive_drill_name",
    "derive_restore_name",
    "region_short",
    "sanitize_base",
    "validate_instance_name",
]

INSTANCE_NAME_MAX: Final = NAME_RULES["instance"].max_length
_INVALID_RUN: Final = re.compile(r"[^A-Za-z0-9_.-]+")
_TRAILING: Final = "-_."
_FALLBACK_BASE: Final = "restore"
# 6 hex digits: 16.7 million values, so two sources sharing a prefix collide with odds of
# one in millions, while a drill name still keeps 12 characters of its source.
_NAME_HASH_LENGTH: Final = 6


def validate_instance_name(value: str, *, field: str = "name") -> str:
    """Return ``value`` when it is a valid instance name, else raise naming ``field``.

    Raises:
        ValueError: ``"<field>: instance name must be 2-30 characters long, got 1"``.
    """
    problem = check_name("instance", value)
    if problem is not None:
        raise ValueError(f"{field}: {problem}")
    return value


def region_short(region: str) -> str:
    """A short lowercase tag for a region: ``NORWAY-1`` -> ``no1``, ``EU-WEST-2`` -> ``ew2``.

    One word keeps its first two letters; several words keep their initials; digits are
    kept as they are. Unknown future regions get a tag by the same rule.
    """
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", region) if p]
    words = [p for p in parts if not p.isdigit()]
    digits = "".join(p for p in parts if p.isdigit())
    letters = words[0][:2] if len(words) == 1 else "".join(w[0] for w in words)
    return (letters + digits).lower() or "rg"


def sanitize_base(text: str | None) -> str:
    """Turn free text (an instance or snapshot name) into the start of an instance name.

    Characters an instance name may not hold become ``-``; the result starts with a
    letter or digit; empty input gives ``restore``.
    """
    cleaned = _INVALID_RUN.sub("-", text or "").strip(_TRAILING)
    return cleaned or _FALLBACK_BASE


def _fit(source_name: str | None, suffix: str) -> str:
    """``<source>-<suffix>`` when the source fits unchanged, else ``<cut>-<hash>-<suffix>``.

    The hash is of the full source name, so sources that only differ past the cut, or
    only in characters the cleaning replaced, still get different names.
    """
    base = sanitize_base(source_name)
    if not source_name:  # nothing to tell sources apart by: the plain fallback reads best
        return f"{base}-{suffix}"
    if base == source_name and len(base) + 1 + len(suffix) <= INSTANCE_NAME_MAX:
        return f"{base}-{suffix}"
    digest = hashlib.sha256(source_name.encode()).hexdigest()[:_NAME_HASH_LENGTH]
    room = INSTANCE_NAME_MAX - len(suffix) - len(digest) - 2
    trimmed = base[:room].rstrip(_TRAILING)
    return f"{trimmed}-{digest}-{suffix}" if trimmed else f"{digest}-{suffix}"


def derive_restore_name(source_name: str | None, target_region: str) -> str:
    """The default name of a restore: ``<source>-<region short>``, at most 30 characters.

    A source that does not fit (or is not a valid name) is cut and gets a short hash of
    its full name before the region, so the derived name stays unique per source.

    Example:
        >>> derive_restore_name("llm-train-01", "US-1")
        'llm-train-01-us1'
    """
    return _fit(source_name, region_short(target_region))


def derive_drill_name(source_name: str | None, day: datetime) -> str:
    """The name of a drill's throw-away instance: ``<source>-drill-MMDD``.

    The day keeps a rerun of the same day's drill on the same name (so it adopts a
    leftover instead of making a second one) while next week's drill gets a fresh one.

    Like :func:`derive_restore_name`, a long or cleaned source gets a short hash.

    Example:
        >>> from datetime import UTC
        >>> derive_drill_name("llm-train-01", datetime(2026, 11, 29, tzinfo=UTC))
        'llm-train-01-drill-1129'
    """
    return _fit(source_name, f"drill-{day:%m%d}")
