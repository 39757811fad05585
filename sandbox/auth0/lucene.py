"""A subset of the Lucene query syntax Auth0's user search (``search_engine=v3``) accepts.

Supported::

    email:"jane@example.com"            field:value, quoted or bare
    user_id:(auth0|1 OR "okta|2")       a value group (OR / AND inside)
    name:jo*   user_id:auth0*            trailing (or leading) ``*`` wildcards, ``?``
    logins_count:[1 TO 10]  created_at:{2024-01-01 TO *}   ranges
    _exists_:app_metadata.okta_sync      existence
    a AND b, a OR b, NOT a, -a, (…)      boolean operators (upper case), implicit OR
    app_metadata.okta_sync.deactivated:true   dotted paths, arrays fan out (identities.*)

Text fields ``email``, ``name``, ``given_name``, ``family_name``, ``nickname`` (and
``username``) compare case-insensitively; everything else (``user_id``, metadata…) is
case-sensitive, as in Auth0.  A bare term without a field matches ``email``, ``name``,
``nickname`` or ``user_id``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync_sandbox.util import TokenStream, values_at

CASE_INSENSITIVE = frozenset({"email", "name", "given_name", "family_name", "nickname", "username"})
DEFAULT_FIELDS = ("email", "name", "nickname", "user_id")


class LuceneError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    field: str | None
    value: str
    quoted: bool = False


@dataclass(frozen=True)
class Range:
    field: str
    low: str
    high: str
    include_low: bool
    include_high: bool


@dataclass(frozen=True)
class Exists:
    field: str


@dataclass(frozen=True)
class Bool:
    op: str  # AND | OR
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Negate:
    item: Any


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) |
        (?P<range>[\[{][^\]}]*[\]}]) |
        (?P<quoted>"(?:[^"\\]|\\.)*") |
        (?P<field>[A-Za-z_][\w.]*):(?!\s) |
        (?P<minus>-)(?=\S) |
        (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise LuceneError(f"cannot parse query near {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word" and value in ("AND", "OR", "NOT", "&&", "||"):
            kind, value = "op", {"&&": "AND", "||": "OR"}.get(value, value)
        tokens.append((kind, value))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser(TokenStream):
    error = LuceneError
    end_message = "unexpected end of query"

    def parse(self) -> Any:
        node = self.parse_or(None)
        if self.peek() is not None:
            raise LuceneError(f"unexpected {self.peek()[1]!r}")
        return node

    def parse_or(self, field: str | None) -> Any:
        items = [self.parse_and(field)]
        while True:
            tok = self.peek()
            if tok is None or tok[0] == "rparen":
                break
            if tok == ("op", "OR"):
                self.take()
            items.append(self.parse_and(field))  # implicit OR between clauses
        return items[0] if len(items) == 1 else Bool("OR", tuple(items))

    def parse_and(self, field: str | None) -> Any:
        items = [self.parse_unary(field)]
        while self.peek() == ("op", "AND"):
            self.take()
            items.append(self.parse_unary(field))
        return items[0] if len(items) == 1 else Bool("AND", tuple(items))

    def parse_unary(self, field: str | None) -> Any:
        tok = self.peek()
        if tok in (("op", "NOT"), ("minus", "-")):
            self.take()
            return Negate(self.parse_unary(field))
        return self.parse_primary(field)

    def parse_primary(self, field: str | None) -> Any:
        kind, value = self.take()
        if kind == "lparen":
            node = self.parse_or(field)
            if self.take()[0] != "rparen":
                raise LuceneError("missing ')'")
            return node
        if kind == "field":
            if field is not None:
                raise LuceneError("nested field")
            if value == "_exists_":
                kind2, target = self.take()
                if kind2 not in ("word", "quoted"):
                    raise LuceneError("_exists_ needs a field name")
                return Exists(target.strip('"'))
            nxt = self.peek()
            if nxt is not None and nxt[0] == "lparen":
                self.take()
                node = self.parse_or(value)
                if self.take()[0] != "rparen":
                    raise LuceneError("missing ')'")
                return node
            return self.parse_primary(value)
        if kind == "range":
            if field is None:
                raise LuceneError("a range needs a field")
            inner = value[1:-1]
            parts = re.split(r"\s+TO\s+", inner.strip())
            if len(parts) != 2:
                raise LuceneError("ranges are written [low TO high]")
            return Range(field, parts[0], parts[1], value[0] == "[", value[-1] == "]")
        if kind == "quoted":
            return Term(field, re.sub(r"\\(.)", r"\1", value[1:-1]), quoted=True)
        if kind == "word":
            return Term(field, value)
        raise LuceneError(f"unexpected {value!r}")


def parse(query: str) -> Any:
    if not query or not query.strip():
        raise LuceneError("empty query")
    return _Parser(_tokenize(query)).parse()


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _term_matches(term: Term, field: str, value: Any) -> bool:
    if value is None or isinstance(value, dict):
        return False
    text, wanted = _as_text(value), term.value
    if field.split(".")[-1] in CASE_INSENSITIVE or field in CASE_INSENSITIVE:
        text, wanted = text.lower(), wanted.lower()
    if not term.quoted and ("*" in wanted or "?" in wanted):
        return fnmatch.fnmatchcase(text, wanted)
    return text == wanted


def _range_matches(node: Range, value: Any) -> bool:
    def cmp(a: Any, b: str) -> int:
        try:
            x, y = float(a), float(b)
        except (TypeError, ValueError):
            x, y = _as_text(a), b  # type: ignore[assignment]
        return (x > y) - (x < y)

    if value is None or isinstance(value, dict | list):
        return False
    if node.low != "*":
        c = cmp(value, node.low)
        if c < 0 or (c == 0 and not node.include_low):
            return False
    if node.high != "*":
        c = cmp(value, node.high)
        if c > 0 or (c == 0 and not node.include_high):
            return False
    return True


def matches(node: Any, user: dict[str, Any]) -> bool:
    if isinstance(node, Term):
        fields = (node.field,) if node.field else DEFAULT_FIELDS
        return any(_term_matches(node, f, v) for f in fields for v in values_at(user, f))
    if isinstance(node, Range):
        return any(_range_matches(node, v) for v in values_at(user, node.field))
    if isinstance(node, Exists):
        return any(v is not None for v in values_at(user, node.field))
    if isinstance(node, Negate):
        return not matches(node.item, user)
    if node.op == "AND":
        return all(matches(i, user) for i in node.items)
    return any(matches(i, user) for i in node.items)


def exact_user_ids(node: Any) -> set[str] | None:
    """The user ids a query is limited to when it is ``user_id:(a OR b ...)`` with exact values
    (possibly ANDed with other terms): lets the search look those users up instead of scanning
    every user. ``None`` when the query does not pin ``user_id`` down."""
    if isinstance(node, Term):
        if node.field == "user_id" and not any(c in node.value for c in "*?"):
            return {node.value}
        return None
    if isinstance(node, Bool):
        parts = [exact_user_ids(i) for i in node.items]
        if node.op == "OR":
            return None if any(p is None for p in parts) else set().union(*parts)
        pinned = [p for p in parts if p is not None]
        return set.intersection(*pinned) if pinned else None
    return None
