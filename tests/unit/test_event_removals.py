"""The event safety stop: removals driven by Auth0 role logs, one member per execution, held to
``max_percent`` of the mapping's group within a rolling window, atomically across containers
(a moto state table; the Okta client is test_deprovisioning's recording fake)."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from moto import mock_aws

from okta_auth0_sync.domain.deprovisioning import (
    DeprovisionPolicy,
    bucket_width,
    expired_buckets,
    share_limit,
    window_bucket,
)
from okta_auth0_sync.services.provisioning.deprovision import MemberContext
from okta_auth0_sync.services.provisioning.event_removals import deprovision_event_member
from okta_auth0_sync.store.provisioning_state import StateTable
from okta_auth0_sync.store.removal_window import RemovalWindow
from tests.unit.test_deprovisioning import MAPPING, FakeOkta
from tests.unit.test_store import make_table

HOUR = 3600
T0 = 1_800_000_000.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class OneRequestAtATime:
    """DynamoDB applies each request atomically (a condition and its write, a transaction's items);
    moto, called from threads, does not promise that. Serialising each *request* restores the
    service's guarantee while the threads' read -> expire -> claim sequences still interleave."""

    def __init__(self, client) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name):
        call = getattr(self._client, name)
        if not callable(call) or name == "exceptions":
            return call

        def locked(*args, **kwargs):
            with self._lock:
                return call(*args, **kwargs)

        return locked


@pytest.fixture
def tables():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        make_table(client, "state", sort_key=True)
        shared = OneRequestAtATime(client)
        clock = Clock()
        yield StateTable("state", shared), RemovalWindow("state", shared, clock=clock), clock


def group_of(state: StateTable, n: int) -> FakeOkta:
    """``n`` members this package created and put in the mapping's group."""
    okta = FakeOkta({f"00u{i:04d}": ("ACTIVE", [MAPPING.group_id]) for i in range(n)})
    state.record(MAPPING, "run-0", [{"user_id": f"auth0|{i}", "outcome": "provisioned", "okta_user_id": f"00u{i:04d}"}
                                    for i in range(n)])  # fmt: skip
    return okta


def remove(state, window, okta, i, *, policy=None, dry_run=False, claim=None):
    context = MemberContext(MAPPING, f"log-{i}", policy or DeprovisionPolicy(), dry_run=dry_run)
    return deprovision_event_member(
        f"auth0|{i}", "left_role", context=context, okta=okta, state=state, window=window,
        claim_id=claim or f"log-{i}#v1",
    )  # fmt: skip


def test_a_removal_under_the_limit_goes_through(tables):
    state, window, _ = tables
    okta = group_of(state, 30)
    result = remove(state, window, okta, 7)
    assert result["outcome"] == "removed"
    assert result["safety_stop"] == {
        "stopped": False, "removed_in_window": 1, "limit": 3, "managed": 30, "window_seconds": HOUR,
    }  # fmt: skip
    assert okta.writes == [("remove", MAPPING.group_id, "00u0007")]
    assert state.member(MAPPING, "auth0|7")["outcome"] == "removed"


def test_twenty_concurrent_removals_with_a_limit_of_three_remove_exactly_three(tables):
    state, window, _ = tables
    okta = group_of(state, 30)  # 10 % of 30: 3 an hour
    barrier = threading.Barrier(20)

    def one(i):
        barrier.wait()
        return remove(state, window, okta, i)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    outcomes = [r["outcome"] for r in results]
    assert outcomes.count("removed") == 3 and outcomes.count("safety_stop") == 17
    assert len([w for w in okta.writes if w[0] == "remove"]) == 3
    removed = {r["user_id"] for r in results if r["outcome"] == "removed"}
    assert {m["user_id"] for m in state.members(MAPPING) if m["outcome"] == "removed"} == removed
    stopped = next(r for r in results if r["outcome"] == "safety_stop")
    assert stopped["safety_stop"]["stopped"] is True and stopped["safety_stop"]["limit"] == 3
    assert "next scheduled run" in stopped["safety_stop"]["reason"]
    assert window.count(MAPPING, HOUR) == 3


def test_a_retried_claim_takes_one_slot(tables):
    state, window, _ = tables
    okta = group_of(state, 30)
    for _ in range(3):  # the same decision retried (the task, or the Lambda)
        claim = window.claim(MAPPING, "log-1#v1", window_seconds=HOUR, limit_for=lambda n: 3)
        assert claim.allowed
    assert window.count(MAPPING, HOUR) == 1
    assert remove(state, window, okta, 2)["outcome"] == "removed"
    assert remove(state, window, okta, 3)["outcome"] == "removed"
    assert remove(state, window, okta, 4)["outcome"] == "safety_stop"


def test_the_window_rolls(tables):
    state, window, clock = tables
    okta = group_of(state, 30)
    assert [remove(state, window, okta, i)["outcome"] for i in range(4)] == ["removed"] * 3 + ["safety_stop"]
    clock.now += HOUR - 60  # still within the hour
    assert remove(state, window, okta, 4)["outcome"] == "safety_stop"
    clock.now += 60 + bucket_width(HOUR)  # the first removals' bucket has left the window
    assert remove(state, window, okta, 5)["outcome"] == "removed"
    assert window.count(MAPPING, HOUR) == 1
    item = window.read(MAPPING)
    assert item["total"] == 1 and len([k for k in item if k.startswith("b_")]) == 1  # old buckets gone


def test_nothing_to_remove_takes_no_slot_and_off_removes_nobody(tables):
    state, window, _ = tables
    okta = group_of(state, 30)
    assert remove(state, window, okta, 99)["outcome"] == "not_in_group"  # never put there
    off = remove(state, window, okta, 1, policy=DeprovisionPolicy(enabled=False))
    assert off["outcome"] == "not_removed" and okta.writes == []
    none = remove(state, window, okta, 1, policy=DeprovisionPolicy(max_percent=0))
    assert none["outcome"] == "safety_stop" and none["safety_stop"]["limit"] == 0 and okta.writes == []
    assert window.count(MAPPING, HOUR) == 0


def test_a_dry_run_says_what_would_happen_and_writes_nothing(tables):
    state, window, _ = tables
    okta = group_of(state, 10)  # limit 1
    assert remove(state, window, okta, 1, dry_run=True)["outcome"] == "would_remove"
    assert remove(state, window, okta, 1)["outcome"] == "removed"
    would = remove(state, window, okta, 2, dry_run=True)
    assert would["outcome"] == "would_safety_stop" and would["safety_stop"]["stopped"] is True
    assert okta.writes == [("remove", MAPPING.group_id, "00u0001")] and window.count(MAPPING, HOUR) == 1


def test_the_managed_count_is_taken_once_a_window(tables):
    state, window, clock = tables
    okta = group_of(state, 20)  # limit 2
    assert remove(state, window, okta, 0)["safety_stop"]["managed"] == 20
    group_of_more = [
        {"user_id": f"auth0|x{i}", "outcome": "provisioned", "okta_user_id": f"00ux{i}"} for i in range(20)
    ]
    state.record(MAPPING, "run-1", group_of_more)
    assert remove(state, window, okta, 1)["safety_stop"]["managed"] == 20  # cached within the window
    clock.now += HOUR
    assert remove(state, window, okta, 2)["safety_stop"]["managed"] == 38  # counted again (40, 2 removed)


def test_a_count_made_while_removals_are_under_way_does_not_replace_the_first(tables):
    """Two containers both find no count on the window: the first keeps its 30; the second, which
    counted after a removal (29), uses the 30 as well, so every claim of the window has one limit."""
    state, window, _ = tables
    group_of(state, 30)
    before = window.read(MAPPING)  # both containers read the window: no count yet
    assert window.managed(MAPPING, before, HOUR) == 30
    state.record(MAPPING, "run-1", [{"user_id": "auth0|0", "outcome": "removed", "okta_user_id": "00u0000"}])
    assert window.count_in_group(MAPPING) == 29
    assert window.managed(MAPPING, before, HOUR) == 30  # the second container, with its stale read
    assert window.read(MAPPING)["managed"] == 30


def test_seeded_random_arrivals_never_exceed_the_limit_in_any_window():
    """Claims at random times over several windows (seeded): within any window's span the
    allowed ones never exceed the limit, and a claim is refused only when the window is full."""
    rng = random.Random(13)
    window_seconds, limit = 600, 4
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        make_table(client, "state", sort_key=True)
        clock = Clock()
        window = RemovalWindow("state", client, clock=clock)
        allowed: list[float] = []
        for n in range(40):
            clock.now += rng.expovariate(1 / 45)
            held = [t for t in allowed if t > clock.now - window_seconds]
            claim = window.claim(MAPPING, f"c{n}", window_seconds=window_seconds, limit_for=lambda m: limit)
            if claim.allowed:
                allowed.append(clock.now)
                assert len(held) < limit
            else:  # refused: the window (counted a bucket generously) is full
                width = bucket_width(window_seconds)
                assert len([t for t in allowed if t >= clock.now - window_seconds - width]) >= limit
        for t in allowed:
            assert len([u for u in allowed if t - window_seconds < u <= t]) <= limit
        assert len(allowed) > 2 * limit  # the window did roll


def test_the_pure_rules():
    policy = DeprovisionPolicy(max_percent=10)
    assert [share_limit(n, policy) for n in (0, 9, 10, 30, 35)] == [1, 1, 1, 3, 3]
    assert share_limit(100, DeprovisionPolicy(max_percent=0)) == 0
    assert bucket_width(HOUR) == 60 and bucket_width(60) == 1
    assert window_bucket(T0 + 59, HOUR) == window_bucket(T0, HOUR) == T0
    assert expired_buckets([T0, T0 + 60, T0 + 120], T0 + HOUR + 60, HOUR) == [T0]
    with pytest.raises(ValueError, match="event_window_seconds"):
        DeprovisionPolicy(event_window_seconds=30)
