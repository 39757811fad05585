"""Injectable clocks.

Every sandbox tenant reads time through a *clock*: any zero-argument callable returning
UTC epoch seconds as a float (``time.time`` by default).  Tests swap in a :class:`FakeClock`
to move time deterministically (token expiry, rate-limit windows, nonce rotation) without
sleeping.  The clock only drives the sandbox's notion of time; real waits (fault delays,
event-hook timeouts) still use the wall clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class FakeClock:
    """A thread-safe, manually driven clock.

    ``FakeClock()`` starts at the current wall-clock time, so tokens it stamps are accepted
    by clients that compare against their own clock; ``advance()`` then moves it forward.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            self._now = float(now)

    def __repr__(self) -> str:
        return f"FakeClock({self():.3f})"
