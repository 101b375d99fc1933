"""What the demo prints must fit a screen: no run of lines that say the same thing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

__all__ = ["assert_no_repeated_run", "repeated_runs"]

_VARYING: Final = re.compile(r"\d+|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b")
"""Numbers and day names: lines that differ only in these say the same thing."""


def repeated_runs(lines: Sequence[str], *, longest: int = 2) -> list[list[str]]:
    """Runs of more than ``longest`` consecutive lines that differ only in numbers and days."""
    runs: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if current and _VARYING.sub("#", line) == _VARYING.sub("#", current[-1]):
            current.append(line)
            continue
        if len(current) > longest:
            runs.append(current)
        current = [line]
    if len(current) > longest:
        runs.append(current)
    return runs


def assert_no_repeated_run(lines: Sequence[str]) -> None:
    runs = repeated_runs(lines)
    assert not runs, "lines that say the same thing, group them:\n" + "\n\n".join(
        "\n".join(run) for run in runs
    )
