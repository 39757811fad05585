"""Scaled time for outage tests: an hour of Step Functions retry waits in a few seconds.

moto's Step Functions interpreter honours a ``Retry``'s ``IntervalSeconds``, ``BackoffRate``,
``MaxDelaySeconds`` and ``JitterStrategy`` exactly as AWS does, then sleeps the computed interval
(``time.sleep`` in ``retrier_decl``). :func:`scaled_retry_waits` keeps that computation (the real
ASL, nothing re-implemented) and only shortens the sleep by ``scale``, recording every interval
the interpreter chose. The HTTP client's own backoff inside one invocation (up to a few seconds
of real sleeping before it raises ``UpstreamUnavailable``) is shortened by the same factor, so a
scaled outage is scaled everywhere.

The virtual clock advances by the retry waits only, never by the time invocations take: an
outage that ends after ``N`` virtual seconds of waiting is at least as hard on the retry budget
as a real one of ``N`` seconds (real invocations take time too, which only helps).

    with scaled_retry_waits(1 / 2000) as clock:
        clock.at(3600, outage.end)     # called from the interpreter's thread once 3600 s have passed
        ...
        clock.waited                    # virtual seconds of retry waits so far
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any


class VirtualClock:
    """Virtual seconds of Step Functions retry waits, with callbacks at given virtual times."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.waited = 0.0
        self.intervals: list[float] = []
        self._alarms: list[tuple[float, Callable[[], None]]] = []
        self._lock = threading.Lock()

    def at(self, virtual_seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` once the retry waits add up to ``virtual_seconds``."""
        with self._lock:
            self._alarms.append((virtual_seconds, action))

    def retry_wait(self, seconds: float) -> None:
        with self._lock:
            self.waited += seconds
            self.intervals.append(seconds)
            due = [a for a in self._alarms if a[0] <= self.waited]
            self._alarms = [a for a in self._alarms if a[0] > self.waited]
        for _, action in due:
            action()
        time.sleep(seconds * self.scale)


@contextmanager
def scaled_retry_waits(scale: float) -> Iterator[VirtualClock]:
    """While active, Step Functions retry intervals and the HTTP client's backoff sleep ``scale``
    times their length (``scale`` < 1 to speed up); the intervals are recorded on the clock."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    from okta_auth0_sync.clients import http

    clock = VirtualClock(scale)
    original_time = retrier_decl.time
    retrier_decl.time = SimpleNamespace(sleep=clock.retry_wait)  # type: ignore[attr-defined]
    original_wait = http.HttpClient._wait_or_raise

    def wait_or_raise(self: Any, attempt: int, wait: float, failure: Exception) -> None:
        original_wait(self, attempt, wait * scale, failure)

    http.HttpClient._wait_or_raise = wait_or_raise  # type: ignore[assignment,method-assign]
    try:
        yield clock
    finally:
        retrier_decl.time = original_time  # type: ignore[attr-defined]
        http.HttpClient._wait_or_raise = original_wait  # type: ignore[method-assign]


@contextmanager
def scaled_client_waits(scale: float) -> Iterator[None]:
    """While active, every wait inside an invocation is ``scale`` times its length: the HTTP
    client's backoff (a 5xx, a timeout) and the pacer's wait for a rate-limit reset (a 429's
    ``x-ratelimit-reset``). Each wait is still computed by the library, from the same headers; only
    the sleep is shortened. For tests of races, where waiting adds nothing but wall time. Pacers
    built while active sleep scaled (a simulated container's clients are built in its first
    invocation)."""
    from okta_auth0_sync.clients import http, pacing

    original_wait = http.HttpClient._wait_or_raise
    original_init = pacing.RequestPacer.__init__

    def wait_or_raise(self: Any, attempt: int, wait: float, failure: Exception) -> None:
        original_wait(self, attempt, wait * scale, failure)

    def init(self: Any, *, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        original_init(self, sleep=lambda seconds: sleep(seconds * scale), **kwargs)

    http.HttpClient._wait_or_raise = wait_or_raise  # type: ignore[assignment,method-assign]
    pacing.RequestPacer.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        http.HttpClient._wait_or_raise = original_wait  # type: ignore[method-assign]
        pacing.RequestPacer.__init__ = original_init  # type: ignore[method-assign]
