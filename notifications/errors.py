"""Errors of the notifications package.

Only configuration raises: delivery never does (a failed delivery is a result).

    NotificationError
     └── NotificationConfigError    bad URLs, tags, config file or settings (lists every problem)
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["NotificationConfigError", "NotificationError"]


class NotificationError(Exception):
    """Base of the package's exceptions."""


class NotificationConfigError(NotificationError, ValueError):
    """The notification configuration cannot be used.

    Every problem is listed, each naming where it was found (``BARRACK_NOTIFY_URLS entry 2``,
    ``notify.yaml urls[0]``) and showing URLs only in masked form.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"notification configuration has {len(self.problems)} {noun}:\n{lines}")
