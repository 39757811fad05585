"""Okta's SCIM-like filter language, as used by ``search`` and ``filter`` (Users API) and the
System Log ``filter``.

Supported: ``attr op "value"`` with ``eq``, ``sw``, ``co``, ``gt``, ``ge``, ``lt``, ``le``;
``attr pr``; ``and`` / ``or`` (``and`` binds tighter); ``not`` / parentheses; literals are
JSON (strings with ``\\"`` escapes, numbers, ``true``/``false``/``null``).  Attribute paths
are dotted (``profile.email``, ``target.id``); a path through a list matches when any
element does.  Keywords are case-insensitive; whether *values* compare case-insensitively
is chosen per use (``search``: yes, ``filter``: no).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync_sandbox.util import TokenStream, values_at

OPERATORS = ("eq", "sw", "co", "gt", "ge", "lt", "le", "pr")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_MISSING = object()


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Comparison:
    path: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    item: Any


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    i, n = 0, len(text)
    decoder = json.JSONDecoder()
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append((ch, ch))
            i += 1
        elif ch == '"':
            try:
                value, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError as exc:
                raise ExpressionError(f"bad string literal at {i}") from exc
            tokens.append(("lit", value))
            i = end
        elif (m := _NUMBER.match(text, i)) and (ch == "-" or ch.isdigit()):
            tokens.append(("lit", json.loads(m.group(0))))
            i = m.end()
        elif m := _IDENT.match(text, i):
            word = m.group(0)
            lowered = word.lower()
            if lowered in ("true", "false", "null"):
                tokens.append(("lit", json.loads(lowered)))
            elif lowered in ("and", "or", "not") or lowered in OPERATORS:
                tokens.append(("kw", lowered))
            else:
                tokens.append(("ident", word))
            i = m.end()
        else:
            raise ExpressionError(f"unexpected character {ch!r} at {i}")
    return tokens


class _Parser(TokenStream):
    error = ExpressionError
    end_message = "unexpected end of expression"

    def parse(self) -> Any:
        node = self.parse_or()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected token {self.peek()[1]!r}")
        return node

    def parse_or(self) -> Any:
        items = [self.parse_and()]
        while self.peek() == ("kw", "or"):
            self.take()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def parse_and(self) -> Any:
        items = [self.parse_unary()]
        while self.peek() == ("kw", "and"):
            self.take()
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def parse_unary(self) -> Any:
        token = self.peek()
        if token == ("kw", "not"):
            self.take()
            return Not(self.parse_unary())
        if token == ("(", "("):
            self.take()
            node = self.parse_or()
            if self.take() != (")", ")"):
                raise ExpressionError("missing ')'")
            return node
        kind, path = self.take()
        if kind != "ident":
            raise ExpressionError(f"expected an attribute, got {path!r}")
        kind, op = self.take()
        if kind != "kw" or op not in OPERATORS:
            raise ExpressionError(f"expected an operator after {path}, got {op!r}")
        if op == "pr":
            return Comparison(path, op)
        kind, value = self.take()
        if kind != "lit":
            raise ExpressionError(f"expected a literal after {path} {op}")
        return Comparison(path, op, value)


def parse(text: str) -> Any:
    if not text or not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(_tokenize(text)).parse()


def comparisons(node: Any) -> list[Comparison]:
    if isinstance(node, Comparison):
        return [node]
    if isinstance(node, Not):
        return comparisons(node.item)
    return [c for item in node.items for c in comparisons(item)]


def _compare(actual: Any, op: str, expected: Any, fold: bool) -> bool:
    if op == "pr":
        return actual is not None and actual != ""
    if isinstance(actual, str) and isinstance(expected, str):
        a, e = (actual.lower(), expected.lower()) if fold else (actual, expected)
        if op == "eq":
            return a == e
        if op == "sw":
            return a.startswith(e)
        if op == "co":
            return e in a
    elif op == "eq":
        return actual == expected
    if op in ("gt", "ge", "lt", "le"):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return False
        if not isinstance(actual, type(expected)) and not (
            isinstance(actual, int | float) and isinstance(expected, int | float)
        ):
            return False
        try:
            return {
                "gt": actual > expected,
                "ge": actual >= expected,
                "lt": actual < expected,
                "le": actual <= expected,
            }[op]
        except TypeError:
            return False
    return False


def evaluate(node: Any, obj: Any, fold_case: bool) -> bool:
    if isinstance(node, Comparison):
        values = values_at(obj, node.path)
        if node.op == "pr":
            return any(_compare(v, "pr", None, fold_case) for v in values)
        return any(_compare(v, node.op, node.value, fold_case) for v in values)
    if isinstance(node, Not):
        return not evaluate(node.item, obj, fold_case)
    if node.op == "and":
        return all(evaluate(item, obj, fold_case) for item in node.items)
    return any(evaluate(item, obj, fold_case) for item in node.items)


def compile_expression(
    text: str,
    *,
    fold_case: bool,
    allowed_paths: Callable[[str], bool] | None = None,
    allowed_ops: tuple[str, ...] = OPERATORS,
    allow_or: bool = True,
) -> Callable[[Any], bool]:
    """Parse and validate ``text``; return a predicate over JSON-like objects."""
    node = parse(text)
    for comp in comparisons(node):
        if comp.op not in allowed_ops:
            raise ExpressionError(f"operator {comp.op} not supported here")
        if allowed_paths is not None and not allowed_paths(comp.path):
            raise ExpressionError(f"attribute {comp.path} not supported here")
    if not allow_or and _has_or(node):
        raise ExpressionError("'or' not supported here")
    return lambda obj: evaluate(node, obj, fold_case)


def _has_or(node: Any) -> bool:
    if isinstance(node, Comparison):
        return False
    if isinstance(node, Not):
        return _has_or(node.item)
    return node.op == "or" or any(_has_or(i) for i in node.items)
