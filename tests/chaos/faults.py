"""The fault profiles: what the simulator (and the proxy in front of it) do to the recipes.

A profile is data: simulator fault rules (``PUT /_sim/faults``), whether the simulator
replays idempotent POSTs, proxy rules, and the client timeout the recipe runs with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from barrack.wire import API_PREFIX, ROUTES
from tests.chaos.proxy import ProxyRule

__all__ = [
    "MALFORMED_KINDS",
    "PROFILES",
    "SUITE_PROFILES",
    "FaultProfile",
    "drop_rules",
    "malformed_profile",
]

_ONE_OF_THREE = 1 - 0.8 ** (1 / 3)
"""Each of three rules at this rate fails 20 % of the calls between them (the first that
fires decides, so the rates compound)."""

_MUTATING = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """One way the world misbehaves.

    Attributes:
        name: short name, used in test ids and figures.
        sim_rules: simulator fault rules.
        replay: the simulator's ``idempotency_replay`` setting.
        proxy_rules: rules of the proxy in front of the simulator (none: no proxy).
        client_timeout: the recipe's HTTP timeout (``BarrackConnection.timeout``).
        env: extra environment for the run (client settings such as attempts).
    """

    name: str
    sim_rules: tuple[Mapping[str, Any], ...] = ()
    replay: bool = True
    proxy_rules: tuple[ProxyRule, ...] = ()
    client_timeout: float | None = None
    env: Mapping[str, str] = field(default_factory=dict)


SERVER_ERROR_RULES: tuple[dict[str, Any], ...] = tuple(
    {"path": "/api/*", "error_rate": _ONE_OF_THREE, "status": status} for status in (500, 502, 503)
)

SERVER_ERRORS = FaultProfile(name="server-errors", sim_rules=SERVER_ERROR_RULES)
"""20 % of all calls fail with 500, 502 or 503 (before reaching the backend)."""

RATE_LIMITED = FaultProfile(
    name="429-bursts",
    sim_rules=(
        {"method": "GET", "path": "/api/*", "burst_429": 2, "retry_after": 1},
        {"method": "POST", "path": "/api/*", "burst_429": 1, "retry_after": 1},
        {"method": "DELETE", "path": "/api/*", "burst_429": 1, "retry_after": 1},
    ),
)
"""Bursts of 429 with ``Retry-After: 1`` on reads, creates and deletes."""

SLOW = FaultProfile(
    name="slow-answers",
    proxy_rules=(ProxyRule(kind="delay", method="*", path="/api/*", rate=0.15, delay_s=1.0),),
    client_timeout=0.4,
)
"""15 % of answers come 1 s late, after the change was made, against a 0.4 s timeout."""

TRANSIENT_MIX = FaultProfile(
    name="transient-mix",
    sim_rules=(*SERVER_ERROR_RULES, *RATE_LIMITED.sim_rules),
    proxy_rules=SLOW.proxy_rules,
    client_timeout=SLOW.client_timeout,
)
"""All three transient faults in one run: 20 % of calls fail with 500/502/503, bursts of
429, and 15 % of answers late (the suite's; the long run also tries each alone)."""


def drop_rules(times: int) -> tuple[dict[str, Any], ...]:
    """A drop after commit on every mutating route of the wire contract, ``times`` each.

    Longer paths come first: ``*`` also crosses ``/``, and the first rule that fires decides.
    """
    routes = sorted(
        (r for r in ROUTES.values() if r.method in _MUTATING),
        key=lambda r: (-r.path.count("/"), r.path, r.method),
    )
    return tuple(
        {
            "method": r.method,
            "path": API_PREFIX + re.sub(r"\{[^}]+\}", "*", r.path),
            "drop_after_commit": True,
            "times": times,
        }
        for r in routes
    )


DROP_REPLAY_ON = FaultProfile(name="drop-replay-on", sim_rules=drop_rules(2), replay=True)
"""The first two calls of every mutating route are made, then their answer is cut; a
retry with the same Idempotency-Key gets the first answer again."""

DROP_REPLAY_OFF = FaultProfile(name="drop-replay-off", sim_rules=drop_rules(2), replay=False)
"""As above, but the API does not replay: a retry meets the change already made."""

LYING_ANSWERS = FaultProfile(
    name="lying-answers",
    sim_rules=(
        # A proxy's 502 page that lists the request's headers, the API key among them.
        {"method": "GET", "path": "/api/*", "error_rate": 0.1, "status": 502, "echo_headers": True},
        # Refusals in a success status: 200 with "success": false, nothing changed.
        *(
            {"method": method, "path": "/api/*", "refuse_rate": 0.25}
            for method in ("POST", "DELETE")
        ),
    ),
)
"""Answers that lie: 10 % of reads fail on an error page that quotes the API key, and a
quarter of changes are refused under a ``200`` (``"success": false``). Every refusal must
be reported as a failure, never as done, and the key must show nowhere."""

PROFILES: Mapping[str, FaultProfile] = {
    p.name: p
    for p in (
        SERVER_ERRORS,
        RATE_LIMITED,
        SLOW,
        TRANSIENT_MIX,
        DROP_REPLAY_ON,
        DROP_REPLAY_OFF,
        LYING_ANSWERS,
    )
}
"""Every profile (the long run tries them all)."""

SUITE_PROFILES: tuple[str, ...] = (
    "transient-mix",
    "drop-replay-on",
    "drop-replay-off",
    "lying-answers",
)
"""The profiles of ``make test``: the three transient faults together, then drops after
commit with the API's idempotent replay on and, separately, off, then answers that lie
(refusals under 200, error pages that echo the key)."""

MALFORMED_KINDS: Mapping[str, ProxyRule] = {
    "missing-field": ProxyRule(kind="missing_field", field="status"),
    "unknown-enum": ProxyRule(kind="unknown_enum", field="status", value="QUANTUM_FLUX"),
    "wrong-type": ProxyRule(kind="wrong_type", field="id", value={"wrong": "type"}),
    "html-page": ProxyRule(kind="html"),
    "html-502": ProxyRule(kind="html_502"),
    "empty-body": ProxyRule(kind="empty"),
}
"""Answers that break the contract, each spoiling one answer of a run."""


def malformed_profile(
    kind: str, method: str, path: str, *, field: str | None = None, value: Any = None
) -> FaultProfile:
    """One malformed answer of ``kind`` to the first call matching ``method`` and ``path``.

    ``field`` and ``value`` override the kind's defaults (which field goes missing, or
    gets the unknown or wrongly typed value).
    """
    base = MALFORMED_KINDS[kind]
    rule = ProxyRule(
        kind=base.kind,
        method=method,
        path=path,
        times=1,
        field=field or base.field,
        value=base.value if value is None else value,
    )
    return FaultProfile(name=f"malformed-{kind}", proxy_rules=(rule,))
