"""Reading recipe parameters from a YAML or JSON file, with errors that name the field.

The file has the shape of a deployment's ``parameters``: the recipe's fields at the top
level (``dry_run: true``, ``selection: {name_globs: [train-*]}``), so one file serves
``barrack-ops run --params`` and ``prefect.yaml`` alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["ParamsFileError", "load_params"]

M = TypeVar("M", bound=BaseModel)


class ParamsFileError(ValueError):
    """A parameters file that cannot be read or does not validate."""


def load_params(model: type[M], path: Path | None, **overrides: Any) -> M:
    """Validate ``model`` from ``path`` (YAML or JSON; None = defaults) plus overrides.

    Raises:
        ParamsFileError: the file is missing or malformed, or a field is invalid; the
            message names the file and every bad field.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ParamsFileError(f"{path}: cannot read ({exc.strerror})") from None
        try:
            loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ParamsFileError(f"{path}: not valid {path.suffix or 'YAML'}: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ParamsFileError(f"{path}: must hold a mapping of parameter names to values")
        if set(loaded) == {"params"} and "params" not in model.model_fields:
            raise ParamsFileError(
                f"{path}: parameters are top-level keys (as in a deployment's parameters); "
                "move the fields under 'params' up one level"
            )
        data.update(loaded)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        source = str(path) if path else "parameters"
        raise ParamsFileError(f"{source}: {problems}") from None
