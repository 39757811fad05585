"""Provisioning runs end to end (the real ASL in moto, the sandbox tenants): reports that add up
under retried steps and failed attempts, and deprovisioning with its safety stop and rejoining."""

import pytest

from okta_auth0_sync.clients import http
from okta_auth0_sync_testbed.deployment import LocalDeployment
from tests.integration.conftest import connection_secrets

MACHINE = "ProvisioningStateMachine"
ROLE = "rol_rRVnAbarjZsuC2Xn"  # fixture: 6 members (one already in Okta, one without names)
GROUP = "00gU18bXbD9XEKxR56aB"
PRIYA_OKTA = "00ue4eScyR1FYOcoldsi"  # in Okta before: adopted, not created by this package


def provision(stack, **options):
    run = stack.execute(MACHINE, {"role_id": ROLE, "group_id": GROUP, **options}, timeout=600)
    assert run.status == "SUCCEEDED", (run.error, run.cause_message)
    return run.output["report"], run


def api_calls(sb, tenant):
    """What the tenant served, token requests left out (the report counts those as tokens)."""
    calls = getattr(sb, tenant).calls.all()
    return sum(1 for c in calls if "/oauth" not in c.route and "token" not in c.route)


@pytest.fixture
def fast_backoff(monkeypatch):
    """The HTTP layer's retries without their sleeps (the retries themselves still happen)."""
    monkeypatch.setattr(http.HttpClient, "_backoff", lambda self, attempt: 0.0)


@pytest.fixture
def suspend_stack(sb, credentials):
    with LocalDeployment(
        connection_secrets(credentials),
        parameters={
            "OktaDomain": sb.okta.domain,
            "Auth0Domain": sb.auth0.domain,
            "DeprovisionLifecycle": "suspend",
        },
    ) as deployment:
        yield deployment


def test_counts_and_usage_add_up_when_the_listing_and_the_worker_are_retried(sb, stack, fast_backoff):
    # The listing's first call fails through all of the HTTP layer's attempts (the step fails and
    # Step Functions retries it); then the worker's first 9 creates answer 503: each new member's
    # create, looked up and tried again, fails (4 x 2), and the existing member's (1) is resolved
    # by the lookup: its outcome is recorded by the attempt that then fails, and Step Functions
    # retries the worker, which creates the other 4.
    sb.okta.faults.error("/api/v1/groups/*", status=500, method="GET", times=http.RetryPolicy().max_attempts)
    sb.okta.faults.error("/api/v1/users", status=503, method="POST", times=9)
    report, run = provision(stack)
    # Every member once: the members done by the failed worker attempt count as provisioned in
    # this run, never as unchanged.
    assert report["counts"] == {"provisioned": 4, "existing_added": 1, "failed": 1}
    assert sum(report["counts"].values()) == report["members"] == 6
    # Every call of every attempt, failed ones included, is in the report.
    assert report["api_calls"] == {"okta": api_calls(sb, "okta"), "auth0": api_calls(sb, "auth0")}
    assert sb.okta.calls.count(status=500) == http.RetryPolicy().max_attempts
    # Billed transitions: every state entered, and every retry of a task.
    workers = [i for i in stack.invocations if i.function == "ProvisionMembersFunction"]
    listings = [i for i in stack.invocations if i.function == "ListRoleMembersFunction"]
    assert len(listings) == 2 and len(workers) >= 2 and sum(1 for w in workers if w.error) == 1
    retries = len(listings) - 1 + sum(1 for w in workers if w.error)
    assert report["cost"]["state_transitions"] == run.transitions + retries
    assert report["cost"]["dollars"] > 0
    # A rerun counts the same members as unchanged, and a redo of the run's report is stable.
    again, _ = provision(stack)
    assert again["counts"] == {"failed": 1, "unchanged": 5}


def remove_from_role(sb, *user_ids):
    with sb.auth0.lock:
        role = sb.auth0.service.role(ROLE)
        for user_id in user_ids:
            role.members.discard(user_id)


def test_departed_members_leave_the_group_behind_the_safety_stop_and_come_back(sb, suspend_stack):
    stack = suspend_stack
    first, _ = provision(stack)
    assert first["counts"] == {"provisioned": 4, "existing_added": 1, "failed": 1}
    members = {u["profile"]["login"]: u["id"] for u in sb.okta.users() if u["id"] in sb.okta.group_member_ids(GROUP)}
    auth0_ids = {u["email"]: u["user_id"] for u in sb.auth0.users() if u["user_id"] in sb.auth0.role_member_ids(ROLE)}
    created = sorted(login for login in members if login in auth0_ids and members[login] != PRIYA_OKTA)
    leaver, blocked, *others = created
    priya_login = next(login for login, uid in members.items() if uid == PRIYA_OKTA)

    # 1. One member leaves the role: out of the group, and suspended (this package created them).
    remove_from_role(sb, auth0_ids[leaver])
    report, _ = provision(stack)
    assert report["counts"] == {"removed": 1, "failed": 1, "unchanged": 4}
    assert report["deprovisioning"]["safety_stop"]["stopped"] is False
    assert members[leaver] not in sb.okta.group_member_ids(GROUP)
    assert sb.okta.get_user(members[leaver])["status"] == "SUSPENDED"

    # 2. One is blocked in Auth0 (still in the role): removed too.
    sb.auth0.update_user(auth0_ids[blocked], {"blocked": True})
    report, _ = provision(stack)
    assert report["counts"]["removed"] == 1 and report["deprovisioning"]["sample"][0]["departed"] == "blocked"
    assert members[blocked] not in sb.okta.group_member_ids(GROUP)

    # 3. The role read comes back with two members (and the adopted Priya) fewer: more than the
    # safety stop allows for a group of 3 managed members (at most 1 a run). Nobody is removed.
    remove_from_role(sb, auth0_ids[others[0]], auth0_ids[priya_login])
    dry, _ = provision(stack, dry_run=True)
    assert dry["deprovisioning"]["safety_stop"]["stopped"] is True
    report, _ = provision(stack)
    stop = report["deprovisioning"]["safety_stop"]
    assert stop["stopped"] is True and stop["planned"] == 2 and stop["limit"] == 1 and "exceed" in stop["reason"]
    assert report["deprovisioning"]["counts"] == {"not_removed": 2}
    assert {members[others[0]], PRIYA_OKTA} <= set(sb.okta.group_member_ids(GROUP))
    assert sb.okta.get_user(PRIYA_OKTA)["status"] == "ACTIVE"

    # 4. Both come back (re-join, unblocked): restored, and the suspension this package made is undone.
    sb.auth0.add_role_members(ROLE, [auth0_ids[leaver], auth0_ids[others[0]], auth0_ids[priya_login]])
    sb.auth0.update_user(auth0_ids[blocked], {"blocked": False})
    report, _ = provision(stack)
    assert report["counts"] == {"restored": 2, "failed": 1, "unchanged": 3}
    assert report["deprovisioning"]["safety_stop"]["planned"] == 0
    assert {members[leaver], members[blocked]} <= set(sb.okta.group_member_ids(GROUP))
    assert sb.okta.get_user(members[leaver])["status"] == "ACTIVE"


def test_an_empty_role_read_never_empties_the_group(sb, stack):
    provision(stack)
    before = set(sb.okta.group_member_ids(GROUP))
    remove_from_role(sb, *sb.auth0.role_member_ids(ROLE))
    report, _ = provision(stack)
    assert report["members"] == 0
    assert report["deprovisioning"]["safety_stop"]["stopped"] is True
    assert "no members" in report["deprovisioning"]["safety_stop"]["reason"]
    assert set(sb.okta.group_member_ids(GROUP)) == before
