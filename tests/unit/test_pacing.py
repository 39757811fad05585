"""The pacer against the two rate-limit models, on a fake clock: several callers sharing one
Auth0 token bucket (the sandbox's own, as the burst bench runs it) are not refused and keep it
busy; Okta's fixed window is still spent at once after its reset."""

import heapq
import random

import pytest

from okta_auth0_sync.clients.pacing import RequestPacer
from okta_auth0_sync_sandbox.ratelimit import TokenBucket

T0 = 1_714_641_240.123
BURST, RATE = 50, 16.0  # Auth0 Enterprise, Management API (global bucket)
ROUTES = ("GET /api/v2/users-by-email", "PATCH /api/v2/users/{id}", "DELETE /api/v2/users/{id}/sessions")


class SharedBucket:
    """Callers, each with its own pacer (one Lambda container each), sending one request after
    another to one token bucket as fast as their pacer lets them; a 429 is retried as the HTTP
    layer retries it (when the pacer says). Events on a fake clock, latencies drawn from ``seed``."""

    def __init__(self, callers: int, *, precise: bool, seed: int) -> None:
        self.now = T0
        self.random = random.Random(seed)
        self.bucket = TokenBucket(BURST, RATE)
        self.precise = precise
        self.pacers = [
            RequestPacer(sharers=callers, clock=lambda: self.now, rng=random.Random(seed * 100 + i))
            for i in range(callers)
        ]
        self.events: list[tuple[float, int, str, int, object]] = []
        self.sent = [0] * callers
        self.admitted = self.refused = 0

    def _at(self, when: float, kind: str, caller: int, data: object = None) -> None:
        heapq.heappush(self.events, (when, len(self.events) + self.admitted + self.refused, kind, caller, data))

    def _latency(self) -> float:
        return self.random.uniform(0.002, 0.015)  # one way

    def run(self, seconds: float) -> None:
        for caller in range(len(self.pacers)):
            self._at(T0 + self.random.uniform(0.0, 0.01), "ready", caller)
        while self.events and self.events[0][0] <= T0 + seconds:
            self.now, _, kind, caller, data = heapq.heappop(self.events)
            getattr(self, f"_{kind}")(caller, data)

    def _ready(self, caller: int, _: object) -> None:
        route = ROUTES[self.sent[caller] % len(ROUTES)]
        delay = self.pacers[caller].delay_for(route)
        self._at(self.now + delay + self._latency(), "arrive", caller, route)

    def _arrive(self, caller: int, route: object) -> None:
        decision = self.bucket.peek("global", self.now, self.precise)
        if decision.allowed:
            self.bucket.consume(self.now)
            self.admitted += 1
        else:
            self.refused += 1
        self._at(self.now + self._latency(), "answer", caller, (route, decision))

    def _answer(self, caller: int, data: object) -> None:
        route, decision = data  # type: ignore[misc]
        pacer = self.pacers[caller]
        pacer.observe(
            route,
            {
                "x-ratelimit-limit": str(decision.limit),
                "x-ratelimit-remaining": str(decision.remaining),
                "x-ratelimit-reset": str(decision.reset),
            },
            refused=not decision.allowed,
        )
        if decision.allowed:
            self.sent[caller] += 1
            self._at(self.now + self.random.uniform(0.0, 0.05), "ready", caller)  # the handler's own work
        else:
            assert pacer.paces_retries(route)  # the HTTP layer retries when the pacer says
            self._at(self.now, "ready", caller)


@pytest.mark.parametrize("callers", [3, 8])
@pytest.mark.parametrize("precise", [True, False], ids=["reset-to-the-ms", "whole-second-reset"])
def test_callers_sharing_a_token_bucket_are_not_refused_and_keep_it_busy(callers, precise):
    # Each caller alone could send ~40 requests/s: together they ask for far more than the refill.
    shared = SharedBucket(callers, precise=precise, seed=7)
    seconds = 60.0
    shared.run(seconds)
    assert shared.refused <= 2
    # Beyond the burst, at least 90 % of the refill is used (half the burst is kept as a cushion).
    assert (shared.admitted - BURST) / seconds >= 0.9 * RATE


def test_callers_that_wait_for_the_next_token_together_do_not_return_together():
    """Three callers see the bucket spent (the 429 each got): they spread over the next tokens
    instead of all coming back when the next one is added."""
    now = [T0]
    pacers = [RequestPacer(sharers=3, clock=lambda: now[0], rng=random.Random(i)) for i in range(3)]
    spent = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "0", "x-ratelimit-reset": f"{T0 + 0.0625:.3f}"}
    for pacer in pacers:
        pacer.observe("PATCH /api/v2/users/{id}", spent, refused=True)
        assert pacer.paces_retries("PATCH /api/v2/users/{id}")
    delays = sorted(pacer.delay_for("PATCH /api/v2/users/{id}") for pacer in pacers)
    assert delays[0] >= 0.0625  # none before the next token
    assert delays[-1] - delays[0] > 0.0625  # over more than one interval
    assert delays[-1] <= 0.0625 * (1 + 3 * 1.1)  # within the next three tokens (and the margin)


def test_a_fixed_window_is_still_spent_at_once_after_its_reset():
    """Okta: spent means waiting for the reset (1 % jitter at most), then the whole quota goes."""
    now = [T0]
    pacer = RequestPacer(sharers=3, clock=lambda: now[0], rng=random.Random(1))
    pacer.observe(
        "POST /api/v1/users",
        {"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(T0) + 10)},
    )
    assert not pacer.paces_retries("POST /api/v1/users")
    wait = int(T0) + 10 - T0
    assert wait <= pacer.delay_for("POST /api/v1/users") <= wait * 1.01
    now[0] = int(T0) + 10.5
    pacer.observe(
        "POST /api/v1/users",
        {"X-Rate-Limit-Limit": "600", "X-Rate-Limit-Remaining": "599", "X-Rate-Limit-Reset": str(int(T0) + 70)},
    )
    assert [pacer.delay_for("POST /api/v1/users") for _ in range(500)] == [0.0] * 500


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_small_bucket_is_kept_busy_after_refusals_from_another_limit(seed):
    """A burst of 2 at 4/s with whole-second resets, as the provisioning storm test sets Auth0's
    user reads, after two 429s that name no bucket (limit 0, reset 1-2 s away): the refusals cost
    their wait, and no more (their reset does not stretch the refill estimate; the last token
    taken is not a refusal)."""
    rng, now = random.Random(seed), [T0]
    pacer, bucket = RequestPacer(clock=lambda: now[0], rng=random.Random(seed)), TokenBucket(2, 4.0)
    admitted, refused, faults, route = 0, 0, 2, "GET /api/v2/users"
    while now[0] < T0 + 20.0:
        now[0] += pacer.delay_for(route) + rng.uniform(0.002, 0.015)
        if faults:
            faults, refusal = faults - 1, True
            headers = {
                "x-ratelimit-limit": "0",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": f"{int(now[0]) + 2}",
            }
        else:
            decision = bucket.peek("global", now[0], False)
            refusal = not decision.allowed
            if decision.allowed:
                bucket.consume(now[0])
                admitted += 1
            headers = {
                "x-ratelimit-limit": str(decision.limit),
                "x-ratelimit-remaining": str(decision.remaining),
                "x-ratelimit-reset": str(decision.reset),
            }
        refused += refusal
        now[0] += rng.uniform(0.002, 0.015)
        pacer.observe(route, headers, refused=refusal)
        now[0] += rng.uniform(0.0, 0.05)
    assert refused <= 2 + 3
    # 20 s: at most ~3 s lost to the two refusals, then the refill (4/s) all but used.
    assert admitted >= 0.8 * 4.0 * 17.0


def test_answers_that_name_no_bucket_leave_nothing_behind():
    """A 429 with a limit of 0 (another limit) is waited out at its reset by the HTTP layer, not
    paced; an answer without the headers drops what was known (nothing refills a bucket that no
    answer reports, so requests would otherwise queue behind it for ever)."""
    now, route = [T0], "GET /api/v2/users"
    pacer = RequestPacer(sharers=4, clock=lambda: now[0], rng=random.Random(3))
    spent = {"x-ratelimit-limit": "50", "x-ratelimit-remaining": "0", "x-ratelimit-reset": f"{T0 + 1:.3f}"}
    pacer.observe(route, spent, refused=True)
    edge = {"x-ratelimit-limit": "0", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(T0) + 2)}
    assert pacer.paces_retries(route) and not pacer.paces_retries(route, edge)
    pacer.observe(route, edge, refused=True)
    assert pacer.snapshot(route).limit == 50  # the edge's refusal left the bucket's state alone
    assert pacer.delay_for(route) > 0  # that bucket is still spent
    pacer.observe(route, {"Content-Type": "application/json"})
    assert pacer.snapshot(route) is None
    assert [pacer.delay_for(route) for _ in range(100)] == [0.0] * 100
