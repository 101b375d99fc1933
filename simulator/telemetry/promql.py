"""A small PromQL subset: parse a query into a tree the telemetry engine evaluates.

Supported (anything else is a ``PromQLError``, answered as Prometheus' ``bad_data``)::

    metric                                   instant selector
    metric{label="v", label=~"re", ...}      matchers: =  !=  =~  !~
    {__name__="metric", ...}
    max_over_time(selector[5m])              also min_, avg_, sum_, count_, last_over_time
    max by (instance_id) (expr)              sum, min, max, avg, count; by (...) / without (...)
    max(expr) by (instance_id)               the grouping may also follow
    expr < 5                                 comparison with a number filters (<, >, <=, >=, ==, !=)
    (expr)                                   parentheses
    42                                       a number (a scalar)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from simulator.timeparse import parse_duration

__all__ = [
    "AGGREGATIONS",
    "OVER_TIME",
    "Aggregate",
    "Compare",
    "Expr",
    "Matcher",
    "Number",
    "PromQLError",
    "RangeFunction",
    "Selector",
    "parse",
]


class PromQLError(ValueError):
    """The query is not in the supported subset (or not PromQL at all)."""


AGGREGATIONS: Final = frozenset({"sum", "min", "max", "avg", "count"})
OVER_TIME: Final = frozenset(
    {"max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "count_over_time",
     "last_over_time"}
)  # fmt: skip
_COMPARISONS: Final = ("<=", ">=", "==", "!=", "<", ">")


@dataclass(frozen=True, slots=True)
class Matcher:
    """A label matcher; regexes are anchored, as in Prometheus."""

    label: str
    op: str
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        """True when ``labels`` satisfy the matcher (a missing label is the empty string)."""
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = re.fullmatch(self.value, actual) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True, slots=True)
class Selector:
    """An instant vector selector."""

    matchers: tuple[Matcher, ...]


@dataclass(frozen=True, slots=True)
class RangeFunction:
    """``<func>_over_time(selector[range])``."""

    function: str
    selector: Selector
    range_s: float


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``<op> by|without (labels) (expr)``."""

    op: str
    expr: Expr
    by: tuple[str, ...] | None
    without: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Compare:
    """``expr <op> number``: keeps the series whose value satisfies it."""

    expr: Expr
    op: str
    value: float


@dataclass(frozen=True, slots=True)
class Number:
    """A number literal."""

    value: float


Expr = Selector | RangeFunction | Aggregate | Compare | Number

_TOKEN: Final = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z_])
      | (?P<duration>\[[^\]]*\])
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
      | (?P<op>=~|!~|!=|==|<=|>=|<|>|=|[(){},])
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise PromQLError(f'unexpected character {stripped[position:].lstrip()[:1]!r} '
                              f'at position {position}')  # fmt: skip
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise PromQLError(f"unexpected end of query, expected {value or kind}")
        if (value is not None and token[1] != value) or (kind is not None and token[0] != kind):
            raise PromQLError(f"unexpected {token[1]!r}, expected {value or kind}")
        self.position += 1
        return token

    def parse(self) -> Expr:
        expr = self.comparison()
        leftover = self.peek()
        if leftover is not None:
            raise PromQLError(f"unexpected {leftover[1]!r} after the end of the expression")
        return expr

    def comparison(self) -> Expr:
        expr = self.unary()
        token = self.peek()
        if token is not None and token[1] in _COMPARISONS:
            self.position += 1
            if self.peek() == ("ident", "bool"):
                raise PromQLError("the bool modifier is not supported")
            number = self.take(kind="number")
            return Compare(expr, token[1], float(number[1]))
        return expr

    def unary(self) -> Expr:
        token = self.peek()
        if token is None:
            raise PromQLError("empty query")
        kind, value = token
        if kind == "number":
            self.position += 1
            return Number(float(value))
        if value == "(":
            self.position += 1
            inner = self.comparison()
            self.take(")")
            return inner
        if value == "{":
            return self.selector(None)
        if kind == "ident":
            if value in AGGREGATIONS:
                return self.aggregate()
            if value in OVER_TIME:
                return self.over_time()
            following = (
                self.tokens[self.position + 1] if self.position + 1 < len(self.tokens) else None
            )
            if following is not None and following[1] == "(":
                raise PromQLError(f"function {value!r} is not supported")
            self.position += 1
            return self.selector(value)
        raise PromQLError(f"unexpected {value!r}")

    def selector(self, name: str | None, in_range: bool = False) -> Selector:
        matchers: list[Matcher] = []
        if name is not None:
            matchers.append(Matcher("__name__", "=", name))
        if self.peek() == ("op", "{"):
            self.position += 1
            while self.peek() != ("op", "}"):
                label = self.take(kind="ident")[1]
                op = self.take(kind="op")[1]
                if op not in {"=", "!=", "=~", "!~"}:
                    raise PromQLError(f"unexpected matcher operator {op!r}")
                literal = self.take(kind="string")[1]
                value = bytes(literal[1:-1], "utf-8").decode("unicode_escape")
                if op in {"=~", "!~"}:
                    try:
                        re.compile(value)
                    except re.error as exc:
                        raise PromQLError(f"invalid regular expression {value!r}: {exc}") from None
                matchers.append(Matcher(label, op, value))
                if self.peek() == ("op", ","):
                    self.position += 1
            self.take("}")
        if not matchers:
            raise PromQLError("a vector selector needs a metric name or a matcher")
        following = self.peek()
        if not in_range and following is not None and following[0] == "duration":
            raise PromQLError("a range vector is only supported inside *_over_time(...)")
        return Selector(tuple(matchers))

    def over_time(self) -> RangeFunction:
        function = self.take(kind="ident")[1]
        self.take("(")
        token = self.peek()
        if token is None or (token[0] != "ident" and token[1] != "{"):
            raise PromQLError(f"{function} expects a range vector such as metric[5m]")
        name = None
        if token[0] == "ident":
            name = token[1]
            self.position += 1
        selector = self.selector(name, in_range=True)
        duration = self.take(kind="duration")[1][1:-1]
        try:
            seconds = parse_duration(duration)
        except ValueError as exc:
            raise PromQLError(str(exc)) from None
        if seconds <= 0:
            raise PromQLError("a range must be positive")
        self.take(")")
        return RangeFunction(function, selector, seconds)

    def aggregate(self) -> Aggregate:
        op = self.take(kind="ident")[1]
        by, without = self.grouping()
        self.take("(")
        inner = self.comparison()
        self.take(")")
        if by is None and without is None:
            by, without = self.grouping()
        return Aggregate(op, inner, by, without)

    def grouping(self) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        token = self.peek()
        if token is None or token[1] not in {"by", "without"}:
            return None, None
        self.position += 1
        self.take("(")
        labels: list[str] = []
        while self.peek() != ("op", ")"):
            labels.append(self.take(kind="ident")[1])
            if self.peek() == ("op", ","):
                self.position += 1
        self.take(")")
        return (tuple(labels), None) if token[1] == "by" else (None, tuple(labels))


def parse(query: str) -> Expr:
    """Parse a query of the supported subset.

    Raises:
        PromQLError: naming what is not understood.

    Example:
        >>> parse('max by (instance_id) (max_over_time(DCGM_FI_DEV_GPU_UTIL[1h]))').op
        'max'
    """
    if not query.strip():
        raise PromQLError("empty query")
    return _Parser(query).parse()
