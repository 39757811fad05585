"""The official Okta SDK (okta 3.4, asyncio) as a client of the Okta sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sandbox.support import OKTA


@pytest.fixture(scope="module", autouse=True)
def _okta_sdk():
    """The SDK is imported when these tests run, not when the suite is collected: importing it
    costs ~5 s of CPU (pydantic builds a validator for every API method), in every process that
    collects the suite (each worker of a parallel run), whether or not it runs these tests."""
    global OktaClient, OktaAPIError, CreateUserRequest, paginate_all, RequestExecutor
    from okta.client import Client as OktaClient
    from okta.errors.okta_api_error import OktaAPIError
    from okta.models import CreateUserRequest
    from okta.pagination import paginate_all
    from okta.request_executor import RequestExecutor


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def new_partner(n: int = 1) -> dict[str, Any]:
    login = f"new.partner{n}@partner.example"
    return {
        "profile": {
            "firstName": "New",
            "lastName": f"Partner{n}",
            "email": login,
            "login": login,
            "auth0_mastered": "true",
        },
        "credentials": {"provider": {"type": "FEDERATION", "name": "FEDERATION"}},
        "groupIds": [OKTA.partners],
    }


@pytest.mark.parametrize("mode", ["private_key", "ssws"])
def test_get_user_and_search(okta_config, sb, mode):
    async def scenario():
        client = OktaClient(okta_config(mode))
        user, _, err = await client.get_user(OKTA.ada)
        assert err is None
        found, _, err2 = await client.list_users(search='profile.email eq "ADA.LOVELACE@acme.example"')
        by_login, _, err3 = await client.get_user("grace.hopper+ops@acme.example")
        return user, found, by_login, (err2, err3)

    user, found, by_login, errs = run(scenario())
    assert errs == (None, None)
    assert user.id == OKTA.ada and user.status.value == "ACTIVE"
    assert user.profile.email == "ada.lovelace@acme.example"
    assert [u.id for u in found] == [OKTA.ada]  # search values are case-insensitive
    assert by_login.id == OKTA.grace  # lookup by (URL-encoded) login with a '+'
    token_calls = sb.okta.calls.count(route="/oauth2/v1/token", status=200)
    assert token_calls == (1 if mode == "private_key" else 0)  # the SDK caches its access token


def test_pagination_across_pages(okta_config, sb):
    sb.okta.bulk_add_users(23)

    async def scenario():
        client = OktaClient(okta_config())
        return [u.id async for u in paginate_all(client.list_users, limit=10)]

    ids = run(scenario())
    expected = [u["id"] for u in sb.okta.users() if u["status"] != "DEPROVISIONED"]
    assert len(ids) == len(expected) == 30
    assert ids == sorted(expected)  # cursor order, no duplicates, nothing missed
    assert sb.okta.calls.count(route="/api/v1/users", status=200) == 3


def test_create_user_with_groups_and_duplicate(okta_config, sb):
    async def scenario():
        client = OktaClient(okta_config())
        created, _, err = await client.create_user(
            CreateUserRequest.from_dict(new_partner()), activate=True, provider=True
        )
        assert err is None
        _, _, dup_err = await client.create_user(
            CreateUserRequest.from_dict(new_partner()), activate=True, provider=True
        )
        return created, dup_err

    created, dup_err = run(scenario())
    assert created.id.startswith("00u") and len(created.id) == 20
    assert created.status.value == "ACTIVE"
    assert created.credentials.provider.type.value == "FEDERATION"
    assert created.profile.additional_properties["auth0_mastered"] == "true"  # custom attribute round-trips
    assert created.id in sb.okta.group_member_ids(OKTA.partners)
    assert isinstance(dup_err, OktaAPIError)
    assert dup_err.error_code == "E0000001"
    assert "already exists" in str(dup_err)
    assert [e["eventType"] for e in sb.okta.log_events()] == [
        "user.lifecycle.create",
        "user.lifecycle.activate",
        "group.user_membership.add",
    ]


def test_group_membership_add_remove_and_list(okta_config, sb):
    async def scenario():
        client = OktaClient(okta_config())
        _, add_resp, add_err = await client.assign_user_to_group(OKTA.engineering, OKTA.priya)
        members, _, _ = await client.list_group_users(OKTA.engineering)
        _, del_resp, del_err = await client.unassign_user_from_group(OKTA.engineering, OKTA.priya)
        after, _, _ = await client.list_group_users(OKTA.engineering)
        missing = await client.assign_user_to_group("00gDoesNotExist00000", OKTA.priya)
        return add_resp, add_err, members, del_resp, del_err, after, missing[-1]  # the SDK returns a pair on errors

    add_resp, add_err, members, del_resp, del_err, after, missing_err = run(scenario())
    assert add_err is None and add_resp.status_code == 204
    assert OKTA.priya in [m.id for m in members]
    assert del_err is None and del_resp.status_code == 204
    assert OKTA.priya not in [m.id for m in after]
    assert missing_err.status == 404 and missing_err.error_code == "E0000007"


def test_lifecycle_deactivate_reactivate(okta_config, sb):
    async def scenario():
        client = OktaClient(okta_config("ssws"))
        _, _, deact_err = await client.deactivate_user(OKTA.grace)
        user, _, _ = await client.get_user(OKTA.grace)
        _, _, react_err = await client.reactivate_user(OKTA.grace)  # only for PROVISIONED users
        _, _, act_err = await client.activate_user(OKTA.grace, send_email=False)
        again, _, _ = await client.get_user(OKTA.grace)
        _, _, twice_err = await client.activate_user(OKTA.ada, send_email=False)
        return deact_err, user, react_err, act_err, again, twice_err

    deact_err, user, react_err, act_err, again, twice_err = run(scenario())
    assert deact_err is None and user.status.value == "DEPROVISIONED"
    assert react_err.status == 403 and react_err.error_code == "E0000038"
    assert act_err is None and again.status.value == "PROVISIONED"  # a password-less reactivation
    assert twice_err.status == 403 and twice_err.error_code == "E0000016"
    events = [e["eventType"] for e in sb.okta.log_events()]
    assert events == ["user.lifecycle.deactivate", "user.lifecycle.reactivate"]
    actor = sb.okta.log_events()[0]["actor"]
    assert actor["id"] == OKTA.admin and actor["type"] == "User"  # SSWS acts as the token's admin


def test_sdk_retries_429_using_reset_and_date(okta_config, sb, clock, monkeypatch):
    waits: list[float] = []

    async def fake_pause(self, seconds):  # the SDK would sleep; move the sandbox clock instead
        waits.append(float(seconds))
        clock.advance(float(seconds))

    monkeypatch.setattr(RequestExecutor, "pause_for_backoff", fake_pause)
    sb.okta.set_rate_limit("user", 1)

    async def scenario():
        # the wait (61 s) must fit in requestTimeout, else the SDK gives up before retrying
        client = OktaClient(okta_config("ssws", requestTimeout=120))
        first, _, err1 = await client.get_user(OKTA.ada)
        second, _, err2 = await client.get_user(OKTA.grace)
        return first, second, err1, err2

    first, second, err1, err2 = run(scenario())
    assert (err1, err2) == (None, None) and first.id == OKTA.ada
    assert second.id == OKTA.grace
    assert len(waits) == 1 and 60 <= waits[0] <= 62  # X-Rate-Limit-Reset - Date + 1
    statuses = [c.status for c in sb.okta.calls.filter(route="/api/v1/users/{id}")]
    assert statuses == [200, 429, 200]


def test_sdk_gives_up_on_429_without_retries(okta_config, sb):
    sb.okta.set_rate_limit("users", 0)

    async def scenario():
        client = OktaClient(okta_config("ssws", rateLimit={"maxRetries": 0}))
        return await client.list_users()

    users, _, err = run(scenario())
    assert users is None
    assert err.status == 429 and err.error_code == "E0000047"


def test_dpop_mode(okta_config, sb, monkeypatch):
    import okta.dpop

    # the SDK's ephemeral DPoP key is RSA-3072 (seconds to generate); the server does not care
    monkeypatch.setattr(okta.dpop, "RSA_KEY_SIZE_BITS", 2048)

    async def scenario():
        client = OktaClient(okta_config("dpop"))
        user, _, err = await client.get_user(OKTA.ada)
        found, _, err2 = await client.list_users(search='profile.lastName sw "hop"')
        _, resp, err3 = await client.assign_user_to_group(OKTA.engineering, OKTA.priya)
        _, _, by_login_err = await client.get_user("ada.lovelace@acme.example")
        return user, found, resp, (err, err2, err3), by_login_err

    user, found, resp, errs, by_login_err = run(scenario())
    assert errs == (None, None, None)
    assert user.id == OKTA.ada
    assert [u.id for u in found] == [OKTA.grace]
    assert resp.status_code == 204
    # okta-sdk-python #541: the SDK signs the percent-encoded path, Okta checks the decoded one
    assert by_login_err.status == 400
    assert "'htu' claim" in by_login_err.headers["WWW-Authenticate"]
    token_statuses = [c.status for c in sb.okta.calls.filter(route="/oauth2/v1/token")]
    assert token_statuses == [400, 200]  # use_dpop_nonce challenge, then the DPoP token


def test_user_groups_and_suspend_unsuspend_for_deprovisioning(okta_config, sb):
    """What deprovisioning calls: a user's groups (is another mapped group still granting it?),
    the membership removal, suspend and unsuspend, each as the official SDK sends it."""

    async def scenario():
        client = OktaClient(okta_config())
        groups, _, err = await client.list_user_groups(OKTA.priya)
        _, _, unassign_err = await client.unassign_user_from_group(OKTA.partners, OKTA.priya)
        after, _, _ = await client.list_user_groups(OKTA.priya)
        suspend_err = (await client.suspend_user(OKTA.priya))[-1]  # the SDK returns a pair or a triple
        suspended, _, _ = await client.get_user(OKTA.priya)
        again_err = (await client.suspend_user(OKTA.priya))[-1]  # not active any more
        unsuspend_err = (await client.unsuspend_user(OKTA.priya))[-1]
        back, _, _ = await client.get_user(OKTA.priya)
        missing = await client.list_user_groups("00uDoesNotExist00000")
        return groups, err, unassign_err, after, suspend_err, suspended, again_err, unsuspend_err, back, missing[-1]

    groups, err, unassign_err, after, suspend_err, suspended, again_err, unsuspend_err, back, missing = run(scenario())
    assert err is None and OKTA.partners in [g.id for g in groups]
    assert unassign_err is None and OKTA.partners not in [g.id for g in after]
    assert suspend_err is None and suspended.status.value == "SUSPENDED"
    assert again_err.status == 400 and again_err.error_code == "E0000001"
    assert unsuspend_err is None and back.status.value == "ACTIVE"
    assert missing.status == 404
    events = [e["eventType"] for e in sb.okta.log_events()]
    assert events == ["group.user_membership.remove", "user.lifecycle.suspend", "user.lifecycle.unsuspend"]


def test_system_log_polling_with_the_sdk(okta_config, sb, clock):
    """list_log_events parses every lifecycle event (the SDK's LogEvent model), and a polling query
    (ascending, no until) links on even when it is caught up (issue 11: the System Log sweep)."""
    from okta_auth0_sync_sandbox.util import iso8601

    start = clock()
    sb.okta.deactivate_user(OKTA.ada)
    sb.okta.activate_user(OKTA.ada)
    sb.okta.lifecycle(OKTA.alan, "unsuspend")

    async def scenario():
        client = OktaClient(okta_config("private_key"))
        return await client.list_log_events(
            since=iso8601(start - 1), filter='eventType sw "user.lifecycle."', sort_order="ASCENDING", limit=10
        )

    events, response, error = run(scenario())
    assert error is None
    assert [(e.event_type, e.target[0].id, e.outcome.result) for e in events] == [
        ("user.lifecycle.deactivate", OKTA.ada, "SUCCESS"),
        ("user.lifecycle.reactivate", OKTA.ada, "SUCCESS"),
        ("user.lifecycle.unsuspend", OKTA.alan, "SUCCESS"),
    ]
    assert [e.uuid for e in events] == [e["uuid"] for e in sb.okta.log_events() if e["eventType"].startswith("user.")]
    assert 'rel="next"' in response.headers["Link"]
