"""Rate limiting: the two models the real services use.

* :class:`FixedWindow` (Okta): ``limit`` requests per ``window`` seconds.  A window is *not*
  aligned to wall-clock minutes: it opens with the first request after the previous window
  ended.  ``reset`` is the window's end (integer epoch seconds, rounded up).
* :class:`TokenBucket` (Auth0): a bucket of ``burst`` tokens refilled at ``rate`` tokens per
  second.  ``reset`` is the integer epoch second at which the next token is added.

:class:`RateLimiter` holds named buckets of one model.  A request is classified into an
ordered list of bucket names (e.g. Auth0 ``["global", "users_read"]``); all of them are
checked first and only consumed when every one admits the request, so a 429 never eats
tokens.  Buckets without a configuration are unlimited (the default), so tests opt in.

``reset`` is whole epoch seconds, as the real services send it. With ``precise_reset`` (a
benchmark that scales time down, so a "minute" lasts a few seconds) it is the exact moment, to
the millisecond: rounding a 2-second window up to the next whole second would add up to 50 %.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    """The outcome of checking one bucket."""

    bucket: str
    allowed: bool
    limit: int
    remaining: int
    reset: int | float  # integer epoch seconds (precise_reset: float, to the millisecond)
    retry_after: float = 0.0  # seconds until a request would be admitted (when denied)


class FixedWindow:
    kind = "fixed_window"

    def __init__(self, limit: int, window: float = 60.0) -> None:
        if limit < 0 or window <= 0:
            raise ValueError("limit must be >= 0 and window > 0")
        self.limit = int(limit)
        self.window = float(window)
        self._start: float | None = None
        self._used = 0

    def _roll(self, now: float) -> None:
        if self._start is None or now >= self._start + self.window:
            self._start = now
            self._used = 0

    def peek(self, name: str, now: float, precise: bool = False) -> Decision:
        self._roll(now)
        assert self._start is not None
        end = self._start + self.window
        allowed = self._used < self.limit
        remaining = max(self.limit - self._used - (1 if allowed else 0), 0)
        reset = round(end, 3) if precise else math.ceil(end)
        return Decision(name, allowed, self.limit, remaining, reset, 0.0 if allowed else end - now)

    def consume(self, now: float) -> None:
        self._roll(now)
        self._used += 1

    def config(self) -> dict[str, Any]:
        return {"model": self.kind, "limit": self.limit, "window": self.window}


class TokenBucket:
    kind = "token_bucket"

    def __init__(self, burst: int, rate: float, retry_after: bool = False) -> None:
        if burst < 0 or rate <= 0:
            raise ValueError("burst must be >= 0 and rate > 0")
        self.burst = int(burst)
        self.rate = float(rate)
        self.retry_after = retry_after
        self._tokens = float(burst)
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        if self._updated is None or now > self._updated:
            self._updated = now

    def peek(self, name: str, now: float, precise: bool = False) -> Decision:
        self._refill(now)
        allowed = self._tokens >= 1.0
        left = self._tokens - 1.0 if allowed else self._tokens
        remaining = max(math.floor(left + 1e-9), 0)
        # full: now; else the moment the next whole token is added
        exact = now if left >= self.burst else now + (math.floor(left + 1e-9) + 1 - left) / self.rate
        reset: int | float = round(exact, 3) if precise else math.ceil(exact)
        retry = 0.0 if allowed else (1.0 - self._tokens) / self.rate
        return Decision(name, allowed, self.burst, remaining, reset, retry)

    def consume(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0

    def config(self) -> dict[str, Any]:
        return {"model": self.kind, "burst": self.burst, "rate": self.rate, "retry_after": self.retry_after}


class RateLimiter:
    """Named buckets of one model, reconfigurable while the server runs."""

    def __init__(self, model: str, default_window: float = 60.0) -> None:
        if model not in (FixedWindow.kind, TokenBucket.kind):
            raise ValueError(f"unknown rate-limit model {model!r}")
        self.model = model
        self.default_window = self._initial_window = float(default_window)
        self._buckets: dict[str, FixedWindow | TokenBucket] = {}
        self._lock = threading.Lock()
        self.precise_reset = False  # reset headers to the millisecond (benchmarks scaling time)

    def configure(self, bucket: str, **params: Any) -> None:
        """Set (or replace) a bucket.  Fixed window: ``limit``, optional ``window``.
        Token bucket: ``burst``, ``rate`` (per second), optional ``retry_after``."""
        if self.model == FixedWindow.kind:
            unknown = set(params) - {"limit", "window"}
            if unknown or "limit" not in params:
                raise ValueError(f"fixed-window buckets take limit= and window=, got {sorted(params)}")
            limiter: FixedWindow | TokenBucket = FixedWindow(
                params["limit"], params.get("window") or self.default_window
            )
        else:
            unknown = set(params) - {"burst", "rate", "retry_after"}
            if unknown or "burst" not in params or "rate" not in params:
                raise ValueError(f"token buckets take burst=, rate= and retry_after=, got {sorted(params)}")
            limiter = TokenBucket(params["burst"], params["rate"], bool(params.get("retry_after", False)))
        with self._lock:
            self._buckets[bucket] = limiter

    def remove(self, bucket: str) -> None:
        with self._lock:
            self._buckets.pop(bucket, None)

    def clear(self) -> None:
        """Remove every bucket and restore the initial default window."""
        with self._lock:
            self._buckets.clear()
            self.default_window = self._initial_window
            self.precise_reset = False

    def set_window(self, window: float) -> None:
        """Change the default window; existing fixed-window buckets adopt it too."""
        with self._lock:
            self.default_window = float(window)
            for name, b in list(self._buckets.items()):
                if isinstance(b, FixedWindow):
                    self._buckets[name] = FixedWindow(b.limit, window)

    def config(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: b.config() for name, b in self._buckets.items()}

    def bucket(self, name: str) -> FixedWindow | TokenBucket | None:
        return self._buckets.get(name)

    def check(self, buckets: list[str], now: float) -> tuple[Decision | None, Decision | None]:
        """Check ``buckets`` in order.  Returns ``(denied, report)``: ``denied`` is the first
        bucket refusing the request (nothing consumed), else ``None``; ``report`` is the
        decision whose headers the response should carry (the tightest configured bucket)."""
        with self._lock:
            decisions = []
            for name in buckets:
                limiter = self._buckets.get(name)
                if limiter is not None:
                    decisions.append((limiter, limiter.peek(name, now, self.precise_reset)))
            if not decisions:
                return None, None
            for _, decision in decisions:
                if not decision.allowed:
                    return decision, decision
            for limiter, _ in decisions:
                limiter.consume(now)
            report = min((d for _, d in decisions), key=lambda d: (d.remaining, -d.reset))
            return None, report
