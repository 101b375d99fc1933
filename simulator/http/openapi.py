"""``/openapi.json``, built from the route table and the models' JSON schemas."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from barrack import models as barrack_models
from barrack._wire import API_PREFIX, ERROR_STATUS, ROUTES, Route
from simulator.http.parsing import RAW_BODY_MODELS

__all__ = ["openapi_document"]

_Mode = Literal["validation", "serialization"]


def _request_model(route: Route) -> type[BaseModel] | None:
    if route.request is not None:
        model: type[BaseModel] = getattr(barrack_models, route.request)
        return model
    return RAW_BODY_MODELS.get(route.operation)


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.path_params
    ]
    for name in route.query:
        schema: dict[str, Any] = {"type": "string"}
        if name in {"page", "per_page"}:
            schema = {"type": "integer", "minimum": 1}
            if name == "per_page":
                schema["maximum"] = 100
        parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    return parameters


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every ``/api`` operation (built once)."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (barrack_models.ErrorResponse, "serialization")
    ]
    for route in ROUTES.values():
        wanted.append((getattr(barrack_models, route.response), "serialization"))
        request = _request_model(route)
        if request is not None:
            wanted.append((request, "validation"))
    unique = list(dict.fromkeys(wanted))
    refs, schema = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    error_ref = refs[(barrack_models.ErrorResponse, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES.values():
        response = getattr(barrack_models, route.response)
        operation: dict[str, Any] = {
            "operationId": route.operation,
            "tags": [route.operation.split(".")[0]],
            "summary": (response.__doc__ or route.operation).strip().splitlines()[0],
            "parameters": _parameters(route),
            "security": [{"bearerAuth": []}],
            "responses": {
                str(route.status): {
                    "description": "success",
                    "content": {"application/json": {"schema": refs[(response, "serialization")]}},
                },
                **{
                    str(status): {
                        "description": ", ".join(
                            code for code, s in ERROR_STATUS.items() if s == status
                        ),
                        "content": {"application/json": {"schema": error_ref}},
                    }
                    for status in sorted(set(ERROR_STATUS.values()))
                },
            },
        }
        request = _request_model(route)
        if request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(request, "validation")]}},
            }
        paths.setdefault(API_PREFIX + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Barrack API (barrack-ops simulator)",
            "version": "1",
            "description": "The project's wire contract (Part B), served by the simulator.",
        },
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
