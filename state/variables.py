"""Prefect Variable names: what Prefect accepts, and readable, collision-free slugs of keys."""

from __future__ import annotations

import hashlib
import re

__all__ = ["check_variable_name", "hashed_variable_slug", "variable_slug"]


def check_variable_name(name: str, *, field: str, max_length: int) -> str:
    """``name`` when Prefect accepts it as (the start of) a Variable name.

    Args:
        name: The name or name prefix.
        field: The argument it came from, for the error.
        max_length: The most characters allowed here.

    Raises:
        ValueError: ``name`` has characters Prefect refuses, or is too long.
    """
    if not re.fullmatch(rf"[a-z0-9][a-z0-9_-]{{0,{max_length - 1}}}", name):
        raise ValueError(
            f"{field} {name!r}: Prefect Variable names allow lowercase letters, digits, "
            f"'-' and '_' (at most {max_length} characters here)"
        )
    return name


def variable_slug(text: str) -> str:
    """``text`` lowercased, every run of other characters than ``a-z0-9`` turned into ``-``.

    Example: ``variable_slug("Acme_Corp.EU") == "acme-corp-eu"``; empty when ``text`` has
    no letters or digits.
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def hashed_variable_slug(key: str, *, max_slug: int, separator: str) -> str:
    """``<slug of key, cut to max_slug><separator><10 hex digits of the key's sha256>``.

    The slug keeps the name readable; the hash of the exact key keeps keys that differ
    only in case or punctuation apart.
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return f"{variable_slug(key)[:max_slug]}{separator}{digest}"
