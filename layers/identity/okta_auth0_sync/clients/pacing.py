"""Client-side pacing from the rate-limit headers both tenants send.

The header family tells the two models apart (header names are case-insensitive in ``requests``):

- Okta sends ``X-Rate-Limit-Limit/-Remaining/-Reset``: a fixed window per bucket, reset = epoch
  seconds when the window ends and the whole quota comes back;
- Auth0 sends ``x-ratelimit-limit/-remaining/-reset``: a token bucket (limit = its burst), reset =
  when the *next* token is added (one request, not a refill; about 62 ms at 16 requests/s).

The pacer keeps the last observation per bucket and, before each request:

Fixed window (Okta):

- waits for the reset when the quota is spent (so we do not collect a 429 we could predict), and
  then uses the new window's whole quota at once;
- spreads what is left over the rest of the window once the quota runs low, so concurrent workers
  slow down *before* a 429 storm instead of after it.

Token bucket (Auth0): waiting for the reset gains one token, and every caller sharing the bucket
that waits for it returns at the same instant, so

- while more than a cushion (half the burst) is left, requests go at once;
- below it, each calling thread takes its share of the refill: at most one request per refill
  interval x ``sharers`` (the callers sharing the bucket: the function's reserved concurrency,
  ``RATE_LIMIT_SHARERS``), plus a margin; the pacer as a whole at most one per interval (a pool
  of threads, or a test bed's containers sharing one process's clients). Together the callers then
  ask for a little less than the refill, the bucket climbs back over the cushion and whoever sees
  that spends it: the cushion absorbs callers that happen to come together, so none is refused,
  and no token is lost (the bucket never fills while they are busy);
- spent (after a 429, or a surprise), the next request goes a random 0 to ``sharers`` intervals
  after the next token (plus one interval per request this pacer already sent behind it), so the
  callers that were refused together do not come back together.

The interval is not in the headers: :class:`RefillEstimate` infers it from them.

Every worker sees the server's ``remaining`` on each response, so pacing stays correct across
concurrent Lambda containers sharing one quota.
"""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime

from okta_auth0_sync.base import container

FIXED_WINDOW = "fixed_window"
TOKEN_BUCKET = "token_bucket"
# Each family's limit and remaining headers (exact spellings: a plain dict is case-sensitive).
_FAMILIES = (
    (FIXED_WINDOW, "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining"),
    (TOKEN_BUCKET, "x-ratelimit-limit", "x-ratelimit-remaining"),
)


@dataclass
class BucketState:
    limit: int
    remaining: int
    reset_at: float  # local clock (time.time) seconds
    model: str = FIXED_WINDOW
    interval: float = 0.0  # token bucket: estimated seconds per token (0 while unknown)
    refused: bool = False  # token bucket: the answer was a 429 (not the last token taken)


@dataclass(frozen=True)
class Reading:
    """One response's rate-limit headers."""

    model: str
    limit: int
    remaining: int
    wait: float  # seconds until the reset
    whole_seconds: bool  # the reset was whole epoch seconds (the real services), not to the millisecond


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


def _reset_header(headers: Mapping[str, str]) -> float | None:
    # Whole epoch seconds from the real services; a fraction is kept when sent (a time-scaled sandbox).
    reset = _float_header(headers, "X-Rate-Limit-Reset")
    return _float_header(headers, "x-ratelimit-reset") if reset is None else reset


def reset_in(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the quota resets, from ``X-Rate-Limit-Reset``/``x-ratelimit-reset``."""
    reset = _reset_header(headers)
    if reset is None:
        return None
    return max(0.0, reset + server_clock_offset(headers, now) - now)


def read_rate_limit(headers: Mapping[str, str], now: float) -> Reading | None:
    """The model, limit, remaining and wait a response states, or None without them all."""
    wait = reset_in(headers, now)
    if wait is None:
        return None
    for model, limit_name, remaining_name in _FAMILIES:
        limit, remaining = _int_header(headers, limit_name), _int_header(headers, remaining_name)
        if limit is not None and remaining is not None:
            reset = _reset_header(headers)
            return Reading(model, limit, remaining, wait, reset is not None and reset.is_integer())
    return None


def names_no_bucket(reading: Reading | None) -> bool:
    """A token-bucket answer whose limit is 0: a refusal from some other limit, not the bucket's."""
    return reading is not None and reading.model == TOKEN_BUCKET and reading.limit <= 0


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


class RefillEstimate:
    """A token bucket's refill interval (seconds per token), from its answers' headers.

    - From the moment a request was sent, the next token (its answer's reset) is at most one
      interval away, and more than the server's own wait: the longest of the recent ones is the
      estimate, never short by the answer's trip back, long by at most the request's trip out
      (an answer whose round trip took more than twice the usual is left out).
    - With whole-second resets (the real Auth0) that is about a second however fast the refill.
      The estimate is then a fraction of it, which starts at 1/8 (8 requests/s, between the plans'
      2 and 16) and follows what the bucket does while the callers pace themselves: a paced
      request answered at or over the cushion means they waited too long (the bucket held more
      than the cushion before it took its token: x 0.8), under half of it that they did not wait
      enough (x 1.1), refused that they went too soon (x 2); never over the whole second. The
      last token taken is not a refusal: a bucket with a burst of 2 answers 0 or 1.
    """

    SAMPLES = 32
    FIRST_SHARE, MIN_SHARE = 1 / 8, 1 / 128

    def __init__(self) -> None:
        self._waits: deque[float] = deque(maxlen=self.SAMPLES)
        self._trips: deque[float] = deque(maxlen=self.SAMPLES)
        self._precise = False  # a reset to the millisecond was seen: the longest wait is the estimate
        self._share: float | None = None  # else the fraction of it taken (None: no answer yet)

    def observe(
        self, now: float, reading: Reading, sent_at: float, *, paced: bool, cushion: int, refused: bool
    ) -> None:
        """``reading`` answered at ``now`` a request sent at ``sent_at`` (``paced``: below the cushion)."""
        trip = max(0.0, now - sent_at)
        if reading.wait > 0 and self._usual(trip):
            self._waits.append(reading.wait + trip)
        self._trips.append(trip)
        self._precise = self._precise or not reading.whole_seconds  # a precise reset may fall on a second
        if not self._precise:
            self._follow(reading.remaining, paced, cushion, refused)

    def _follow(self, remaining: int, paced: bool, cushion: int, refused: bool) -> None:
        share = self.FIRST_SHARE if self._share is None else self._share
        if refused:
            share *= 2.0
        elif paced and remaining >= cushion:
            share *= 0.8
        elif paced and remaining < cushion / 2:
            share *= 1.1
        self._share = min(1.0, max(self.MIN_SHARE, share))

    def _usual(self, trip: float) -> bool:
        """Whether a round trip is no more than twice the recent median: a longer one (a stalled
        process) would stretch the estimate for the next answers."""
        if len(self._trips) < 4:
            return True
        return trip <= 2.0 * statistics.median(self._trips)

    @property
    def interval(self) -> float:
        longest = max(self._waits, default=0.0)
        return longest if self._precise or self._share is None else self._share * longest


def api_of(bucket: str) -> str:
    """The API a bucket's route belongs to (the path's first two segments: ``/api/v2``,
    ``/oauth/token``). Auth0 checks every Management API request against one global token
    bucket first, so an answer on any of its routes is the latest view of the others'."""
    path = bucket.partition(" ")[2] if " " in bucket else bucket
    return "/" + "/".join([part for part in path.split("/") if part][:2])


class RequestPacer:
    """Paces requests per bucket from the last rate-limit headers seen (fixed windows per route,
    token buckets per API).

    ``sharers``: how many callers (Lambda containers, or threads) may share a token bucket at once;
    ``cushion``: the share of a token bucket's burst kept in reserve; ``margin``: how much slower
    than its share of the refill each caller goes below the cushion.
    """

    def __init__(
        self,
        *,
        low_water: float = 0.1,
        sharers: int = 1,
        cushion: float = 0.5,
        margin: float = 0.1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.low_water = low_water
        self.sharers = max(1, sharers)
        self.cushion = cushion
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._random = rng or random.Random()
        self._lock = threading.Lock()
        self._buckets: dict[str, BucketState] = {}  # fixed windows, by bucket
        self._apis: dict[str, BucketState] = {}  # token buckets, by API
        self._refills: dict[str, RefillEstimate] = {}
        # Token buckets: when this pacer, and each thread using it, last sent (or will send).
        self._sent_at = -math.inf
        self._thread = threading.local()
        self.waited_seconds = 0.0

    def observe(self, bucket: str, headers: Mapping[str, str], *, refused: bool = False) -> None:
        """The rate-limit headers of an answer on ``bucket`` (``refused``: it was a 429).

        For a token bucket, two answers describe no bucket and leave nothing behind: one without
        the headers (the API is not limited, or no longer says so: what was known of its bucket is
        dropped, or every later request would count against a bucket no answer refills), and a
        refusal with a limit of 0 (some other limit; the HTTP layer waits for its reset, which
        would otherwise stretch the refill estimate and leave the API looking spent)."""
        now = self._clock()
        reading = read_rate_limit(headers, now)
        if reading is None:
            with self._lock:
                self._apis.pop(api_of(bucket), None)
            return
        if names_no_bucket(reading):
            return
        with self._lock:
            if reading.model == TOKEN_BUCKET:
                self._observe_token_bucket(api_of(bucket), reading, now, refused)
            else:
                self._observe_window(bucket, reading, now)

    def _observe_window(self, bucket: str, reading: Reading, now: float) -> None:
        reset_at, remaining = now + reading.wait, reading.remaining
        known = self._buckets.get(bucket)
        if known is not None and abs(known.reset_at - reset_at) < 0.5:
            # Same window: requests still in flight were already counted locally but not yet
            # by the server, so never let an answer raise what is left.
            remaining = min(remaining, known.remaining)
        self._buckets[bucket] = BucketState(limit=reading.limit, remaining=remaining, reset_at=reset_at)

    def _observe_token_bucket(self, api: str, reading: Reading, now: float, refused: bool) -> None:
        # The reset moves with every token: each answer replaces the last one.
        refill = self._refills.setdefault(api, RefillEstimate())
        sent_at, paced = getattr(self._thread, "sent_at", now), getattr(self._thread, "paced", False)
        cushion = self._cushion(reading.limit)
        refill.observe(now, reading, sent_at, paced=paced, cushion=cushion, refused=refused)
        self._apis[api] = BucketState(
            reading.limit, reading.remaining, now + reading.wait, TOKEN_BUCKET, refill.interval, refused
        )

    def _state(self, bucket: str) -> BucketState | None:
        return self._buckets.get(bucket) or self._apis.get(api_of(bucket))

    def delay_for(self, bucket: str) -> float:
        """How long to wait before the next request on ``bucket`` (and reserve it)."""
        now = self._clock()
        with self._lock:
            state = self._state(bucket)
            if state is None or state.model == TOKEN_BUCKET:
                delay = self._token_bucket_delay(state, now)
            elif now >= state.reset_at:
                return 0.0
            else:
                delay = self._window_delay(state, now)
            if state is not None:
                state.remaining -= 1
            return delay

    def _window_delay(self, state: BucketState, now: float) -> float:
        window_left = state.reset_at - now
        if state.remaining <= 0:
            # Spent: wait for the reset, with a little jitter (at most 1 % of the wait, 0.25 s)
            # so workers don't stampede it; the new window's whole quota is then used at once.
            return window_left + self._random.uniform(0.0, min(0.25, 0.01 * window_left))
        if state.limit > 0 and state.remaining <= max(1, int(state.limit * self.low_water)):
            return window_left / (state.remaining + 1)
        return 0.0

    def _token_bucket_delay(self, state: BucketState | None, now: float) -> float:
        """Also the first request of any bucket (nothing known: it goes now)."""
        paced = state is not None and state.remaining <= self._cushion(state.limit)
        at = self._paced(state, now) if state is not None and paced else now
        self._sent_at = max(self._sent_at, at)
        self._thread.sent_at, self._thread.paced = at, paced
        return at - now

    def _cushion(self, limit: int) -> int:
        """A token bucket's reserve: below it, each caller only takes its share of the refill."""
        return max(self.sharers, int(limit * self.cushion))

    def _paced(self, state: BucketState, now: float) -> float:
        """When this thread may send: its share of the refill, and never before the next token
        when the bucket is spent."""
        spacing = state.interval * (1.0 + self.margin)
        thread_sent_at: float = getattr(self._thread, "sent_at", -math.inf)
        at = max(now, thread_sent_at + spacing * self.sharers, self._sent_at + spacing)
        if state.remaining < 0 or (state.remaining == 0 and state.refused):
            # Spent: refused, or this pacer sent requests since the answer (-remaining of them),
            # each taking a token before ours. An answer that took the last token only says the
            # next one is less than an interval away: the spacing already waits that long.
            behind = -state.remaining + self._random.uniform(0.0, self.sharers)
            at = max(at, state.reset_at + behind * state.interval)
        return at

    def paces_retries(self, bucket: str, headers: Mapping[str, str] | None = None) -> bool:
        """Whether a 429 on ``bucket`` is best retried when :meth:`delay_for` says (a token
        bucket: it spreads the refused callers over the next intervals), not at the reset. Not a
        refusal whose ``headers`` name no bucket (a limit of 0): that one is waited out."""
        if headers is not None and names_no_bucket(read_rate_limit(headers, self._clock())):
            return False
        with self._lock:
            state = self._state(bucket)
            return state is not None and state.model == TOKEN_BUCKET

    def snapshot(self, bucket: str) -> BucketState | None:
        """The last observation of ``bucket`` (a copy), or None: what a caller sizing its
        concurrency to the quota reads."""
        with self._lock:
            state = self._state(bucket)
            return None if state is None else replace(state)

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
