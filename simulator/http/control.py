"""The simulator's own control routes (B7), behind ``Authorization: Bearer <admin token>``.

Every answer is ``{"success": true, "data": ...}``; every error the contract's
``ErrorResponse``. See docs/simulator.md for the payloads.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from starlette.requests import Request

from barrack.models.enums import GpuModelEnum, RegionEnum
from simulator.billing import money
from simulator.errors import ValidationFailed
from simulator.faults import FaultRules
from simulator.http.parsing import loads, validation_failed
from simulator.http.responses import json_reply
from simulator.http.router import HTTPReply, Router
from simulator.runtime import SimRuntime
from simulator.scenarios import ScenarioError, builtin_scenario, parse_scenario_yaml
from simulator.settings import SimSettings
from simulator.telemetry.profiles import ProfileSpec
from simulator.timeparse import parse_duration

__all__ = ["CONTROL_PREFIX", "add_control_routes"]

CONTROL_PREFIX = "/_sim"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioRequest(_Body):
    """``POST /_sim/scenario``: a built-in scenario by name, or a YAML document."""

    name: str | None = None
    yaml: str | None = None
    seed: int | None = None
    instances: Annotated[int, Field(ge=0, le=100_000)] | None = None
    snapshots_per_instance: Annotated[int, Field(ge=0, le=1000)] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ScenarioRequest:
        if (self.name is None) == (self.yaml is None):
            raise ValueError('give exactly one of "name" and "yaml"')
        return self


def _duration(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("seconds is a number, or text such as 90s, 5m, 2h")
    return parse_duration(value)


class AdvanceRequest(_Body):
    """``POST /_sim/clock/advance``."""

    seconds: Annotated[float, BeforeValidator(_duration), Field(ge=0, le=10 * 365 * 86400)]


class TopUpRequest(_Body):
    """``POST /_sim/balance/top-up``."""

    amount: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]


class AccountRequest(_Body):
    """``PUT /_sim/account``."""

    profile_complete: bool


class StockRequest(_Body):
    """``PUT /_sim/stock``."""

    region: RegionEnum
    gpu_model: GpuModelEnum
    available: Annotated[int, Field(ge=0)]


def _parse(model: type[BaseModel], raw: bytes) -> Any:
    if not raw.strip():
        raise ValidationFailed("body", "a JSON body is required")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_failed(exc) from None


def add_control_routes(router: Router, runtime: SimRuntime) -> None:
    """Mount every control route on ``router``."""
    backend = runtime.backend

    def ok(data: Any) -> HTTPReply:
        return json_reply({"success": True, "message": None, "data": data})

    def summary() -> dict[str, Any]:
        world = backend.world
        return {
            "scenario": backend.scenario.name,
            "seed": backend.seed,
            "start": backend.start.isoformat().replace("+00:00", "Z"),
            "now": world.now.isoformat().replace("+00:00", "Z"),
            "instances": len(world.state.instances),
            "snapshots": len(world.state.snapshots),
        }

    def clock() -> dict[str, Any]:
        now = backend.sync()
        return {
            "now": now.isoformat().replace("+00:00", "Z"),
            "mode": str(backend.clock.mode),
            "speed": backend.clock.speed,
            "start": backend.start.isoformat().replace("+00:00", "Z"),
        }

    async def reset(request: Request, params: dict[str, str]) -> HTTPReply:
        runtime.reset()
        return ok(summary())

    async def scenario(request: Request, params: dict[str, str]) -> HTTPReply:
        body: ScenarioRequest = _parse(ScenarioRequest, await request.body())
        try:
            if body.yaml is not None:
                spec = parse_scenario_yaml(body.yaml)
            else:
                spec = builtin_scenario(
                    body.name or "",
                    instances=body.instances,
                    snapshots_per_instance=body.snapshots_per_instance,
                )
            seed = body.seed if body.seed is not None else (spec.seed or backend.seed)
            runtime.load(spec, seed)
        except ScenarioError as exc:
            raise ValidationFailed("yaml" if body.yaml is not None else "name", str(exc)) from None
        return ok(summary())

    async def get_clock(request: Request, params: dict[str, str]) -> HTTPReply:
        return ok(clock())

    async def advance(request: Request, params: dict[str, str]) -> HTTPReply:
        body: AdvanceRequest = _parse(AdvanceRequest, await request.body())
        backend.advance(body.seconds)
        return ok(clock())

    async def put_faults(request: Request, params: dict[str, str]) -> HTTPReply:
        body: FaultRules = _parse(FaultRules, await request.body())
        runtime.faults.set(body.rules, body.seed)
        return ok({"rules": [r.model_dump() for r in runtime.faults.rules]})

    async def delete_faults(request: Request, params: dict[str, str]) -> HTTPReply:
        runtime.faults.clear()
        return ok({"rules": []})

    async def get_faults(request: Request, params: dict[str, str]) -> HTTPReply:
        return ok({"rules": [r.model_dump() for r in runtime.faults.rules]})

    async def requests(request: Request, params: dict[str, str]) -> HTTPReply:
        return ok([entry.to_json() for entry in runtime.log.entries()])

    async def clear_requests(request: Request, params: dict[str, str]) -> HTTPReply:
        runtime.log.clear()
        return ok([])

    async def utilisation(request: Request, params: dict[str, str]) -> HTTPReply:
        spec: ProfileSpec = _parse(ProfileSpec, await request.body())
        backend.sync()
        instance = backend.instances.set_profile(params["instance_id"], spec)
        return ok({"instance_id": instance.id, "profile": spec.model_dump(mode="json")})

    async def top_up(request: Request, params: dict[str, str]) -> HTTPReply:
        body: TopUpRequest = _parse(TopUpRequest, await request.body())
        backend.sync()
        balance = backend.account.top_up(body.amount)
        return ok({"balance": str(money(balance)), "currency": backend.world.currency})

    async def account(request: Request, params: dict[str, str]) -> HTTPReply:
        body: AccountRequest = _parse(AccountRequest, await request.body())
        backend.sync()
        backend.account.set_profile_complete(body.profile_complete)
        state = backend.world.state.account
        return ok(
            {
                "currency": state.currency,
                "profile_complete": state.profile_complete,
                "balance": str(money(backend.world.balance())),
            }
        )

    async def stock(request: Request, params: dict[str, str]) -> HTTPReply:
        body: StockRequest = _parse(StockRequest, await request.body())
        backend.sync()
        available = backend.catalog.set_stock(str(body.region), str(body.gpu_model), body.available)
        return ok({"region": body.region, "gpu_model": body.gpu_model, "available": available})

    async def get_settings(request: Request, params: dict[str, str]) -> HTTPReply:
        return ok(backend.settings.model_dump(mode="json"))

    async def put_settings(request: Request, params: dict[str, str]) -> HTTPReply:
        changes = loads(await request.body())
        if not isinstance(changes, dict):
            raise ValidationFailed("body", "settings are a JSON object of the fields to change")
        merged = {**backend.settings.model_dump(), **changes}
        try:
            settings = SimSettings.model_validate(merged)
        except ValidationError as exc:
            raise validation_failed(exc) from None
        backend.world.settings = settings
        if not settings.rate_limited:
            runtime.limiter.reset()
        return ok(settings.model_dump(mode="json"))

    prefix = CONTROL_PREFIX
    for method, path, endpoint in (
        ("POST", "/reset", reset),
        ("POST", "/scenario", scenario),
        ("GET", "/clock", get_clock),
        ("POST", "/clock/advance", advance),
        ("GET", "/faults", get_faults),
        ("PUT", "/faults", put_faults),
        ("DELETE", "/faults", delete_faults),
        ("GET", "/requests", requests),
        ("DELETE", "/requests", clear_requests),
        ("PUT", "/instances/{instance_id}/gpu-utilization", utilisation),
        ("POST", "/balance/top-up", top_up),
        ("PUT", "/account", account),
        ("PUT", "/stock", stock),
        ("GET", "/settings", get_settings),
        ("PUT", "/settings", put_settings),
    ):
        router.add(method, prefix + path, endpoint)
