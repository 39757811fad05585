"""Fault injection.

A :class:`Fault` matches requests by method and route (``fnmatch`` patterns tried against
both the route template, e.g. ``/api/v2/users/{id}``, and the decoded path) and then does
one of:

* ``"error"``: answer with ``status`` (default 500) and a realistic body for the tenant
  (or ``body``/``headers`` given explicitly);
* ``"delay"``: wait ``delay`` seconds (wall clock) and then serve the request normally;
* ``"drop"``: close the connection without sending a response.

``delay`` also applies before ``"error"`` and ``"drop"``.  Which matching requests are hit:
the next ``times`` of them (then the fault retires itself), every ``every``-th one, or each
with ``probability`` (drawn from the injector's seedable RNG).  With none of these, every
matching request is hit.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

ACTIONS = ("error", "delay", "drop")


@dataclass
class Fault:
    action: str = "error"
    method: str = "*"
    route: str = "*"
    status: int = 500
    body: Any = None
    headers: dict[str, str] | None = None
    delay: float = 0.0
    times: int | None = None
    every: int | None = None
    probability: float | None = None
    id: str = ""
    matched: int = 0  # matching requests seen
    fired: int = 0  # requests actually hit

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"fault action must be one of {ACTIONS}, not {self.action!r}")
        if self.action == "error" and not 400 <= int(self.status) <= 599:
            raise ValueError("error faults need a 4xx/5xx status")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1")

    def matches(self, method: str, route: str, path: str) -> bool:
        if not fnmatch.fnmatchcase(method.upper(), self.method.upper()):
            return False
        return fnmatch.fnmatchcase(route, self.route) or fnmatch.fnmatchcase(path, self.route)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultInjector:
    """The faults of one tenant.  Thread-safe."""

    seed: int | None = None
    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def add(self, action: str = "error", **kwargs: Any) -> Fault:
        """Add a fault; see the module docstring for the parameters.  Returns it."""
        fault = Fault(action=action, **kwargs)
        with self._lock:
            fault.id = fault.id or f"flt_{next(self._ids)}"
            self._faults.append(fault)
        return fault

    def error(self, route: str = "*", status: int = 500, **kwargs: Any) -> Fault:
        return self.add("error", route=route, status=status, **kwargs)

    def delay(self, route: str = "*", seconds: float = 1.0, **kwargs: Any) -> Fault:
        return self.add("delay", route=route, delay=seconds, **kwargs)

    def drop(self, route: str = "*", **kwargs: Any) -> Fault:
        return self.add("drop", route=route, **kwargs)

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self.seed = seed
            self._rng = random.Random(seed)

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def match(self, method: str, route: str, path: str) -> Fault | None:
        """The first fault that hits this request (updating its counters), else ``None``."""
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(method, route, path):
                    continue
                fault.matched += 1
                if fault.every is not None and fault.matched % fault.every != 0:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                if fault.exhausted:
                    self._faults.remove(fault)
                return fault
        return None

    def __len__(self) -> int:
        return len(self._faults)
