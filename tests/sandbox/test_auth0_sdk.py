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
