"""JSON on the wire, with money exact both ways.

Barrack writes money as JSON numbers (``"USD": 2.29``). Read through a float, ``0.1`` is
already ``0.1000000000000000055...`` and a sum of a thousand bills drifts; pydantic's own
JSON parser goes through a float for ``Decimal`` fields. So the client parses a body with
the standard library, every non-integer number straight from its text into a
:class:`~decimal.Decimal`, and validates the Python objects.

Writing is the mirror image: pydantic can only emit a ``Decimal`` as a string or a float.
A wire dump asks the :data:`~barrack.models._base.Money` serialiser for a marked string
(``"\\u0000barrack-money:2.29"``) and then swaps each marked string for its bare digits,
so the number on the wire has exactly the Decimal's digits. The mark starts with a NUL,
which no name, description or id the API accepts can contain.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel

from barrack.models._base import WIRE_CONTEXT

__all__ = ["dump_wire", "load_wire"]

_MARKED_MONEY: Final = re.compile(
    rb'"\\u0000barrack-money:(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"'
)


def load_wire(content: bytes | str) -> Any:
    """Parse a JSON body; numbers with a fraction or exponent become exact Decimals.

    Raises:
        ValueError: the body is not JSON (``json.JSONDecodeError`` is a ValueError).
    """
    return json.loads(content, parse_float=Decimal)


def dump_wire(model: BaseModel, *, exclude_none: bool = False) -> bytes:
    """A model as the JSON body Barrack expects: aliases, payload keys, exact money."""
    raw = model.__pydantic_serializer__.to_json(
        model, by_alias=True, exclude_none=exclude_none, context={WIRE_CONTEXT: True}
    )
    return _MARKED_MONEY.sub(rb"\1", raw)
