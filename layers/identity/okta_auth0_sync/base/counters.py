"""Process-wide tallies of API calls and tokens minted.

One place that every HTTP call and every token mint reports to, so tests, benchmarks and the
run reports can say exactly how many calls a flow made (by tenant, method, route template and
status) and how many tokens it minted. Values are counts only; nothing sensitive is recorded.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar


@dataclass(frozen=True)
class ApiCall:
    tenant: str
    method: str
    route: str
    status: int | str  # HTTP status, or "network-error"


_Key = TypeVar("_Key")


class _Tally(Generic[_Key]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[_Key] = Counter()

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> Counter[_Key]:
        with self._lock:
            return Counter(self._counts)


@dataclass
class Usage:
    """What one piece of work (an invocation) spent: API calls per tenant, 429s, tokens minted."""

    api_calls: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    tokens_minted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "api_calls": dict(self.api_calls),
            "rate_limited": dict(self.rate_limited),
            "tokens_minted": self.tokens_minted,
        }


_scopes: ContextVar[tuple[Usage, ...]] = ContextVar("okta_auth0_sync_usage", default=())


@contextmanager
def usage() -> Iterator[Usage]:
    """Count what the code inside spends (in this thread/context only, unlike the process-wide
    tallies): a Lambda invocation reports its own usage even when tests run many at once."""
    current = Usage()
    token = _scopes.set((*_scopes.get(), current))
    try:
        yield current
    finally:
        _scopes.reset(token)


class ApiCalls(_Tally[ApiCall]):
    def record(self, tenant: str, method: str, route: str, status: int | str) -> None:
        with self._lock:
            self._counts[ApiCall(tenant, method, route, status)] += 1
        for scope in _scopes.get():
            scope.api_calls[tenant] += 1
            if status == 429:
                scope.rate_limited[tenant] += 1

    def total(
        self,
        tenant: str | None = None,
        *,
        method: str | None = None,
        route: str | None = None,
        status: int | str | None = None,
    ) -> int:
        with self._lock:
            return sum(
                n
                for call, n in self._counts.items()
                if (tenant is None or call.tenant == tenant)
                and (method is None or call.method == method)
                and (route is None or call.route == route)
                and (status is None or call.status == status)
            )

    def by_tenant(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for call, n in self.snapshot().items():
            out[call.tenant] += n
        return dict(out)

    def by_route(self) -> dict[str, int]:
        """``{"okta GET /api/v1/users/{id} 200": 3, ...}``: the readable form for reports."""
        return {
            f"{c.tenant} {c.method} {c.route} {c.status}": n
            for c, n in sorted(
                self.snapshot().items(), key=lambda kv: (kv[0].tenant, kv[0].route, kv[0].method, str(kv[0].status))
            )
        }


class TokensMinted(_Tally[str]):
    def record(self, connection: str) -> None:
        with self._lock:
            self._counts[connection] += 1
        for scope in _scopes.get():
            scope.tokens_minted += 1

    def total(self, connection: str | None = None) -> int:
        with self._lock:
            if connection is None:
                return sum(self._counts.values())
            return sum(n for key, n in self._counts.items() if key == connection or key.startswith(connection + "#"))


api_calls = ApiCalls()
tokens_minted = TokensMinted()
