"""The ``prometheus`` probe: GPU utilisation and memory from dcgm-exporter, via PromQL.

It asks the Prometheus HTTP API (``GET /api/v1/query_range``) for the busiest GPU of
each instance at every step of the window, each step's value being the peak over that
step (``max_over_time(...[step])``), so a spike shorter than a step is still seen. The
evaluation time is always passed explicitly (``start``/``end``), never "now" on the
server's clock: the simulator serves telemetry over simulated time, and a replayed run
must judge the same window.

Default queries (``$label``, ``$selector`` and ``$step`` are filled in)::

    max by ($label, gpu) (max_over_time(DCGM_FI_DEV_GPU_UTIL{$selector}[$step]))
    max by ($label, gpu) (max_over_time(DCGM_FI_DEV_FB_USED{$selector}[$step]))

The utilisation query keeps one series per GPU (``gpu_label``), so the probe can count the
GPUs it saw: an exporter that shows only GPU 0 of an 8-GPU machine must not make the
machine look idle; fewer GPUs than the instance has are "unknown", not idle.

A window is asked for at one point per step; Prometheus refuses more than 11,000 points
per series, so settings that would need more are refused up front
(:func:`check_resolution`).

``$label`` is the label naming the instance (``instance_id`` by default, or
``instance_name`` with ``match_on="name"``), ``$selector`` is ``<label>=~"<ids>"`` for
a batch of instances, ``$step`` the step as a duration (``60s``).
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from string import Template
from typing import Any, Final, Literal

import httpx
from pydantic import Field, field_validator

from barrack.models import RequestModel
from tasks.probes.base import ProbeTarget, UtilizationEvidence, failed_evidence

__all__ = [
    "DEFAULT_MEMORY_QUERY",
    "DEFAULT_UTIL_QUERY",
    "MAX_POINTS_PER_SERIES",
    "ProbeQueryError",
    "PrometheusProbe",
    "PrometheusProbeSettings",
    "check_resolution",
    "evidence_from_points",
    "promql_regex_alternation",
    "render_query",
]

DEFAULT_UTIL_QUERY: Final = (
    "max by ($label, gpu) (max_over_time(DCGM_FI_DEV_GPU_UTIL{$selector}[$step]))"
)
DEFAULT_MEMORY_QUERY: Final = (
    "max by ($label, gpu) (max_over_time(DCGM_FI_DEV_FB_USED{$selector}[$step]))"
)
MAX_POINTS_PER_SERIES: Final = 11_000
"""Prometheus refuses a range query with more than this many steps ("exceeded maximum
resolution of 11,000 points per timeseries")."""
# Prometheus's own label-name rule; str.isidentifier() also accepts non-ASCII letters.
_LABEL_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_PLACEHOLDERS: Final = frozenset({"label", "selector", "step"})
_RE2_SPECIAL: Final = frozenset("\\.+*?()|[]{}^$")
_MAX_ERROR_CHARS: Final = 300


class PrometheusProbeSettings(RequestModel):
    """Where Prometheus is and how its series name the instances."""

    url: str = Field(
        default="http://127.0.0.1:9090",
        description="Prometheus base URL (a trailing /api/v1 is accepted); queries go to "
        "<url>/api/v1/query_range.",
    )
    util_query: str = Field(
        default=DEFAULT_UTIL_QUERY,
        description="PromQL template for the busiest GPU's utilisation (%) per instance and "
        "step; $label, $selector and $step are filled in.",
    )
    memory_query: str | None = Field(
        default=DEFAULT_MEMORY_QUERY,
        description="PromQL template for the most GPU memory used (MiB) per instance and "
        "step; empty judges on utilisation only.",
    )
    id_label: str = Field(default="instance_id", description="Label holding the instance id.")
    name_label: str = Field(default="instance_name", description="Label holding the instance name.")
    gpu_label: str | None = Field(
        default="gpu",
        description="Label telling an instance's GPUs apart in the utilisation query's "
        "result (keep it in the query's 'by'): fewer GPUs seen than the instance has "
        "means unknown, not idle. Empty: do not count GPUs.",
    )
    match_on: Literal["id", "name"] = Field(
        default="id", description="Match series to instances by the id label or the name label."
    )
    step_seconds: int = Field(
        default=60, ge=1, le=3600, description="Resolution: one point per this many seconds."
    )
    gap_tolerance_seconds: float = Field(
        default=300,
        ge=0,
        description="Longest stretch without samples for the window to still count as "
        "covered (Prometheus marks a series stale after 5 minutes).",
    )
    timeout_seconds: float = Field(default=10, gt=0, le=300, description="Per HTTP request.")
    batch_size: int = Field(default=100, ge=1, le=1000, description="Instances per query.")
    bearer_token_env: str | None = Field(
        default=None,
        description="Name of an environment variable holding a bearer token for Prometheus "
        "(the token itself is never a parameter).",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if "{{" in value:
            # A pod variant's deployment made without BARRACK_PROMETHEUS_URL keeps the
            # placeholder (deployments/pools.py): a pod has no Prometheus on its loopback.
            raise ValueError(
                f"not set ({value!r} was never filled in): give the Prometheus URL in this "
                "parameter, or set BARRACK_PROMETHEUS_URL and run prefect deploy again"
            )
        parsed = httpx.URL(value)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"must be an http(s) URL with a host, got {_safe_url(value)!r}")
        # The base URL, with or without the API path people copy from a browser.
        base = value.rstrip("/")
        for suffix in ("/api/v1/query_range", "/api/v1/query", "/api/v1"):
            if base.endswith(suffix):
                return base.removesuffix(suffix)
        return base

    @field_validator("util_query", "memory_query")
    @classmethod
    def _check_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("must not be empty")
        template = Template(value)
        if not template.is_valid():
            raise ValueError("is not a valid template ('$' must start $label, $selector, $step)")
        unknown = set(template.get_identifiers()) - _PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join(sorted(unknown))}; use $label, $selector, $step"
            )
        return value

    @field_validator("id_label", "name_label")
    @classmethod
    def _check_label(cls, value: str) -> str:
        if not _LABEL_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Prometheus label name (ASCII letters, digits and "
                "underscores, not starting with a digit)"
            )
        return value

    @field_validator("gpu_label")
    @classmethod
    def _check_gpu_label(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return cls._check_label(value)

    @property
    def match_label(self) -> str:
        """The label that identifies an instance in the series."""
        return self.id_label if self.match_on == "id" else self.name_label


class ProbeQueryError(RuntimeError):
    """A query failed: unreachable, timed out, an error answer or an unusable result."""


def promql_regex_alternation(values: Iterable[str]) -> str:
    """Values as a PromQL regex literal body matching exactly one of them.

    Example:
        >>> promql_regex_alternation(["BRK-1", "a.b"])
        'BRK-1|a\\\\\\\\.b'
    """
    escaped = ("".join(f"\\{c}" if c in _RE2_SPECIAL else c for c in v) for v in values)
    return "|".join(escaped).replace("\\", "\\\\").replace('"', '\\"')


def render_query(template: str, *, label: str, values: Sequence[str], step_seconds: int) -> str:
    """Fill a query template for one batch of instances."""
    selector = f'{label}=~"{promql_regex_alternation(values)}"'
    return Template(template).substitute(label=label, selector=selector, step=f"{step_seconds}s")


def check_resolution(window: timedelta, step_seconds: int, *, fields: str) -> None:
    """Refuse a window that needs more points per series than Prometheus answers.

    Raises:
        ValueError: naming ``fields``, e.g. ``"window_minutes / prometheus.step_seconds:
        a 1440 min window at 1 s steps needs 86,400 points; Prometheus answers at most
        11,000: raise the step to at least 8 s or shorten the window"``.
    """
    seconds = window.total_seconds()
    points = math.ceil(seconds / step_seconds)
    if points <= MAX_POINTS_PER_SERIES:
        return
    least_step = math.ceil(seconds / MAX_POINTS_PER_SERIES)
    raise ValueError(
        f"{fields}: a {seconds / 60:g} min window at {step_seconds} s steps needs "
        f"{points:,} points; Prometheus answers at most {MAX_POINTS_PER_SERIES:,}: raise "
        f"the step to at least {least_step} s or shorten the window"
    )


def _safe_url(url: str) -> str:
    """The URL without user info or query (they may carry credentials)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "<invalid URL>"
    return str(parsed.copy_with(userinfo=b"", query=None, fragment=None))


def evidence_from_points(
    instance_id: str,
    util: Mapping[float, float],
    memory: Mapping[float, float] | None,
    *,
    window_start: datetime,
    window_end: datetime,
    step_seconds: int,
    gap_tolerance_seconds: float,
    gpus_seen: int | None = None,
    gpus_expected: int | None = None,
) -> UtilizationEvidence:
    """Evidence from per-step peaks (Unix time -> value); pure.

    A point at ``t`` stands for the interval ``(t - step, t]``. Non-finite values are
    dropped (they are no evidence of idleness). With memory measured, a step counts as
    a sample only when both series have a value there, but every value seen counts
    towards the peaks. ``gpus_seen``/``gpus_expected`` are carried into the evidence
    (the rules treat missing GPUs as unknown).
    """
    util = {t: v for t, v in util.items() if math.isfinite(v)}
    mem = None if memory is None else {t: v for t, v in memory.items() if math.isfinite(v)}
    times = sorted(util if mem is None else util.keys() & mem.keys())
    base = UtilizationEvidence(
        instance_id=instance_id,
        probe=PrometheusProbe.name,
        window_start=window_start,
        window_end=window_end,
        gap_tolerance_seconds=gap_tolerance_seconds,
        gpus_seen=gpus_seen,
        gpus_expected=gpus_expected,
    )
    if not times:
        return base
    step = float(step_seconds)
    gaps = [max(0.0, (times[0] - step) - window_start.timestamp())]
    gaps += [max(0.0, later - earlier - step) for earlier, later in itertools.pairwise(times)]
    gaps.append(max(0.0, window_end.timestamp() - times[-1]))
    tz = window_start.tzinfo
    return base.model_copy(
        update={
            "sample_count": len(times),
            "covered_from": datetime.fromtimestamp(times[0] - step, tz),
            "covered_to": datetime.fromtimestamp(times[-1], tz),
            "largest_gap_seconds": max(gaps),
            "max_util_pct": max(util.values()),
            "avg_util_pct": math.fsum(util[t] for t in times) / len(times),
            "max_memory_mib": None if mem is None else max(mem.values()),
        }
    )


class PrometheusProbe:
    """Reads dcgm-exporter metrics from a Prometheus HTTP API.

    Args:
        settings: where Prometheus is, the query templates and the label mapping.
        transport: an httpx transport to use instead of the network (tests).
    """

    name: Final = "prometheus"

    def __init__(
        self,
        settings: PrometheusProbeSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport

    def __repr__(self) -> str:
        return f"PrometheusProbe(url={_safe_url(self.settings.url)!r})"

    async def collect(
        self, targets: Sequence[ProbeTarget], *, now: datetime, window: timedelta
    ) -> dict[str, UtilizationEvidence]:
        """Evidence for every target over ``[now - window, now]``; never raises per target."""
        settings = self.settings
        window_start = now - window
        step = settings.step_seconds
        points = max(1, math.ceil(window.total_seconds() / step))
        end = now.timestamp()
        start = end - (points - 1) * step
        results: dict[str, UtilizationEvidence] = {}
        try:
            check_resolution(window, step, fields="window / step_seconds")
            headers = self._headers()
        except (ProbeQueryError, ValueError) as exc:
            return {
                t.id: failed_evidence(
                    t.id, self.name, str(exc), window_start=window_start, window_end=now
                )
                for t in targets
            }
        async with httpx.AsyncClient(
            timeout=settings.timeout_seconds, headers=headers, transport=self._transport
        ) as client:
            for offset in range(0, len(targets), settings.batch_size):
                batch = list(targets[offset : offset + settings.batch_size])
                keys = {self._key(t): t.id for t in batch}
                try:
                    util, gpus = await self._query(client, settings.util_query, keys, start, end)
                    memory = (
                        (await self._query(client, settings.memory_query, keys, start, end))[0]
                        if settings.memory_query is not None
                        else None
                    )
                    self._check_gpu_label(util, gpus)
                except ProbeQueryError as exc:
                    for target in batch:
                        results[target.id] = failed_evidence(
                            target.id,
                            self.name,
                            str(exc),
                            window_start=window_start,
                            window_end=now,
                        )
                    continue
                for target in batch:
                    results[target.id] = evidence_from_points(
                        target.id,
                        util.get(target.id, {}),
                        None if memory is None else memory.get(target.id, {}),
                        window_start=window_start,
                        window_end=now,
                        step_seconds=step,
                        gap_tolerance_seconds=settings.gap_tolerance_seconds,
                        gpus_seen=None if gpus is None else len(gpus.get(target.id, ())),
                        gpus_expected=None if gpus is None else target.gpu_count,
                    )
        return results

    def _check_gpu_label(
        self, util: Mapping[str, Mapping[float, float]], gpus: Mapping[str, set[str]] | None
    ) -> None:
        """Series came back, but none carries the GPU label: the query aggregated it away."""
        if gpus is None or not util or any(gpus.values()):
            return
        label = self.settings.gpu_label
        raise ProbeQueryError(
            f"util_query: its series carry no {label!r} label, so missing GPUs cannot be "
            f"told from idle ones; keep it in the query (max by (..., {label})) or set "
            "gpu_label empty"
        )

    def _key(self, target: ProbeTarget) -> str:
        return target.id if self.settings.match_on == "id" else target.name

    def _headers(self) -> dict[str, str]:
        env = self.settings.bearer_token_env
        if not env:
            return {}
        token = os.environ.get(env, "").strip()
        if not token:
            raise ProbeQueryError(f"bearer_token_env: the environment variable {env} is not set")
        return {"Authorization": f"Bearer {token}"}

    async def _query(
        self,
        client: httpx.AsyncClient,
        template: str,
        keys: Mapping[str, str],
        start: float,
        end: float,
    ) -> tuple[dict[str, dict[float, float]], dict[str, set[str]] | None]:
        """Per instance id, the per-step values (several series of one instance: max), and
        the GPU label values seen per instance (None: ``gpu_label`` is not set)."""
        settings = self.settings
        query = render_query(
            template,
            label=settings.match_label,
            values=list(keys),
            step_seconds=settings.step_seconds,
        )
        url = f"{settings.url}/api/v1/query_range"
        params: dict[str, str | float] = {
            "query": query,
            "start": start,
            "end": end,
            "step": settings.step_seconds,
        }
        where = _safe_url(url)
        try:
            response = await client.get(url, params=params)
        except httpx.TimeoutException:
            raise ProbeQueryError(
                f"{where} timed out after {settings.timeout_seconds:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ProbeQueryError(f"{where} unreachable ({type(exc).__name__})") from None
        payload = _json(response)
        if response.status_code != 200 or payload.get("status") != "success":
            detail = str(payload.get("error") or response.reason_phrase)[:_MAX_ERROR_CHARS]
            kind = payload.get("errorType") or "error"
            raise ProbeQueryError(f"{where} answered {response.status_code} {kind}: {detail}")
        data = payload.get("data")
        if not isinstance(data, dict) or data.get("resultType") != "matrix":
            kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
            raise ProbeQueryError(f"{where} answered a {kind} result, expected a matrix")
        return _by_instance(data.get("result"), settings.match_label, keys, settings.gpu_label)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _by_instance(
    result: Any, label: str, keys: Mapping[str, str], gpu_label: str | None
) -> tuple[dict[str, dict[float, float]], dict[str, set[str]] | None]:
    if not isinstance(result, list):
        raise ProbeQueryError("the matrix result is not a list")
    series: dict[str, dict[float, float]] = {}
    gpus: dict[str, set[str]] | None = None if gpu_label is None else {}
    for item in result:
        metric = item.get("metric") if isinstance(item, dict) else None
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(metric, dict) or not isinstance(values, list):
            raise ProbeQueryError("a series in the result has no metric or values")
        instance_id = keys.get(str(metric.get(label, "")))
        if instance_id is None:
            continue  # a series of an instance not asked about, or without the label
        points = series.setdefault(instance_id, {})
        gpu = metric.get(gpu_label) if gpu_label is not None else None
        if gpus is not None:
            seen = gpus.setdefault(instance_id, set())
            if gpu not in (None, "") and any(_finite_sample(pair) for pair in values):
                seen.add(str(gpu))
        for pair in values:
            try:
                moment, value = float(pair[0]), float(pair[1])
            except (TypeError, ValueError, IndexError):
                raise ProbeQueryError(f"a sample is not [time, value]: {pair!r}"[:200]) from None
            if math.isfinite(value):  # NaN/Inf are no evidence either way: a hole
                points[moment] = max(value, points.get(moment, -math.inf))
    return series, gpus


def _finite_sample(pair: Any) -> bool:
    try:
        return math.isfinite(float(pair[1]))
    except (TypeError, ValueError, IndexError):
        return False
