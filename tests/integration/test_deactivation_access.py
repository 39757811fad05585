"""Access ends now: a deactivated person's live Auth0 sessions and refresh tokens are revoked after
the block, on every plan as far as the plan allows, and reactivation restores none of it.
Everything goes through the sandbox Okta's event hook and the real state machine."""

import json

import pytest
import requests

from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed.apigateway import LocalHttpApi
from okta_auth0_sync_testbed.deployment import LocalDeployment

from .conftest import EVENT_TYPES, HOOK_SECRET, connection_secrets, deliver

GRACE = "00uieg27N0mAaWp92N5J"  # grace.hopper+ops@acme.example
GRACE_DB = "auth0|c7d4c9e39de14f953e9cd582"
ADA = "00uZPx7YubxGT9rKLiKE"  # ada.lovelace@acme.example in Okta
ADA_ACCOUNTS = ("auth0|5df05339f1861a9587ec7a5a", "okta|okta-workforce|00uZPx7YubxGT9rKLiKE")
NO_SESSION_SCOPES = "dGYjumzbPYWdzmIi4JTKup2RmE8cbVK2"  # fixture M2M client: update scopes only
MACHINE = "DeactivationSyncStateMachine"


def refresh(sb, token):
    """What an app does with its refresh token: exchange it at /oauth/token."""
    return requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        timeout=10,
        data={"grant_type": "refresh_token", "client_id": "LztDVY9R212AykDbFmfI0uh5j3jHT1Bk", "refresh_token": token},
    )


def only_run(stack):
    (run,) = stack.wait_all(MACHINE).values()
    return run


def test_deactivation_revokes_live_sessions_and_refresh_tokens(sb, stack, hook):
    live = sb.auth0.login(GRACE_DB)
    rotating = sb.auth0.login(GRACE_DB, rotating=True)
    assert refresh(sb, live["refresh_token"]).status_code == 200  # the app keeps minting tokens
    sb.okta.deactivate_user(GRACE)
    deliver(sb)
    run = only_run(stack)
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["results"][0]["access"] == {"sessions": "revoked", "refresh_tokens": "revoked"}
    for login in (live, rotating):
        assert not sb.auth0.session_active(login["session_id"])
        assert not sb.auth0.refresh_token_active(login["refresh_token"])
    assert refresh(sb, live["refresh_token"]).json()["error"] == "invalid_grant"
    assert sb.auth0.get_user(GRACE_DB)["blocked"] is True
    # Order: the block is written before anything is revoked (no new token between the two).
    calls = [(c.method, c.route) for c in sb.auth0.calls.all() if c.route.startswith("/api/v2/users/{id}")]
    assert calls.index(("PATCH", "/api/v2/users/{id}")) < calls.index(("DELETE", "/api/v2/users/{id}/sessions"))

    sb.okta.activate_user(GRACE)  # reactivation: unblocked, but nothing revoked comes back
    deliver(sb)
    assert all(r.status == "SUCCEEDED" for r in stack.wait_all(MACHINE).values())
    assert sb.auth0.get_user(GRACE_DB)["blocked"] is False
    assert not sb.auth0.refresh_token_active(live["refresh_token"])
    assert refresh(sb, live["refresh_token"]).json()["error"] == "invalid_grant"
    assert sb.auth0.login(GRACE_DB)["session_id"]  # a fresh login works again


def test_other_plans_revoke_refresh_tokens_through_device_credentials(sb, stack, hook, capsys):
    sb.auth0.set_plan("professional")
    plain, rotating = sb.auth0.login(GRACE_DB), sb.auth0.login(GRACE_DB, rotating=True)
    sb.okta.deactivate_user(GRACE)
    deliver(sb)
    run = only_run(stack)
    assert run.status == "SUCCEEDED", run.cause  # a plan without the endpoints never fails the sync
    assert run.output["results"][0]["access"] == {"sessions": "unsupported_plan", "refresh_tokens": "revoked"}
    assert not sb.auth0.refresh_token_active(plain["refresh_token"])
    assert not sb.auth0.refresh_token_active(rotating["refresh_token"])  # the rotating type too
    assert counters.api_calls.total("auth0", route="/api/v2/device-credentials") == 2  # both types listed
    assert counters.api_calls.total("auth0", method="DELETE", route="/api/v2/device-credentials/{id}") == 2
    assert "SessionRevocationUnsupported" in capsys.readouterr().out  # the metric


def test_every_account_of_the_person_whatever_the_letter_case(sb, stack, hook):
    ada = [sb.auth0.login(account) for account in ADA_ACCOUNTS]
    sb.okta.deactivate_user(ADA)
    deliver(sb)
    run = only_run(stack)
    assert run.status == "SUCCEEDED", run.cause
    assert sorted(r["user_id"] for r in run.output["results"]) == sorted(ADA_ACCOUNTS)
    for account, login in zip(ADA_ACCOUNTS, ada, strict=True):
        user = sb.auth0.get_user(account)
        assert user["blocked"] is True and user["app_metadata"]["okta_sync"]["deactivated"] is True
        assert not sb.auth0.refresh_token_active(login["refresh_token"])


def test_a_missing_revocation_scope_fails_loudly_after_the_block(sb, stack, hook, credentials):
    limited = dict(
        credentials.auth0, client_id=NO_SESSION_SCOPES, client_secret=sb.auth0.register_client_secret(NO_SESSION_SCOPES)
    )
    stack.put_secret("Auth0ConnectionSecret", limited)
    stack.cold_start()
    login = sb.auth0.login(GRACE_DB)
    sb.okta.deactivate_user(GRACE)
    deliver(sb)
    run = only_run(stack)
    assert run.status == "FAILED" and run.error == "PermissionDenied"
    assert "delete:sessions" in run.cause_message  # names the scope to grant
    assert sb.auth0.get_user(GRACE_DB)["blocked"] is True  # the block went first
    assert sb.auth0.refresh_token_active(login["refresh_token"])  # what the alarm is about
    assert limited["client_secret"] not in json.dumps(run.history, default=str)


@pytest.mark.parametrize(
    ("parameters", "blocked", "revoked"),
    [
        ({"RevokeSessions": "false", "RevokeRefreshTokens": "false"}, True, False),
        ({"BlockDeactivatedUsers": "false"}, False, True),
    ],
)
def test_each_part_can_be_switched_off(sb, credentials, parameters, blocked, revoked):
    with (
        LocalDeployment(
            connection_secrets(credentials),
            parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain, **parameters},
        ) as stack,
        LocalHttpApi(stack) as api,
    ):
        sb.okta.register_event_hook(f"{api.url}/okta/event-hook", EVENT_TYPES, HOOK_SECRET)
        login = sb.auth0.login(GRACE_DB)
        counters.api_calls.reset()
        sb.okta.deactivate_user(GRACE)
        deliver(sb)
        assert only_run(stack).status == "SUCCEEDED"
    assert sb.auth0.get_user(GRACE_DB)["blocked"] is blocked
    assert sb.auth0.get_user(GRACE_DB)["app_metadata"]["okta_sync"]["deactivated"] is True
    assert sb.auth0.refresh_token_active(login["refresh_token"]) is not revoked
    assert (counters.api_calls.total("auth0", method="DELETE") > 0) is revoked
