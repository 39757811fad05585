"""Client-side pacing from the rate-limit headers both tenants send.

Okta sends ``X-Rate-Limit-Limit/-Remaining/-Reset`` (a fixed window per bucket, reset = epoch
seconds); Auth0 sends ``x-ratelimit-limit/-remaining/-reset`` (a token bucket, reset = when the
next request is added). Header names are case-insensitive in ``requests``, so one reader serves
both. The limiter keeps the last observation per bucket and, before each request:

- waits for the reset when the quota is spent (so we do not collect a 429 we could predict);
- spreads what is left over the rest of the window once the quota runs low, so concurrent
  workers slow down *before* a 429 storm instead of after it.

Every worker sees the server's ``remaining`` on each response, so pacing stays correct across
concurrent Lambda containers sharing one quota.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from okta_auth0_sync.base import container


@dataclass
class BucketState:
    limit: int
    remaining: int
    reset_at: float  # local clock (time.time) seconds


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None  # no NaN, no infinity


def server_clock_offset(headers: Mapping[str, str], now: float) -> float:
    """Local minus server time, from the ``Date`` header (0 if absent). Okta says to compute
    waits against the server's ``Date``, not the local clock."""
    date = headers.get("Date")
    if not date:
        return 0.0
    try:
        server_now = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return 0.0
    offset = now - server_now
    # Date has one-second resolution: only trust an offset larger than that.
    return offset if abs(offset) > 1.5 else 0.0


def reset_in(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the quota resets, from ``X-Rate-Limit-Reset``/``x-ratelimit-reset``."""
    # Whole epoch seconds from the real services; a fraction is kept when sent (a time-scaled sandbox).
    reset = _float_header(headers, "X-Rate-Limit-Reset")
    if reset is None:
        reset = _float_header(headers, "x-ratelimit-reset")
    if reset is None:
        return None
    return max(0.0, reset + server_clock_offset(headers, now) - now)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date)."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class RequestPacer:
    """Paces requests per bucket from the last rate-limit headers seen."""

    def __init__(
        self,
        *,
        low_water: float = 0.1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.low_water = low_water
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, BucketState] = {}
        self.waited_seconds = 0.0

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        limit = _int_header(headers, "X-Rate-Limit-Limit")
        if limit is None:
            limit = _int_header(headers, "x-ratelimit-limit")
        remaining = _int_header(headers, "X-Rate-Limit-Remaining")
        if remaining is None:
            remaining = _int_header(headers, "x-ratelimit-remaining")
        now = self._clock()
        wait = reset_in(headers, now)
        if limit is None or remaining is None or wait is None:
            return
        reset_at = now + wait
        with self._lock:
            known = self._buckets.get(bucket)
            if known is not None and abs(known.reset_at - reset_at) < 0.5:
                # Same window: requests still in flight were already counted locally but not yet
                # by the server, so never let an answer raise what is left.
                remaining = min(remaining, known.remaining)
            self._buckets[bucket] = BucketState(limit=limit, remaining=remaining, reset_at=reset_at)

    def delay_for(self, bucket: str) -> float:
        """How long to wait before the next request on ``bucket`` (and reserve it)."""
        now = self._clock()
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None or now >= state.reset_at:
                return 0.0
            window_left = state.reset_at - now
            if state.remaining <= 0:
                # Spent: wait for the reset, with a little jitter (at most 1 % of the wait, 0.25 s)
                # so workers don't stampede it; the new window's whole quota is then used at once.
                delay = window_left + random.uniform(0.0, min(0.25, 0.01 * window_left))
            elif state.limit > 0 and state.remaining <= max(1, int(state.limit * self.low_water)):
                delay = window_left / (state.remaining + 1)
            else:
                delay = 0.0
            state.remaining -= 1
            return delay

    def snapshot(self, bucket: str) -> BucketState | None:
        """The last observation of ``bucket`` (a copy), or None: what a caller sizing its
        concurrency to the quota reads."""
        with self._lock:
            state = self._buckets.get(bucket)
            return None if state is None else BucketState(state.limit, state.remaining, state.reset_at)

    def acquire(self, bucket: str) -> None:
        delay = self.delay_for(bucket)
        if delay <= 0:
            return
        left = container.remaining_seconds()
        if left is not None:
            # Never sleep past the Lambda deadline: go and let the server answer (a 429 is
            # then handled by the retry policy, which is deadline-aware too).
            delay = min(delay, max(0.0, left - 2.0))
        if delay > 0:
            self.waited_seconds += delay
            self._sleep(delay)
