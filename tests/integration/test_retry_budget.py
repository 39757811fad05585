"""Retry budgets that outlast outages: the real deactivation-sync ASL in moto, its Retry intervals
computed by moto's interpreter (exponential, capped, full jitter) and slept 6,000 times faster
(``testbed/timescale.py``); the outage is the sandbox Auth0 answering 503 to everything."""

import json
from pathlib import Path

import pytest

from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed.template import ROOT, Template
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


THROTTLE = "Lambda.TooManyRequestsException"
# A burst of 5,000 deactivations at Auth0 Enterprise's 16 requests/s, 5 Management API calls each
# (python -m bench burst): the last execution queues for about this long for a writer slot.
BURST_DRAIN = 5000 * 5 / 16


def wait_bounds(rule: dict) -> tuple[float, float]:
    """Mean and standard deviation of a retrier's total wait over all its attempts: retry n waits
    uniform(0, min(MaxDelaySeconds, IntervalSeconds * BackoffRate**n)) (``JitterStrategy: FULL``)."""
    caps = [
        min(rule["MaxDelaySeconds"], rule["IntervalSeconds"] * rule["BackoffRate"] ** n)
        for n in range(rule["MaxAttempts"])
    ]
    return sum(c / 2 for c in caps), sum(c * c / 12 for c in caps) ** 0.5


def test_throttles_have_their_own_short_budget_before_the_outage_budget_on_every_task():
    asl = json.loads(Path("statemachines/deactivation_sync.asl.json").read_text())
    transient = {"RateLimited", "UpstreamUnavailable", "Lambda.ServiceException", "Sandbox.Timedout"}
    permanent = {"PermissionDenied", "AuthenticationFailed", "ConfigurationError", "InvalidInput", "NotFound"}
    for name, state in asl["States"].items():
        if state["Type"] != "Task":
            continue
        # Throttles first (rules are tried in order; each counts its own attempts): a slot frees
        # within a second during a burst, so waits stay short instead of growing to 5 minutes.
        throttle, budget = state["Retry"][0], state["Retry"][1]
        assert throttle["ErrorEquals"] == [THROTTLE], name
        assert [r for r in state["Retry"] if THROTTLE in r["ErrorEquals"]] == [throttle], name
        assert throttle["JitterStrategy"] == "FULL" and throttle["IntervalSeconds"] == 1, name
        assert throttle["MaxDelaySeconds"] == 30 and throttle["BackoffRate"] == 2, name
        # The tenants' transient errors (and Lambda's own service errors): the outage budget, unchanged.
        assert transient <= set(budget["ErrorEquals"]), name
        assert budget["MaxDelaySeconds"] == 300 and budget["MaxAttempts"] == 60, name
        assert budget["JitterStrategy"] == "FULL" and budget["BackoffRate"] == 2, name
        for retrier in state["Retry"]:
            assert not permanent & set(retrier["ErrorEquals"]), f"{name} retries a permanent error"

        # Each budget waits at least an hour with probability > 1 - 1e-9 (6 standard deviations
        # below the mean of a sum of hundreds of uniform draws): an outage of an hour, and an hour
        # of queueing behind the reserved concurrency, over twice what a 5,000-event burst needs.
        for rule in (budget, throttle):
            mean, sd = wait_bounds(rule)
            assert mean - 6 * sd >= HOUR, (name, rule["ErrorEquals"], mean, sd)
        assert HOUR >= 2 * BURST_DRAIN
        # Bounded cost: a task throttled until its budget runs out bills 320 retries ($0.008).
        assert throttle["MaxAttempts"] * 0.025 / 1000 <= 0.01, name


TEMPLATE = Template.load(parameters={"OktaDomain": "o.example", "Auth0Domain": "a.example"})


def definition(machine: str) -> dict:
    return json.loads((ROOT / TEMPLATE.resources[machine]["Properties"]["DefinitionUri"]).read_text())


def tasks_invoking_reserved_functions() -> list[tuple[str, str, str]]:
    """(state machine, task, function) for every task of every state machine in template.yaml that
    invokes a function with ReservedConcurrentExecutions: where a burst's surplus is throttled."""
    resources = TEMPLATE.resources
    reserved = {n for n, r in resources.items() if "ReservedConcurrentExecutions" in r.get("Properties", {})}
    found = []
    for machine, resource in sorted(resources.items()):
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        props = resource["Properties"]
        invokes = {
            "${" + key + "}": value["Fn::GetAtt"][0]
            for key, value in props.get("DefinitionSubstitutions", {}).items()
            if isinstance(value, dict) and "Fn::GetAtt" in value
        }
        for task, state in definition(machine)["States"].items():
            function = invokes.get(str(state.get("Parameters", {}).get("FunctionName")))
            if state["Type"] == "Task" and function in reserved:
                found.append((machine, task, function))
    return found


RESERVED_TASKS = tasks_invoking_reserved_functions()


def test_every_reserved_concurrency_function_is_invoked_by_a_known_task():
    machines = {machine for machine, _, _ in RESERVED_TASKS}
    assert {"DeactivationSyncStateMachine", "IdentityLookupStateMachine"} <= machines
    assert {f for _, _, f in RESERVED_TASKS} == {"LookupUsersFunction", "UpdateMetadataFunction"}


@pytest.mark.parametrize(("machine", "task", "function"), RESERVED_TASKS, ids=lambda v: str(v))
def test_a_task_invoking_a_reserved_concurrency_function_retries_throttles_within_seconds(machine, task, function):
    # Its throttles (the reserved concurrency taken by a burst; no code ran) have their own rule,
    # tried first: full jitter from 1 s capped at 30 s, so the task asks again within seconds while
    # slots free every second, for over an hour of queueing; no other rule retries a throttle.
    state = definition(machine)["States"][task]
    throttle = state["Retry"][0]
    assert throttle["ErrorEquals"] == [THROTTLE], (machine, task)
    assert [r for r in state["Retry"] if THROTTLE in r["ErrorEquals"]] == [throttle], (machine, task)
    assert throttle["JitterStrategy"] == "FULL" and throttle["IntervalSeconds"] == 1, (machine, task)
    assert throttle["MaxDelaySeconds"] == 30 and throttle["BackoffRate"] == 2, (machine, task)
    mean, sd = wait_bounds(throttle)
    assert mean - 6 * sd >= HOUR, (machine, task, mean, sd)
    assert throttle["MaxAttempts"] * 0.025 / 1000 <= 0.01, (machine, task)  # bounded cost
