"""The Prometheus HTTP API subset under ``/prometheus``: ``GET /prometheus/api/v1/query`` and
``GET /prometheus/api/v1/query_range`` (as behind a real Prometheus's ``--web.route-prefix``)."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request

from barrack._wire import PROMETHEUS_PREFIX
from simulator.http.responses import json_reply
from simulator.http.router import HTTPReply, Router
from simulator.runtime import SimRuntime
from simulator.telemetry.engine import MAX_POINTS, Series, TelemetryEngine, format_value
from simulator.telemetry.promql import Expr, PromQLError, parse
from simulator.timeparse import parse_duration, parse_time

__all__ = ["add_prometheus_routes"]


def _bad_data(message: str) -> HTTPReply:
    return json_reply({"status": "error", "errorType": "bad_data", "error": message}, 400)


def _success(result_type: str, result: Any) -> HTTPReply:
    return json_reply({"status": "success", "data": {"resultType": result_type, "result": result}})


def _unix(text: str | None, default: float, name: str) -> float:
    if text is None or text == "":
        return default
    try:
        return parse_time(text).timestamp()
    except ValueError:
        raise PromQLError(
            f'invalid parameter "{name}": cannot parse {text!r} to a timestamp'
        ) from None


def _timestamp(value: float) -> float | int:
    return int(value) if value == int(value) else round(value, 3)


def _engine(runtime: SimRuntime) -> tuple[TelemetryEngine, float]:
    backend = runtime.backend
    now = backend.sync().timestamp()
    state = backend.world.state
    instances = [*state.instances.rows.values(), *state.instance_tombstones.values()]
    return TelemetryEngine(instances), now


def _query_expr(request: Request) -> Expr:
    query = request.query_params.get("query")
    if not query:
        raise PromQLError('invalid parameter "query": missing')
    return parse(query)


def add_prometheus_routes(router: Router, runtime: SimRuntime) -> None:
    """Mount the two query routes (no auth, like a default Prometheus)."""

    async def query(request: Request, params: dict[str, str]) -> HTTPReply:
        try:
            expr = _query_expr(request)
            engine, now = _engine(runtime)
            at = _unix(request.query_params.get("time"), now, "time")
            result = engine.instant(expr, at)
        except PromQLError as exc:
            return _bad_data(str(exc))
        if isinstance(result, float):
            return _success("scalar", [_timestamp(at), format_value(result)])
        return _success(
            "vector",
            [
                {"metric": s.labels, "value": [_timestamp(at), format_value(s.value)]}
                for s in result
            ],
        )

    async def query_range(request: Request, params: dict[str, str]) -> HTTPReply:
        try:
            expr = _query_expr(request)
            engine, _ = _engine(runtime)
            start = _unix(request.query_params.get("start"), math.nan, "start")
            end = _unix(request.query_params.get("end"), math.nan, "end")
            if math.isnan(start) or math.isnan(end):
                raise PromQLError('invalid parameter "start"/"end": both are required')
            step_text = request.query_params.get("step")
            if not step_text:
                raise PromQLError('invalid parameter "step": missing')
            try:
                step = parse_duration(step_text)
            except ValueError as exc:
                raise PromQLError(f'invalid parameter "step": {exc}') from None
            if step <= 0:
                raise PromQLError("zero or negative query resolution step widths are not accepted")
            if end < start:
                raise PromQLError("end timestamp must not be before start time")
            if (end - start) / step + 1 > MAX_POINTS:
                raise PromQLError(
                    "exceed maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)"
                )
            matrix: dict[tuple[tuple[str, str], ...], list[list[Any]]] = {}
            scalar_values: list[list[Any]] = []
            moment = start
            while moment <= end + 1e-9:
                result = engine.instant(expr, moment)
                if isinstance(result, float):
                    scalar_values.append([_timestamp(moment), format_value(result)])
                else:
                    _add_points(matrix, result, moment)
                moment += step
        except PromQLError as exc:
            return _bad_data(str(exc))
        if scalar_values:
            return _success("matrix", [{"metric": {}, "values": scalar_values}])
        return _success(
            "matrix", [{"metric": dict(key), "values": values} for key, values in matrix.items()]
        )

    router.add("GET", PROMETHEUS_PREFIX + "/api/v1/query", query)
    router.add("GET", PROMETHEUS_PREFIX + "/api/v1/query_range", query_range)


def _add_points(
    matrix: dict[tuple[tuple[str, str], ...], list[list[Any]]], series: list[Series], at: float
) -> None:
    for item in series:
        key = tuple(sorted(item.labels.items()))
        matrix.setdefault(key, []).append([_timestamp(at), format_value(item.value)])
