"""A burst of deactivations against reserved concurrency: the test bed refuses an invocation beyond
a function's ``ReservedConcurrentExecutions`` as Lambda does (429 ``TooManyRequestsException``),
the real ASL retries it under its throttle rule (waits scaled 1/4000, ``testbed/timescale.py``),
and every event lands exactly once. The 5,000-event figures: ``python -m bench burst``."""

import pytest

from okta_auth0_sync_testbed.apigateway import LocalHttpApi
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.timescale import scaled_retry_waits

from .conftest import EVENT_TYPES, HOOK_SECRET, connection_secrets, deliver

MACHINE = "DeactivationSyncStateMachine"
PEOPLE = 8
RESERVED = 2


@pytest.fixture
def narrow_stack(sb, credentials):
    parameters = {
        "OktaDomain": sb.okta.domain,
        "Auth0Domain": sb.auth0.domain,
        "DeactivationConcurrency": str(RESERVED),
        "LookupConcurrency": str(RESERVED),
    }
    with LocalDeployment(connection_secrets(credentials), parameters=parameters) as stack, LocalHttpApi(stack) as api:
        sb.okta.register_event_hook(f"{api.url}/okta/event-hook", EVENT_TYPES, HOOK_SECRET)
        yield stack


def test_a_burst_beyond_reserved_concurrency_is_throttled_retried_and_lands_exactly_once(sb, narrow_stack):
    stack = narrow_stack
    assert stack.reserved_concurrency("UpdateMetadataFunction") == RESERVED
    crowd = []
    for n in range(PEOPLE):
        email = f"burst.person{n}@acme.example"
        okta = sb.okta.add_user({"login": email, "email": email, "firstName": "Burst", "lastName": str(n)})
        crowd.append((okta["id"], sb.auth0.add_user(email=email)["user_id"]))

    with scaled_retry_waits(1 / 4000) as clock:
        for okta_id, _ in crowd:
            sb.okta.deactivate_user(okta_id)
        deliver(sb)  # the events of the burst, delivered at once
        runs = stack.wait_all(MACHINE, timeout=30)

    assert len(runs) == PEOPLE
    assert all(run.status == "SUCCEEDED" for run in runs.values()), [r.cause for r in runs.values()]
    for _, account in crowd:  # every event landed, exactly once
        assert sb.auth0.get_user(account)["app_metadata"]["okta_sync"]["deactivated"] is True
        writes = [c for c in sb.auth0.calls.all() if c.method == "PATCH" and c.status == 200 and account in c.path]
        assert len(writes) == 1, account
    # Never more than the reserved concurrency at once; the surplus was throttled and retried.
    assert stack.peak_in_flight["UpdateMetadataFunction"] <= RESERVED
    assert stack.peak_in_flight["LookupUsersFunction"] <= RESERVED
    throttles = sum(stack.throttles.values())
    assert stack.throttles.get("UpdateMetadataFunction", 0) > 0
    throttled_tasks = [
        e
        for run in runs.values()
        for e in run.history
        if e["type"] == "TaskFailed" and e["taskFailedEventDetails"]["error"] == "Lambda.TooManyRequestsException"
    ]
    assert len(throttled_tasks) == throttles  # each throttle reached the ASL under its Lambda name...
    assert sum(run.retries for run in runs.values()) == throttles == len(clock.intervals)  # ...and was retried
    # ...under the throttle rule (waits capped at 30 s from 1 s), not the 5-minute outage budget: a
    # slot frees within a second, so the surplus keeps asking often.
    assert max(clock.intervals) <= 30
    assert sum(run.billed_transitions for run in runs.values()) == PEOPLE * 6 + throttles
