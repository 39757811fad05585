"""Request log and counters.

Every request a tenant serves (admin endpoints excepted) is recorded as a :class:`Call`:
method, route template, decoded path, status and time.  Headers, bodies and query strings
are never recorded, so no token, secret or assertion can end up here.  A dropped connection
(fault injection) is recorded with status ``0``.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    method: str
    route: str
    path: str
    status: int
    time: float


class CallLog:
    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()

    def all(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def filter(self, method: str | None = None, route: str | None = None, status: int | None = None) -> list[Call]:
        return [
            c
            for c in self.all()
            if (method is None or c.method == method.upper())
            and (route is None or c.route == route)
            and (status is None or c.status == status)
        ]

    def count(self, method: str | None = None, route: str | None = None, status: int | None = None) -> int:
        """How many calls matched (``None`` = any)."""
        return len(self.filter(method, route, status))

    def counter(self) -> Counter[tuple[str, str, int]]:
        """``Counter`` keyed by ``(method, route, status)``."""
        return Counter((c.method, c.route, c.status) for c in self.all())

    def summary(self) -> list[dict[str, Any]]:
        return [{"method": m, "route": r, "status": s, "count": n} for (m, r, s), n in sorted(self.counter().items())]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.all()]

    def __len__(self) -> int:
        return len(self._calls)
