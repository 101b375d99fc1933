"""Deterministic ids and durations: the same scenario and seed give the same run.

Ids come from one seeded stream, so the n-th resource created gets the same id in every
run. Durations and failure draws come from a stream seeded by the resource and what is
happening to it, so they do not depend on what else happened before.
"""

from __future__ import annotations

import random
import string
from typing import Final

__all__ = ["IdFactory", "draw", "duration"]

_UPPER_DIGITS: Final = string.ascii_uppercase + string.digits
_HEX: Final = "0123456789abcdef"

_PREFIXES: Final[dict[str, str]] = {
    "snapshot": "snap-",
    "volume": "vol-",
    "firewall": "fw-",
    "ssh_key": "key-",
    "script": "scr-",
    "image": "img-",
    "rule": "rule-",
    "request": "req-",
    "ai_usage": "ai-",
    "network": "net-",
}


class IdFactory:
    """Makes ids from a seeded random stream.

    Instance ids look like ``BRK-XXXXXXD`` (six letters or digits, then a digit, A3);
    other kinds get a short prefix (``snap-``, ``vol-``...) and ten hex digits.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids:{seed}")
        self._issued: set[str] = set()

    def new(self, kind: str) -> str:
        """A fresh id of the given kind (never one issued before in this run)."""
        while True:
            candidate = self._make(kind)
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def _make(self, kind: str) -> str:
        rng = self._rng
        if kind == "instance":
            body = "".join(rng.choice(_UPPER_DIGITS) for _ in range(6))
            return f"BRK-{body}{rng.choice(string.digits)}"
        prefix = _PREFIXES.get(kind, f"{kind}-")
        return prefix + "".join(rng.choice(_HEX) for _ in range(10))


def _stream(seed: int, *parts: object) -> random.Random:
    """A random stream named by ``parts`` (string seeds hash the same in every process)."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def duration(seed: int, low: float, high: float, *parts: object) -> int:
    """A whole number of seconds in ``[low, high]``, fixed by the seed and ``parts``."""
    return round(_stream(seed, "duration", *parts).uniform(low, high))


def draw(seed: int, *parts: object) -> float:
    """A number in ``[0, 1)`` fixed by the seed and ``parts`` (failure draws, noise)."""
    return _stream(seed, "draw", *parts).random()
