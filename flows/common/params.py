"""What every recipe's parameters share, and how a params model becomes a flow's form.

One pydantic model per recipe (``flows/*/params.py``) is the single source of truth for
its parameters: names, types, defaults, descriptions and every check. This module

* gives those models their shared fields (:class:`RecipeParams`: ``dry_run``,
  ``notify``, ``now``, ``connection``; :class:`ConcurrentRecipeParams` adds
  ``max_concurrency``) and the one :meth:`RecipeParams.evaluation_time`;
* turns a model into the flow's own signature (:func:`flow_signature`), so the Prefect
  UI's custom-run form lists the recipe's settings at the top level with their
  descriptions and defaults (one ``params`` argument would make a person pick a class
  name, or ``None``, before seeing a single setting), and a run created with only some
  parameters merges with its deployment's (Prefect merges top-level keys);
* wraps the recipe's body in a :class:`RecipeFlow`, which validates the flat parameters
  with the model (one error naming each bad field, before the run does anything) and
  still accepts a whole params model: ``await nightly_snapshots(NightlySnapshotsParams(...))``
  as well as ``await nightly_snapshots(dry_run=True)``.

Example:
    >>> from flows.nightly_snapshots.params import NightlySnapshotsParams
    >>> list(flow_signature(NightlySnapshotsParams).parameters)[:2]
    ['selection', 'policy_name']
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, cast, overload

from prefect import Flow
from prefect.exceptions import ParameterTypeError
from pydantic import AwareDatetime, Field, TypeAdapter, ValidationError, WithJsonSchema
from pydantic.fields import FieldInfo

from barrack.models import RequestModel
from tasks.connection import BarrackConnection

__all__ = [
    "LATE_NOTICE",
    "ConcurrentRecipeParams",
    "RecipeFlow",
    "RecipeParams",
    "escape_markdown",
    "flow_signature",
    "recipe_flow",
]

logger = logging.getLogger(__name__)

LATE_NOTICE = timedelta(minutes=1)
"""A run that starts later than this after its scheduled start says so in its log."""

M = TypeVar("M", bound="RecipeParams")
R = TypeVar("R")


class RecipeParams(RequestModel):
    """The parameters every recipe has; each recipe's model adds its own.

    Late runs: a run judges by ``now`` when it is set (replays, tests), else by its
    scheduled start when :attr:`JUDGES_AT_SCHEDULED_START` (a late run still belongs to
    its slot: nightly snapshots, restores and drills), else by the moment it really
    starts (recipes that judge live evidence: see the subclasses' reasons).
    """

    JUDGES_AT_SCHEDULED_START: ClassVar[bool] = True
    """Whether a late run judges by its scheduled start (else by the real moment)."""

    dry_run: bool = Field(default=False, description="Plan and report, change nothing.")
    notify: bool = Field(default=True, description="Send notifications for this run.")
    now: AwareDatetime | None = Field(
        default=None,
        description="Evaluation time (replays and tests); empty means the run's "
        "scheduled start, else the moment it runs.",
    )
    connection: BarrackConnection = Field(
        default_factory=BarrackConnection, description="How to reach Barrack."
    )

    def evaluation_time(self, scheduled: datetime | None, current: datetime) -> datetime:
        """The time this run judges by: ``now`` > the scheduled start > ``current``.

        The scheduled start counts only for recipes that judge a late run by its slot
        (:attr:`JUDGES_AT_SCHEDULED_START`); the others judge by ``current``.

        Args:
            scheduled: the flow run's scheduled (expected) start; None outside a run.
            current: the real moment.
        """
        if self.now is not None:
            return self.now
        if scheduled is not None and self.JUDGES_AT_SCHEDULED_START:
            return scheduled
        return current

    def lateness(self, scheduled: datetime | None, current: datetime) -> timedelta | None:
        """How late the run started, when that is worth a log line (over a minute)."""
        if self.now is not None or scheduled is None:
            return None
        late = current - scheduled
        return late if late > LATE_NOTICE else None


class ConcurrentRecipeParams(RecipeParams):
    """A recipe that acts on many resources at once."""

    max_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Actions in flight at once (API calls and the commands around them).",
    )


# --- the flow's form -------------------------------------------------------------------

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that change
# how a description reads when the UI renders it as Markdown ('train-*' and '*' on one
# line turn into italics; '<policy>' vanishes as an HTML tag).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>~|#&])")


def escape_markdown(text: str) -> str:
    """``text`` with the characters Markdown would eat escaped, so it renders as written.

    Example:
        >>> escape_markdown("e.g. 'train-*'. '*' means all.")
        "e.g. 'train-\\\\*'. '\\\\*' means all."
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` references inlined and its descriptions escaped.

    The flow's parameter schema embeds each field's schema whole (Prefect's own
    references point at the root's definitions, which an embedded schema cannot add to).
    """
    definitions: dict[str, Any] = schema.get("$defs", {})

    def visit(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [visit(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in seen:  # a recursive model: leave the rest open
                return {k: visit(v, seen) for k, v in node.items() if k != "$ref"}
            target = copy.deepcopy(definitions[name])
            # A model's docstring is for developers (doctests, reST); the form shows the
            # field's own description, when the reference carries one.
            target.pop("description", None)
            target.update({k: v for k, v in node.items() if k != "$ref"})
            return visit(target, (*seen, name))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$defs":
                continue
            if key == "description" and isinstance(value, str):
                out[key] = escape_markdown(value)
            elif key in ("properties", "patternProperties") and isinstance(value, dict):
                # property names are keys here, not schema keywords
                out[key] = {name: visit(sub, seen) for name, sub in value.items()}
            else:
                out[key] = visit(value, seen)
        return out

    result = visit(schema, ())
    assert isinstance(result, dict)
    return result


_SHARED_LAST = ("dry_run", "notify", "max_concurrency", "now", "connection")


def _ordered_fields(model: type[RecipeParams]) -> list[str]:
    """The recipe's own fields first (as declared), then the shared ones."""
    own = [name for name in model.model_fields if name not in _SHARED_LAST]
    return own + [name for name in _SHARED_LAST if name in model.model_fields]


def flow_signature(model: type[RecipeParams]) -> inspect.Signature:
    """A flow signature with one keyword parameter per field of ``model``.

    Each parameter's default is the field's default as JSON (what the form shows and
    a run without it gets); its annotation carries the field type's JSON schema with
    nested references inlined, and its description is the field's, escaped for
    Markdown. Prefect's ``parameter_schema`` reads all three from here.
    """
    parameters = []
    for name in _ordered_fields(model):
        info = model.model_fields[name]
        # The field's constraints (ge, le, ...) ride along, so the form flags a bad value.
        constrained = (
            Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        )
        adapter: TypeAdapter[Any] = TypeAdapter(cast(Any, constrained))
        default = adapter.dump_python(info.get_default(call_default_factory=True), mode="json")
        schema = _inline_schema(adapter.json_schema(mode="validation"))
        schema.pop("description", None)  # the field's own description is set below
        description = escape_markdown(info.description or "")
        field = cast(
            FieldInfo,
            Field(
                default=default,
                description=description or None,
                # Prefect titles a parameter by its name; the form reads better as words
                # ("Max Deletions"), as pydantic titles nested fields.
                json_schema_extra={"title": name.replace("_", " ").title()},
            ),
        )
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=field,
                annotation=Annotated[info.annotation, WithJsonSchema(schema)],
            )
        )
    return inspect.Signature(parameters)


class RecipeFlow(Flow[..., Coroutine[Any, Any, R]], Generic[M, R]):
    """A recipe's flow: flat parameters described by a params model, validated by it."""

    params_model: type[M]

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Check the run's parameters with the params model (all fields, all rules).

        Raises:
            ParameterTypeError: every bad field, named (before the run does anything).
        """
        legacy = parameters.get("params")
        if legacy is not None and "params" not in self.params_model.model_fields:
            # A deployment made before the parameters were flat: keep it running.
            logger.warning(
                "%s: parameters in the old shape (one 'params' object); move its fields "
                "to the top level (see docs/parameters.md)",
                self.name,
            )
            parameters = {**_as_mapping(legacy), **parameters}
            del parameters["params"]
        try:
            model = self.params_model.model_validate(parameters)
        except ValidationError as exc:
            raise ParameterTypeError.from_validation_error(exc) from None
        return {name: getattr(model, name) for name in type(model).model_fields}

    # Flow's own overloads take the body's arguments; a recipe also takes its params model.
    @overload  # type: ignore[override]
    def __call__(
        self,
        params: M | Mapping[str, Any] | None = None,
        /,
        *,
        return_state: Literal[False] = False,
        wait_for: Iterable[Any] | None = None,
        **parameters: Any,
    ) -> Coroutine[Any, Any, R]: ...

    @overload
    def __call__(
        self,
        params: M | Mapping[str, Any] | None = None,
        /,
        *,
        return_state: Literal[True],
        wait_for: Iterable[Any] | None = None,
        **parameters: Any,
    ) -> Coroutine[Any, Any, Any]: ...

    def __call__(
        self,
        params: M | Mapping[str, Any] | None = None,
        /,
        *,
        return_state: bool = False,
        wait_for: Iterable[Any] | None = None,
        **parameters: Any,
    ) -> Coroutine[Any, Any, Any]:
        """Run the recipe: ``flow(dry_run=True)``, or ``flow(params_model)``.

        A whole params model (or a mapping of fields, also as the older ``params=``
        keyword) is spread into the flat parameters; keywords given beside it win.
        """
        legacy = parameters.pop("params", None)
        whole = params if params is not None else legacy
        merged = {**_as_mapping(whole), **parameters}
        # Flow.__call__'s overloads do not see our flattened keywords; the engine does.
        call = cast(Callable[..., Coroutine[Any, Any, Any]], super().__call__)
        return call(return_state=return_state, wait_for=wait_for, **merged)


def _as_mapping(params: object) -> dict[str, Any]:
    """A params model's fields by name (values kept as they are), or a mapping's items."""
    if params is None:
        return {}
    if isinstance(params, RequestModel):
        return {name: getattr(params, name) for name in type(params).model_fields}
    if isinstance(params, Mapping):
        return dict(params)
    raise ParameterTypeError(
        f"params: expected a parameters model or a mapping, got {type(params).__name__}"
    )


def recipe_flow(
    model: type[M], *, name: str, **options: Any
) -> Callable[[Callable[[M], Awaitable[R]]], RecipeFlow[M, R]]:
    """Make ``async def body(params: Model) -> Report`` a flow with flat parameters.

    The flow's signature comes from ``model`` (:func:`flow_signature`); the engine
    validates a run's parameters with it and hands the body one model instance.
    ``options`` go to Prefect's :class:`~prefect.Flow` (hooks, logging).
    """

    def decorate(body: Callable[[M], Awaitable[R]]) -> RecipeFlow[M, R]:
        @functools.wraps(body)
        async def entry(**parameters: Any) -> R:
            return await body(model.model_validate(parameters))

        # inspect.signature stops at __signature__ before following __wrapped__.
        entry.__signature__ = flow_signature(model)  # type: ignore[attr-defined]
        entry.__annotations__ = {}
        recipe: RecipeFlow[M, R] = RecipeFlow(entry, name=name, validate_parameters=True, **options)
        recipe.params_model = model
        return recipe

    return decorate
