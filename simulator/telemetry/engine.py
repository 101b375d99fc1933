"""Evaluate PromQL-subset queries over the instances' utilisation profiles.

Series are dcgm-exporter's: ``DCGM_FI_DEV_GPU_UTIL`` (percent) and ``DCGM_FI_DEV_FB_USED``
(MiB), one per GPU, labelled ``instance_id``, ``instance_name``, ``gpu``, ``modelName``
and ``region``. The exporter is scraped every 15 simulated seconds; an instance has
samples only while it is ``ACTIVE``, and a series goes stale at the first scrape after it
stops (so an instant query shows nothing for a stopped instance).
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from simulator.records import InstanceRec
from simulator.seed_data import GPU_SPECS
from simulator.telemetry.profiles import ProfileSpec, UtilisationProfile, resolve_profile
from simulator.telemetry.promql import (
    Aggregate,
    Compare,
    Expr,
    Number,
    PromQLError,
    RangeFunction,
    Selector,
)

__all__ = [
    "MAX_POINTS",
    "METRICS",
    "SCRAPE_INTERVAL",
    "Series",
    "TelemetryEngine",
    "format_value",
]

SCRAPE_INTERVAL: Final = 15
MAX_POINTS: Final = 11_000
"""Prometheus' limit of points per series in a range query."""
METRICS: Final = ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED")
_UTIL, _MEM = METRICS

_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class Series:
    """One series' value at one evaluation time."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class _Source:
    """One GPU of one instance, with what is needed to sample it."""

    labels: dict[str, str]
    metric: str
    active: list[tuple[float, float]]
    profile: UtilisationProfile


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it (``"42"``, ``"12.5"``, ``"NaN"``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _active_intervals(history: list[tuple[datetime, str]]) -> list[tuple[float, float]]:
    """[start, end) Unix-time intervals the instance spent ``ACTIVE``."""
    intervals: list[tuple[float, float]] = []
    started: float | None = None
    for moment, status in history:
        ts = moment.timestamp()
        if status == "ACTIVE" and started is None:
            started = ts
        elif status != "ACTIVE" and started is not None:
            intervals.append((started, ts))
            started = None
    if started is not None:
        intervals.append((started, math.inf))
    return intervals


def _scrapes(lo: float, hi: float) -> range:
    """Scrape times t (whole multiples of the interval) with lo < t <= hi."""
    first = math.floor(lo / SCRAPE_INTERVAL) * SCRAPE_INTERVAL + SCRAPE_INTERVAL
    last = math.floor(hi / SCRAPE_INTERVAL) * SCRAPE_INTERVAL
    return range(int(first), int(last) + 1, SCRAPE_INTERVAL)


class TelemetryEngine:
    """Answers queries from a set of instances (live ones and deleted ones)."""

    def __init__(self, instances: Iterable[InstanceRec]) -> None:
        self._instances = list(instances)

    def _sources(self, selector: Selector) -> Iterator[_Source]:
        names = [m for m in selector.matchers if m.label == "__name__"]
        metrics = [
            metric for metric in METRICS if all(m.matches({"__name__": metric}) for m in names)
        ]
        if not metrics:
            return
        for instance in self._instances:
            spec = GPU_SPECS.get(instance.flavor.gpu_model)
            base = {
                "instance_id": instance.id,
                "instance_name": instance.name,
                "modelName": spec.dcgm_name if spec else instance.flavor.gpu_model,
                "region": instance.region,
            }
            profile = instance.profile
            if not isinstance(profile, UtilisationProfile):
                profile = resolve_profile(
                    ProfileSpec(), instance.created_at, instance.id, spec.memory_gb if spec else 48
                )
            active = _active_intervals(instance.history)
            for metric in metrics:
                for gpu in range(instance.flavor.gpu_count):
                    labels = {"__name__": metric, **base, "gpu": str(gpu)}
                    if all(m.matches(labels) for m in selector.matchers):
                        yield _Source(labels, metric, active, profile)

    @staticmethod
    def _sample(source: _Source, ts: float) -> float:
        util, mem = source.profile.sample(ts)
        return util if source.metric == _UTIL else mem

    @staticmethod
    def _is_active(source: _Source, ts: float) -> bool:
        starts = [start for start, _ in source.active]
        index = bisect.bisect_right(starts, ts) - 1
        return index >= 0 and source.active[index][0] <= ts < source.active[index][1]

    def instant(self, expr: Expr, at: float) -> list[Series] | float:
        """Evaluate at Unix time ``at``: a vector, or a number for a scalar query."""
        if isinstance(expr, Number):
            return expr.value
        return self._vector(expr, at)

    def _vector(self, expr: Expr, at: float) -> list[Series]:
        if isinstance(expr, Selector):
            return self._select(expr, at)
        if isinstance(expr, RangeFunction):
            return self._over_time(expr, at)
        if isinstance(expr, Aggregate):
            return self._aggregate(expr, at)
        if isinstance(expr, Compare):
            keep = _COMPARE[expr.op]
            return [s for s in self._vector(expr.expr, at) if keep(s.value, expr.value)]
        raise PromQLError("a number cannot be used where a vector is expected")

    def _select(self, selector: Selector, at: float) -> list[Series]:
        last_scrape = math.floor(at / SCRAPE_INTERVAL) * SCRAPE_INTERVAL
        return [
            Series(source.labels, self._sample(source, last_scrape))
            for source in self._sources(selector)
            if self._is_active(source, last_scrape)
        ]

    def _over_time(self, expr: RangeFunction, at: float) -> list[Series]:
        result: list[Series] = []
        lo = at - expr.range_s
        for source in self._sources(expr.selector):
            values: list[float] = []
            for start, end in source.active:
                if end <= lo or start > at:
                    continue
                for ts in _scrapes(max(lo, start - 1e-3), min(at, end - 1e-3)):
                    if start <= ts < end:
                        values.append(self._sample(source, ts))
            if not values:
                continue
            labels = {k: v for k, v in source.labels.items() if k != "__name__"}
            result.append(Series(labels, _reduce(expr.function, values)))
        return result

    def _aggregate(self, expr: Aggregate, at: float) -> list[Series]:
        groups: dict[tuple[tuple[str, str], ...], list[float]] = {}
        for series in self._vector(expr.expr, at):
            if expr.by is not None:
                key = tuple((k, series.labels[k]) for k in expr.by if k in series.labels)
            else:
                dropped = set(expr.without or ()) | {"__name__"}
                key = tuple(sorted((k, v) for k, v in series.labels.items() if k not in dropped))
            groups.setdefault(key, []).append(series.value)
        return [Series(dict(key), _reduce(expr.op, values)) for key, values in groups.items()]


def _reduce(function: str, values: list[float]) -> float:
    name = function.removesuffix("_over_time")
    if name == "max":
        return max(values)
    if name == "min":
        return min(values)
    if name == "sum":
        return math.fsum(values)
    if name == "avg":
        return math.fsum(values) / len(values)
    if name == "count":
        return float(len(values))
    if name == "last":
        return values[-1]
    raise PromQLError(f"unsupported function {function!r}")
