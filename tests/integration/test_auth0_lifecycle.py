"""Auth0 -> Okta, end to end: writes made through the sandbox Auth0 Management API are logged,
streamed as EventBridge events, matched by the template's rules (moto's pattern matcher),
received by the real handler, and run through the real ``Auth0Lifecycle`` ASL against the
sandbox Okta: a role assignment provisions, a removal deprovisions, a block / unblock / deletion
suspends / unsuspends / deactivates, our own writes start nothing, duplicates start nothing, and
out-of-order logs converge on the newest."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.eventbridge import LogStream, deliver
from tests.integration.conftest import HOOK_SECRET, connection_secrets
from tests.sandbox.support import management_session

MACHINE = "Auth0LifecycleStateMachine"
BUS = "Auth0LogStreamBus"
PARTNER_ROLE = "rol_rRVnAbarjZsuC2Xn"
PARTNERS_GROUP = "00gU18bXbD9XEKxR56aB"
ADMIN_SCOPES = (
    "read:users",
    "update:users",
    "delete:users",
    "read:roles",
    "create:role_members",
    "delete:role_members",
)
TRIALS = 1  # seeded ordering trials in make test (each: 2-4 logs, shuffled, duplicated, concurrent)


@pytest.fixture
def stack(sb, credentials):
    counters.api_calls.reset()
    counters.tokens_minted.reset()
    parameters = {
        "OktaDomain": sb.okta.domain,
        "Auth0Domain": sb.auth0.domain,
        "Auth0LogEventSource": sb.auth0.tenant_logs.partner_source,
        "Auth0RoleId": PARTNER_ROLE,
        "OktaGroupId": PARTNERS_GROUP,
    }
    with LocalDeployment(connection_secrets(credentials), parameters=parameters) as deployment:
        yield deployment


@pytest.fixture
def stream(sb, stack):
    log_stream = LogStream(stack, sb.auth0, BUS)
    yield log_stream
    log_stream.close()


@pytest.fixture
def admin(sb):
    """An operator's own M2M application (the Dashboard's stand-in), not the sync's."""
    return management_session(sb, "acme-admin", ADMIN_SCOPES)


def partner(sb, n: int = 1) -> str:
    return sb.auth0.add_user(
        email=f"new.partner{n}@partner.example", given_name="New", family_name=f"Partner{n}", email_verified=True
    )["user_id"]


def runs(stack):
    done = stack.wait_all(MACHINE)
    assert all(r.status == "SUCCEEDED" for r in done.values()), [(r.error, r.cause_message) for r in done.values()]
    return done


def assign(admin, user_id):
    response = admin.post(f"{admin.base}/roles/{PARTNER_ROLE}/users", json={"users": [user_id]})
    assert response.status_code == 200, response.text


def okta_user(sb, n: int = 1):
    return sb.okta.get_user(f"new.partner{n}@partner.example")


def provisioned(sb, stream, stack, admin, n: int = 1) -> tuple[str, str]:
    user_id = partner(sb, n)
    assign(admin, user_id)
    stream.pump()
    runs(stack)
    okta = okta_user(sb, n)
    assert okta is not None and okta["status"] == "ACTIVE"
    return user_id, okta["id"]


def test_role_and_lifecycle_changes_in_auth0_reach_okta(sb, stack, stream, admin, monkeypatch):
    """Assigned to the mapped role -> provisioned by the worker (a repeated log starts nothing);
    blocked -> suspended; unblocked -> unsuspended; removed from the role -> out of the group, a
    second removal within the hour held back by the event safety stop (SafetyStopped, alarmed);
    deleted -> deactivated. A partner whose Okta account existed before is left alone."""
    from okta_auth0_sync.runtime import observability

    published = []
    monkeypatch.setattr(observability.metrics, "add_metric", lambda name, unit, value: published.append((name, value)))
    user_id = partner(sb)
    sb.okta.add_user({"login": "new.partner2@partner.example", "email": "new.partner2@partner.example",
                      "firstName": "Had", "lastName": "Okta"})  # fmt: skip
    adopted = partner(sb, 2)
    assign(admin, user_id)
    assign(admin, adopted)
    first, _ = stream.pump()
    assert first.matched == [("Auth0LogEventsFunction", "Auth0UserWrites")] and first.results[0]["started"] == 1
    done = runs(stack)
    run = done[stream.events[0]["detail"]["log_id"]]  # named after the log
    assert run.output["outcome"] == "provision" and run.output["recorded"] == "newest"
    okta_id = okta_user(sb)["id"]
    assert {okta_id, okta_user(sb, 2)["id"]} <= set(sb.okta.group_member_ids(PARTNERS_GROUP))
    assert okta_user(sb)["profile"]["auth0_mastered"] == "true"  # created by the worker, with its rules
    keys = stack.client("s3").list_objects_v2(Bucket=stack.ref("ProvisioningBucket"), Prefix="reports/")["Contents"]
    assert f"reports/{run.name}.json" in [o["Key"] for o in keys]  # the run's report, as a scheduled run's
    # at least once: the same log again starts nothing
    again = deliver(stack, BUS, stream.events[0])
    assert again.results[0] == {**again.results[0], "duplicates": 1, "started": 0}

    def step(method, path, body=None, status=None):
        response = admin.request(method, f"{admin.base}{path}", json=body)
        assert response.ok, response.text
        stream.pump()
        return runs(stack)

    step("PATCH", f"/users/{user_id}", {"blocked": True})
    assert sb.okta.get_user(okta_id)["status"] == "SUSPENDED"
    step("PATCH", f"/users/{adopted}", {"blocked": True})  # not created by this package: left alone
    assert okta_user(sb, 2)["status"] == "ACTIVE"
    step("PATCH", f"/users/{user_id}", {"blocked": False})
    assert sb.okta.get_user(okta_id)["status"] == "ACTIVE"
    step("DELETE", f"/users/{user_id}/roles", {"roles": [PARTNER_ROLE]})
    assert okta_id not in sb.okta.group_member_ids(PARTNERS_GROUP)
    # the event safety stop: 10 % of the mapping's 2 members is 1 removal an hour, taken above
    done = step("DELETE", f"/users/{adopted}/roles", {"roles": [PARTNER_ROLE]})
    assert okta_user(sb, 2)["id"] in sb.okta.group_member_ids(PARTNERS_GROUP)  # not removed
    (stopped,) = [r for r in done.values() if r.output["outcome"] == "safety_stop"]  # SUCCEEDED, not retried
    assert stopped.output["deprovisioned"][0]["safety_stop"]["limit"] == 1
    assert ("DeprovisioningSafetyStop", 1) in published and ("DeprovisioningEventSafetyStops", 1) in published
    step("DELETE", f"/users/{user_id}")  # a sapi and an sdu: two logs, one effect
    assert sb.okta.get_user(okta_id)["status"] == "DEPROVISIONED"
    outcomes = sorted(r.output["outcome"] for r in stack.wait_all(MACHINE).values())
    assert outcomes == sorted(
        [
            "provision",
            "provision",
            "applied",
            "not_ours",
            "applied",
            "deprovision",
            "safety_stop",
            "applied",
            "already_applied",
        ]
    )
    suspends = counters.api_calls.total("okta", method="POST", route="/api/v1/users/{id}/lifecycle/suspend")
    assert suspends == 1
    # a write that changes nothing followed is ignored (no execution)
    admin.patch(f"{admin.base}/users/{adopted}", json={"user_metadata": {"x": 1}})
    (ignored,) = stream.pump()
    assert ignored.results[0]["ignored"] == 1 and len(stack.executions(MACHINE)) == len(outcomes)


def test_no_echo_with_both_directions_at_once(sb, stack, stream, admin, api):
    """Okta deactivates Ada (the deactivation sync blocks her Auth0 accounts: our own writes) while
    an Auth0 admin blocks a partner this package provisioned: the partner is suspended in Okta,
    and none of the sync's own blocks comes back into Okta."""
    user_id, okta_id = provisioned(sb, stream, stack, admin)
    hook = sb.okta.register_event_hook(f"{api.url}/okta/event-hook", ["user.lifecycle.deactivate"], HOOK_SECRET)
    assert hook
    sb.okta.lifecycle("00uZPx7YubxGT9rKLiKE", "deactivate")  # Ada

    def okta_side():
        assert all(d.outcome == "success" for d in sb.okta.flush_event_hooks())
        stack.wait_all("DeactivationSyncStateMachine")

    def auth0_side():
        admin.patch(f"{admin.base}/users/{user_id}", json={"blocked": True})

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(okta_side), pool.submit(auth0_side)]:
            future.result()
    stack.wait_all("DeactivationSyncStateMachine")
    stream.pump()
    runs(stack)
    own = [e for e in stream.events if e["detail"]["data"]["client_id"] == stack_client_id(sb)]
    patches = [e for e in own if e["detail"]["data"]["details"]["request"]["method"] == "patch"]
    assert len(patches) == 2  # both of Ada's accounts blocked by the sync (then their sessions, tokens)
    assert all(e["detail"]["data"]["details"]["request"]["body"]["blocked"] is True for e in patches)
    assert sum(d.results[0].get("own_writes", 0) for d in stream.deliveries if d.results) == len(own)
    names = {e["name"] for e in stack.executions(MACHINE)}
    assert not names & {e["detail"]["log_id"] for e in own}  # no execution for our own writes
    assert sb.okta.get_user(okta_id)["status"] == "SUSPENDED"  # the admin's block did reach Okta
    assert sb.okta.get_user("00uZPx7YubxGT9rKLiKE")["status"] == "DEPROVISIONED"


def stack_client_id(sb):
    return sb.fixture["auth0"]["clients"][0]["client_id"]


def test_duplicates_and_out_of_order_logs_converge_on_the_newest(sb, stack, stream, admin):
    """Seeded trials: a provisioned partner gets a random history of blocks and unblocks; the
    stream delivers the logs shuffled, some twice, all at once. Okta ends in the newest state."""
    rng = random.Random(20261201)
    user_id, okta_id = provisioned(sb, stream, stack, admin)
    for _ in range(TRIALS):
        for _ in range(rng.randint(2, 4)):
            admin.patch(f"{admin.base}/users/{user_id}", json={"blocked": rng.random() < 0.5})
        queued = list(stream._queue.queue)
        stream._queue.queue.clear()
        deliveries = queued + rng.sample(queued, k=min(2, len(queued)))
        rng.shuffle(deliveries)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda event: deliver(stack, BUS, event), deliveries))
        runs(stack)
        newest = sb.auth0.get_user(user_id)["blocked"]
        assert sb.okta.get_user(okta_id)["status"] == ("SUSPENDED" if newest else "ACTIVE")
    distinct = {e["detail"]["log_id"] for e in stream.events}
    assert len(stack.executions(MACHINE)) == len(distinct)  # one execution per log, duplicates none


def test_the_poll_fallback_reads_from_its_checkpoint_and_shares_execution_names_with_the_stream(sb, credentials, admin):
    """Without a stream: GET /api/v2/logs from the checkpoint; a first poll only records where it
    starts; a later poll starts the same execution (named by log_id) the stream would have."""
    parameters = {
        "OktaDomain": sb.okta.domain,
        "Auth0Domain": sb.auth0.domain,
        "Auth0LogEventSource": sb.auth0.tenant_logs.partner_source,
        "Auth0LogPolling": "true",
        "Auth0RoleId": PARTNER_ROLE,
        "OktaGroupId": PARTNERS_GROUP,
    }
    client = credentials.auth0["client_id"]
    granted = sb.auth0.client(client).grants[sb.auth0.management_audience]
    sb.auth0.set_grant(client, sb.auth0.management_audience, {*granted, "read:logs"})
    with LocalDeployment(connection_secrets(credentials), parameters=parameters) as polled:
        stream = LogStream(polled, sb.auth0, BUS)  # present, but not pumped until the end
        admin.patch(f"{admin.base}/users/{partner(sb, 3)}", json={"name": "before the first poll"})
        first = polled.invoke("Auth0LogPollFunction", {})
        assert first["pages"] == 0 and first["started_from"] == sb.auth0.tenant_logs.all()[-1]["log_id"]
        user_id = partner(sb, 4)
        assign(admin, user_id)
        second = polled.invoke("Auth0LogPollFunction", {})
        assert second["started"] == 1 and second["logs"] == 1
        assert polled.invoke("Auth0LogPollFunction", {})["logs"] == 0  # the checkpoint moved on
        runs(polled)
        assert okta_user(sb, 4)["id"] in sb.okta.group_member_ids(PARTNERS_GROUP)
        (late,) = stream.pump()[-1:]  # the stream delivers the same log late: nothing new
        assert late.results[0]["duplicates"] == 1 and len(polled.executions(MACHINE)) == 1
        stream.close()


def test_the_sample_events(sb, stack):
    """events/auth0_log_event.json as sam local would send it; a malformed event starts nothing."""
    import json
    from pathlib import Path

    sample = json.loads((Path(__file__).parents[2] / "events" / "auth0_log_event.json").read_text())
    sample["source"] = sb.auth0.tenant_logs.partner_source
    (delivery,) = [deliver(stack, BUS, sample)]
    assert delivery.results == [{**delivery.results[0], "started": 1}]
    assert runs(stack)[sample["detail"]["log_id"]].output["outcome"] == "not_provisioned"
    for bad in ({"detail": "x"}, {"detail": {"data": {"type": "sapi"}}}, []):
        assert "invalid" in stack.invoke("Auth0LogEventsFunction", bad)
    assert len(stack.executions(MACHINE)) == 1
