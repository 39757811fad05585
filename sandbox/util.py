"""Small helpers shared by the tenants: timestamps, identifiers, cursors, field selection."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import string
from typing import Any

_ALNUM = string.ascii_letters + string.digits


def iso8601(ts: float | None) -> str | None:
    """``2024-05-02T09:14:01.862Z`` (UTC, milliseconds), or ``None``."""
    if ts is None:
        return None
    moment = dt.datetime.fromtimestamp(ts, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso8601(text: str) -> float:
    """Parse ``2024-05-02T09:14:01Z`` / ``…01.862Z`` / ``…+00:00`` / ``2024-05-02``."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def maybe_time(value: Any, default: float | None) -> float | None:
    """Fixture timestamps may be ISO strings, epoch numbers or absent."""
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    return parse_iso8601(str(value))


_RANDOM = secrets.SystemRandom()


def random_id(prefix: str, length: int = 20) -> str:
    """Okta-style id: ``prefix`` + random alphanumerics, ``length`` characters in total."""
    return prefix + "".join(_RANDOM.choices(_ALNUM, k=length - len(prefix)))


def random_hex(nbytes: int) -> str:
    return secrets.token_hex(nbytes)


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def parse_bool(value: str | None, default: bool = False) -> bool | None:
    """``true``/``false`` (any case); ``None`` when the value is not a boolean."""
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


def parse_int(value: str | None, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


class TokenStream:
    """The cursor the query parsers (Okta expressions, Auth0 Lucene) walk their tokens with."""

    error: type[Exception] = ValueError
    end_message = "unexpected end of input"

    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise self.error(self.end_message)
        self.pos += 1
        return token


def values_at(obj: Any, path: str) -> list[Any]:
    """All values at a dotted ``path`` (lists fan out); empty when absent. What both tenants'
    query languages (Okta expressions, Auth0 Lucene) match against."""
    current: list[Any] = [obj]
    for part in path.split("."):
        nxt = []
        for value in current:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and part in item:
                    nxt.append(item[part])
        current = nxt
    out: list[Any] = []
    for value in current:
        out.extend(value if isinstance(value, list) else [value])
    return out
