"""Retry budgets that outlast outages: the real deactivation-sync ASL in moto, its Retry intervals
computed by moto's interpreter (exponential, capped, full jitter) and slept 6,000 times faster
(``testbed/timescale.py``); the outage is the sandbox Auth0 answering 503 to everything."""

import json
from pathlib import Path

from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed.timescale import scaled_retry_waits

from .conftest import deliver

GRACE = "00uieg27N0mAaWp92N5J"
GRACE_DB = "auth0|c7d4c9e39de14f953e9cd582"
MACHINE = "DeactivationSyncStateMachine"
HOUR = 3600.0


def test_an_auth0_outage_of_an_hour_mid_sync_ends_with_the_flag_landed_exactly_once(sb, stack, hook):
    # The outage begins in the middle of the sync: the lookups succeed, the first write gets a
    # 503; from then on every Auth0 request does (token endpoint included) for an hour of
    # retry waits, and then Auth0 is back.
    sb.auth0.faults.error(route="/api/v2/users/*", method="PATCH", status=503, id="first-write")
    with scaled_retry_waits(1 / 6000) as clock:
        clock.at(0, lambda: sb.auth0.faults.error(route="*", status=503, id="outage"))
        clock.at(HOUR, sb.auth0.faults.clear)
        counters.api_calls.reset()
        sb.okta.deactivate_user(GRACE)
        deliver(sb)
        (run,) = stack.wait_all(MACHINE, timeout=60).values()

    assert run.status == "SUCCEEDED", run.cause
    assert clock.waited >= HOUR  # the execution outlived an hour of outage
    assert max(clock.intervals) <= 300  # MaxDelaySeconds
    record = (sb.auth0.get_user(GRACE_DB).get("app_metadata") or {}).get("okta_sync")
    assert record["deactivated"] is True and record["event_uuid"] == run.name
    patches = [c for c in sb.auth0.calls.all() if c.method == "PATCH" and c.status == 200]
    assert len(patches) == 1  # landed exactly once (every earlier attempt got a 503)
    assert counters.api_calls.total("auth0", status=503) >= len(clock.intervals)
    # Bounded cost: one billed transition per retry on top of the 6 of a clean run.
    assert run.retries == len(clock.intervals) <= 60
    assert run.billed_transitions == 6 + run.retries


def test_the_retry_budget_is_the_same_on_every_task_and_only_for_transient_errors():
    asl = json.loads(Path("statemachines/deactivation_sync.asl.json").read_text())
    transient = {"RateLimited", "UpstreamUnavailable", "Lambda.TooManyRequestsException", "Lambda.ServiceException"}
    permanent = {"PermissionDenied", "AuthenticationFailed", "ConfigurationError", "InvalidInput", "NotFound"}
    for name, state in asl["States"].items():
        if state["Type"] != "Task":
            continue
        budget = next(r for r in state["Retry"] if transient <= set(r["ErrorEquals"]))
        assert budget["MaxDelaySeconds"] == 300 and budget["MaxAttempts"] == 60, name
        assert budget["JitterStrategy"] == "FULL" and budget["BackoffRate"] == 2, name
        for retrier in state["Retry"]:
            assert not permanent & set(retrier["ErrorEquals"]), f"{name} retries a permanent error"
