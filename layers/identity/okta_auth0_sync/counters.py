"""Process-wide tallies of API calls and tokens minted.

One place that every HTTP call and every token mint reports to, so tests, benchmarks and the
run reports can say exactly how many calls a flow made (by tenant, method, route template and
status) and how many tokens it minted. Values are counts only; nothing sensitive is recorded.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiCall:
    tenant: str
    method: str
    route: str
    status: int | str  # HTTP status, or "network-error"


class _Tally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter = Counter()

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> Counter:
        with self._lock:
            return Counter(self._counts)


class ApiCalls(_Tally):
    def record(self, tenant: str, method: str, route: str, status: int | str) -> None:
        with self._lock:
            self._counts[ApiCall(tenant, method, route, status)] += 1

    def total(self, tenant: str | None = None, *, method: str | None = None, route: str | None = None,
              status: int | str | None = None) -> int:
        with self._lock:
            return sum(n for call, n in self._counts.items()
                       if (tenant is None or call.tenant == tenant)
                       and (method is None or call.method == method)
                       and (route is None or call.route == route)
                       and (status is None or call.status == status))

    def by_tenant(self) -> dict[str, int]:
        out: Counter = Counter()
        for call, n in self.snapshot().items():
            out[call.tenant] += n
        return dict(out)

    def by_route(self) -> dict[str, int]:
        """``{"okta GET /api/v1/users/{id} 200": 3, ...}``: the readable form for reports."""
        return {f"{c.tenant} {c.method} {c.route} {c.status}": n for c, n in sorted(
            self.snapshot().items(), key=lambda kv: (kv[0].tenant, kv[0].route, kv[0].method, str(kv[0].status)))}


class TokensMinted(_Tally):
    def record(self, connection: str) -> None:
        with self._lock:
            self._counts[connection] += 1

    def total(self, connection: str | None = None) -> int:
        with self._lock:
            if connection is None:
                return sum(self._counts.values())
            return sum(n for key, n in self._counts.items() if key == connection or key.startswith(connection + "#"))


api_calls = ApiCalls()
tokens_minted = TokensMinted()
