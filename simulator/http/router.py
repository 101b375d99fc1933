"""A small method-and-path router: O(1) for fixed paths, a short regex scan otherwise."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request

__all__ = ["Endpoint", "HTTPReply", "Match", "Router"]

_PARAM: Final = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class HTTPReply:
    """A finished response: status, JSON body, extra headers."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


Endpoint = Callable[[Request, dict[str, str]], Awaitable[HTTPReply]]


@dataclass(frozen=True, slots=True)
class Match:
    """The endpoint for a request and its path parameters (or why there is none)."""

    endpoint: Endpoint | None
    params: dict[str, str]
    method_allowed: bool = True
    meta: Any = None


def _compile(template: str) -> re.Pattern[str]:
    """``/a/{x}/b`` -> ``^/a/(?P<x>[^/]+)/b$``."""
    parts = _PARAM.split(template)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
        for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


class Router:
    """Routes by method and path template (``/instances/{instance_id}``)."""

    def __init__(self) -> None:
        self._fixed: dict[str, dict[str, tuple[Endpoint, Any]]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, tuple[Endpoint, Any]]]] = []
        self._by_template: dict[str, dict[str, tuple[Endpoint, Any]]] = {}

    def add(self, method: str, template: str, endpoint: Endpoint, meta: Any = None) -> None:
        """Mount ``endpoint`` at ``method template``; fixed paths win over templates."""
        methods = self._by_template.get(template)
        if methods is None:
            methods = self._by_template[template] = {}
            if _PARAM.search(template):
                self._patterns.append((_compile(template), methods))
            else:
                self._fixed[template] = methods
        if method in methods:
            raise ValueError(f"{method} {template} is mounted twice")
        methods[method] = (endpoint, meta)

    def match(self, method: str, path: str) -> Match | None:
        """The endpoint for ``method path``; None when no template matches the path."""
        methods = self._fixed.get(path)
        params: dict[str, str] = {}
        if methods is None:
            for pattern, candidate in self._patterns:
                found = pattern.match(path)
                if found is not None and method in candidate:
                    return Match(
                        candidate[method][0], found.groupdict(), True, candidate[method][1]
                    )
                if found is not None and methods is None:
                    methods, params = candidate, found.groupdict()
            if methods is None:
                return None
        target = methods.get(method)
        if target is None:
            return Match(None, params, method_allowed=False)
        return Match(target[0], params, True, target[1])
