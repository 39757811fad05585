"""The official auth0-python SDK (6.8) as a client of the Auth0 sandbox."""

from __future__ import annotations

import time
from types import SimpleNamespace

import jwt
import pytest
from auth0.authentication import GetToken
from auth0.authentication.exceptions import Auth0Error
from auth0.management.core import http_client as fern_http
from auth0.management.errors import BadRequestError, ForbiddenError, NotFoundError

from tests.sandbox.support import AUTH0


def host_of(sb):
    return sb.auth0.base_url.split("://", 1)[1]


def test_get_token_client_credentials_json(sb, creds):
    token = GetToken(host_of(sb), AUTH0.client, client_secret=creds.auth0_secret, protocol="http")
    resp = token.client_credentials(sb.auth0.management_audience)
    assert resp["token_type"] == "Bearer" and resp["expires_in"] == 86400
    assert set(resp["scope"].split()) == {
        "read:users",
        "update:users",
        "update:users_app_metadata",
        "read:roles",
        "read:role_members",
        "read:sessions",
        "delete:sessions",
        "read:refresh_tokens",
        "delete:refresh_tokens",
        "read:device_credentials",
        "delete:device_credentials",
    }
    claims = jwt.decode(
        resp["access_token"],
        jwt.PyJWK(sb.auth0.jwks()["keys"][0]).key,
        algorithms=["RS256"],
        audience=sb.auth0.management_audience,
        issuer=f"https://{sb.auth0.domain}/",
    )
    assert claims["gty"] == "client-credentials" and claims["azp"] == AUTH0.client
    assert claims["sub"] == f"{AUTH0.client}@clients"
    with pytest.raises(Auth0Error) as bad:
        GetToken(host_of(sb), AUTH0.client, client_secret="wrong", protocol="http").client_credentials(
            sb.auth0.management_audience
        )
    assert (
        bad.value.status_code == 401 and bad.value.error_code == "access_denied" and bad.value.message == "Unauthorized"
    )


def test_get_token_private_key_jwt(sb, creds):
    token = GetToken(
        host_of(sb), AUTH0.jwt_client, client_assertion_signing_key=creds.auth0_jwt_key.private_key_pem, protocol="http"
    )
    resp = token.client_credentials(sb.auth0.management_audience)
    assert "read:role_members" in resp["scope"].split()


def test_management_client_token_provider_and_users_by_email(sb, auth0_mgmt):
    mgmt = auth0_mgmt()
    plus = mgmt.users.list_users_by_email(email="grace.hopper+ops@acme.example")
    assert [u.user_id for u in plus] == [AUTH0.grace]
    assert mgmt.users.list_users_by_email(email="GRACE.HOPPER+ops@acme.example") == []  # case-sensitive
    db = mgmt.users.list_users_by_email(email="ada.lovelace@acme.example")
    enterprise = mgmt.users.list_users_by_email(email="Ada.Lovelace@Acme.example")  # IdP casing kept
    assert [u.user_id for u in db] == [AUTH0.ada] and [u.user_id for u in enterprise] == [AUTH0.ada_okta]
    assert enterprise[0].identities[0].connection == "okta-workforce"
    projected = mgmt.users.list_users_by_email(
        email="mia.wong@partner.example", fields="user_id,email", include_fields=True
    )
    assert projected[0].user_id == AUTH0.mia and projected[0].name is None
    # the token provider posted form data once, then the token was reused
    assert sb.auth0.calls.count(route="/oauth/token", status=200) == 1


def test_get_and_update_merge_semantics(sb, auth0_mgmt, clock):
    mgmt = auth0_mgmt()
    before = mgmt.users.get(AUTH0.priya)
    assert before.user_metadata == {"firstName": "Priya", "lastName": "Patel"}
    clock.advance(5)
    updated = mgmt.users.update(AUTH0.priya, app_metadata={"okta_sync": {"deactivated": True}}, blocked=True)
    assert updated.app_metadata == {"okta_sync": {"deactivated": True}}  # nested object replaced wholesale
    assert updated.blocked is True and updated.updated_at != before.updated_at
    removed = mgmt.users.update(AUTH0.priya, user_metadata={"lastName": None, "team": "north"})
    assert removed.user_metadata == {"firstName": "Priya", "team": "north"}
    wiped = mgmt.users.update(AUTH0.priya, user_metadata={})
    assert wiped.user_metadata == {}
    assert sb.auth0.get_user(AUTH0.priya)["blocked"] is True
    enterprise = mgmt.users.update(AUTH0.ada_okta, app_metadata={"okta_sync": {"deactivated": True}})  # id with '|'s
    assert enterprise.app_metadata["okta_sync"]["deactivated"] is True


def test_users_search_and_paging(sb, auth0_mgmt):
    mgmt = auth0_mgmt()
    found = [u.user_id for u in mgmt.users.list(q='email:"ADA.LOVELACE@acme.example"', search_engine="v3")]
    assert sorted(found) == sorted([AUTH0.ada, AUTH0.ada_okta])  # email is case-insensitive in search
    group = [u.user_id for u in mgmt.users.list(q=f'user_id:("{AUTH0.sam}" OR "{AUTH0.noah}")', search_engine="v3")]
    assert sorted(group) == sorted([AUTH0.sam, AUTH0.noah])
    sb.auth0.bulk_add_users(30, email_template="pager{n}@bulk.example")
    paged = [u.email for u in mgmt.users.list(q="email:*@bulk.example", per_page=7, search_engine="v3")]
    assert len(paged) == 30 and len(set(paged)) == 30


def test_search_pager_hits_the_1000_cap(sb, auth0_mgmt):
    sb.auth0.bulk_add_users(1005, email_template="cap{n}@bulk.example")
    mgmt = auth0_mgmt()
    seen = []
    with pytest.raises(BadRequestError) as exc:
        for user in mgmt.users.list(q="email:*@bulk.example", per_page=100, search_engine="v3"):
            seen.append(user.user_id)
    assert len(seen) == 1000
    assert exc.value.body["message"].startswith("You can only page through the first 1000 records")


def test_role_members_checkpoint_pager(sb, auth0_mgmt):
    extra = sb.auth0.bulk_add_users(7, role_id=AUTH0.partner_role)
    mgmt = auth0_mgmt()
    members = list(mgmt.roles.users.list(AUTH0.partner_role, take=5))
    assert len(members) == 13 and len({m.user_id for m in members}) == 13
    assert set(extra) <= {m.user_id for m in members}
    assert sb.auth0.calls.count(route="/api/v2/roles/{id}/users", status=200) == 3
    role = mgmt.roles.get(AUTH0.partner_role)
    assert role.name == "Partner"
    assert {r.name for r in mgmt.roles.list()} == {"Partner", "Tenant Admin"}


def test_errors_surface_as_sdk_exceptions(sb, auth0_mgmt, creds):
    mgmt = auth0_mgmt()
    with pytest.raises(NotFoundError) as missing:
        mgmt.users.get("auth0|000000000000000000000000")
    assert missing.value.body["errorCode"] == "inexistent_user"
    with pytest.raises(NotFoundError):
        list(mgmt.roles.users.list("rol_doesnotexist0000", take=5))
    readonly = auth0_mgmt(AUTH0.readonly_client, creds.auth0_readonly_secret)
    with pytest.raises(ForbiddenError) as forbidden:
        readonly.users.update(AUTH0.sam, blocked=True)
    assert forbidden.value.body == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: update:users",
        "errorCode": "insufficient_scope",
    }


def test_sdk_retries_429_using_integer_reset(sb, auth0_mgmt, clock, monkeypatch):
    waits: list[float] = []

    def fake_sleep(seconds):
        waits.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(fern_http, "time", SimpleNamespace(time=time.time, sleep=fake_sleep))
    mgmt = auth0_mgmt()
    mgmt.users.get(AUTH0.sam)  # fetch the token first (the token bucket is separate)
    sb.auth0.set_rate_limit("global", burst=1, rate=0.1)
    first = mgmt.users.list_users_by_email(email="mia.wong@partner.example")
    second = mgmt.users.list_users_by_email(email="mia.wong@partner.example")
    assert first == second and len(first) == 1
    assert len(waits) == 1 and 8 <= waits[0] <= 13  # from x-ratelimit-reset (~10 s), not the 1 s fallback
    statuses = [c.status for c in sb.auth0.calls.filter(route="/api/v2/users-by-email")]
    assert statuses == [200, 429, 200]


# -- sessions, refresh tokens, device credentials ---------------------------------------------------------
def test_sessions_and_refresh_tokens_through_the_sdk(sb, auth0_mgmt):
    mgmt = auth0_mgmt()
    logins = [sb.auth0.login(AUTH0.ada, rotating=bool(i % 2)) for i in range(3)]
    sessions = list(mgmt.users.sessions.list(AUTH0.ada, take=2))  # pager: follows "next"
    assert sorted(s.id for s in sessions) == sorted(x["session_id"] for x in logins)
    assert sessions[0].user_id == AUTH0.ada and sessions[0].clients[0].client_id == AUTH0.spa
    assert mgmt.sessions.get(logins[0]["session_id"]).device.last_ip == "203.0.113.10"
    tokens = list(mgmt.users.refresh_token.list(AUTH0.ada, take=1))
    assert sorted(t.id for t in tokens) == sorted(x["refresh_token_id"] for x in logins)
    token = mgmt.refresh_tokens.get(logins[1]["refresh_token_id"])
    assert token.rotating is True and token.session_id == logins[1]["session_id"] and token.client_id == AUTH0.spa
    revoked = mgmt.sessions.with_raw_response.revoke(logins[0]["session_id"])
    assert revoked.status_code == 202
    assert not sb.auth0.session_active(logins[0]["session_id"])
    assert not sb.auth0.refresh_token_active(logins[0]["refresh_token"])
    assert mgmt.sessions.delete(logins[1]["session_id"]) is None
    assert sb.auth0.refresh_token_active(logins[1]["refresh_token"])  # sessions != refresh tokens
    assert mgmt.refresh_tokens.with_raw_response.delete(logins[1]["refresh_token_id"]).status_code == 202
    mgmt.users.revoke_access(AUTH0.ada, session_id=logins[2]["session_id"], preserve_refresh_tokens=True)
    assert sb.auth0.user_sessions(AUTH0.ada) == [] and sb.auth0.refresh_token_active(logins[2]["refresh_token"])
    mgmt.users.revoke_access(AUTH0.ada)  # empty body: everything
    assert sb.auth0.user_refresh_tokens(AUTH0.ada) == []
    grace = sb.auth0.login(AUTH0.grace)
    assert mgmt.users.sessions.with_raw_response.delete(AUTH0.grace).status_code == 202
    assert mgmt.users.refresh_token.with_raw_response.delete(AUTH0.grace).status_code == 202
    assert not sb.auth0.session_active(grace["session_id"])
    assert not sb.auth0.refresh_token_active(grace["refresh_token"])
    with pytest.raises(NotFoundError) as missing:
        list(mgmt.users.sessions.list("auth0|000000000000000000000000"))
    assert missing.value.body["message"] == "User not found"


def test_device_credentials_through_the_sdk(sb, auth0_mgmt):
    mgmt = auth0_mgmt()
    plain = [sb.auth0.login(AUTH0.ada)["refresh_token_id"] for _ in range(5)]
    rotating = sb.auth0.login(AUTH0.ada, rotating=True)["refresh_token_id"]
    listed = list(mgmt.device_credentials.list(user_id=AUTH0.ada, type="refresh_token", per_page=2))
    assert sorted(c.id for c in listed) == sorted(plain) and {c.type for c in listed} == {"refresh_token"}
    [rot] = mgmt.device_credentials.list(user_id=AUTH0.ada, type="rotating_refresh_token", per_page=100)
    assert rot.id == rotating and rot.client_id == AUTH0.spa
    assert mgmt.device_credentials.with_raw_response.delete(rotating).status_code == 204
    mgmt.device_credentials.delete(plain[0])
    assert len(sb.auth0.user_refresh_tokens(AUTH0.ada)) == 4


def test_plan_gating_through_the_sdk(sb, auth0_mgmt, creds):
    mgmt = auth0_mgmt()
    login = sb.auth0.login(AUTH0.ada)
    sb.auth0.set_plan("professional")
    with pytest.raises(ForbiddenError) as gated:
        list(mgmt.users.sessions.list(AUTH0.ada))
    assert gated.value.body["errorCode"] == "feature_not_enabled"
    assert "Insufficient scope" not in gated.value.body["message"]
    with pytest.raises(ForbiddenError):
        mgmt.users.revoke_access(AUTH0.ada)
    [credential] = mgmt.device_credentials.list(user_id=AUTH0.ada, type="refresh_token")  # every plan
    assert credential.id == login["refresh_token_id"]
    limited = auth0_mgmt(AUTH0.limited_client, creds.auth0_limited_secret)
    with pytest.raises(ForbiddenError) as scope:
        limited.device_credentials.delete(credential.id)
    assert scope.value.body["errorCode"] == "insufficient_scope"
