"""A queueing model of a deactivation burst, for choosing the throttle rule's cap (no moto, no
sandbox: seconds of CPU, where the measured run needs minutes per thousand events).

    python -m bench burst --model [--events 1000 5000]

Events arrive evenly over the window; each takes a lookup slot (``LookupConcurrency``, one Okta
read paced at the user-read share) and then a writer slot (``DeactivationConcurrency``: 5 Auth0
calls one after another, each ``latency`` long and paced by Auth0's token bucket, burst 50 at 16
requests/s). An invocation finding every slot taken is throttled and retried as Step Functions
retries it: ``uniform(0, min(cap, interval * rate**n))`` after the ``n``-th throttle of that task.
What it leaves out: Lambda cold starts, the token minting, the HTTP client's own pacing, CPU. It
prints, for the ASL's throttle rule and a few alternative caps, the last effect against the floor
and the throttles (billed transitions) per event.
"""

from __future__ import annotations

import heapq
import json
import random
from dataclasses import dataclass
from pathlib import Path

from bench import PRICE

ASL = Path(__file__).resolve().parent.parent / "statemachines" / "deactivation_sync.asl.json"
THROTTLE = "Lambda.TooManyRequestsException"


@dataclass(frozen=True)
class Rule:
    interval: float
    rate: float
    cap: float


def throttle_rule() -> Rule:
    task = json.loads(ASL.read_text())["States"]["SyncAuth0Users"]
    rule = next(r for r in task["Retry"] if THROTTLE in r["ErrorEquals"])
    return Rule(rule["IntervalSeconds"], rule["BackoffRate"], rule["MaxDelaySeconds"])


@dataclass(frozen=True)
class Limits:
    window: float = 60.0
    lookups: int = 5  # LookupConcurrency
    writers: int = 3  # DeactivationConcurrency
    calls: int = 5  # Auth0 calls per event
    auth0_burst: float = 50.0
    auth0_rate: float = 16.0
    okta_rate: float = 1000 / 60
    latency: float = 0.15  # seconds per call

    def floor(self, events: int) -> float:
        return max(self.window, (events * self.calls - self.auth0_burst) / self.auth0_rate, events / self.okta_rate)


def simulate(events: int, rule: Rule, limits: Limits = Limits(), seed: int = 1) -> tuple[float, float]:
    """(last effect / floor, throttles per event) of one simulated burst."""
    rng = random.Random(seed)
    queue: list[tuple[float, int, str, int]] = []
    order = 0

    def at(when: float, what: str, event: int) -> None:
        nonlocal order
        order += 1
        heapq.heappush(queue, (when, order, what, event))

    for n in range(events):
        at(n * limits.window / events, "lookup", n)
    free = {"lookup": limits.lookups, "write": limits.writers}
    throttled: dict[tuple[int, str], int] = {}
    okta_next, tokens, refilled, last = 0.0, limits.auth0_burst, 0.0, 0.0
    while queue:
        now, _, what, n = heapq.heappop(queue)
        if what in free and free[what] == 0:
            tries = throttled[(n, what)] = throttled.get((n, what), 0) + 1
            at(now + rng.uniform(0, min(rule.cap, rule.interval * rule.rate ** (tries - 1))), what, n)
        elif what == "lookup":
            free[what] -= 1
            okta_next = max(now, okta_next) + 1 / limits.okta_rate
            at(okta_next + limits.latency, "looked_up", n)
        elif what == "write":
            free[what] -= 1
            for _ in range(limits.calls):  # one after another, each waiting for a token
                tokens, refilled = min(limits.auth0_burst, tokens + (now - refilled) * limits.auth0_rate), now
                if tokens < 1:
                    now += (1 - tokens) / limits.auth0_rate
                    tokens, refilled = 1.0, now
                tokens -= 1
                now += limits.latency
            at(now, "written", n)
        elif what == "looked_up":
            free["lookup"] += 1
            at(now, "write", n)
        else:
            free["write"] += 1
            last = max(last, now)
    return last / limits.floor(events), sum(throttled.values()) / events


def main(sizes: list[int]) -> dict:
    asl = throttle_rule()
    rules = [asl] + [Rule(1, 2, cap) for cap in (10, 60) if cap != asl.cap] + [Rule(2, 2, 300)]
    print(
        "Deactivation burst, queueing model (bench/burst_model.py: no cold starts, no CPU; "
        "3 writers, 5 readers, Auth0 16/s burst 50, Okta 1000/min, 150 ms a call, events over 60 s)"
    )
    figures = {}
    for events in sizes:
        for rule in rules:
            ratio, per_event = simulate(events, rule)
            figures[(events, rule.cap)] = (ratio, per_event)
            mark = " (the ASL's throttle rule)" if rule == asl else ""
            print(
                f"  {events} events, throttles retried from {rule.interval:g} s capped at {rule.cap:g} s{mark}: "
                f"last effect {ratio:.2f}x the floor, {per_event:.1f} throttle retries per event "
                f"(${per_event * PRICE['transition'] * 1000:.2f} per 1,000 events)"
            )
    return figures
