"""Auth0 sessions, refresh tokens and device credentials by hand (requests): simulated logins,
the refresh-token grant, the Enterprise endpoints and their plan gating, the all-plan
device-credentials endpoints."""

from __future__ import annotations

from urllib.parse import quote

import jwt
import pytest
import requests

import okta_auth0_sync_sandbox as sandbox
from okta_auth0_sync_sandbox.auth0 import Auth0Tenant
from tests.sandbox.support import AUTH0, auth0_api

FEATURE_NOT_ENABLED = {
    "statusCode": 403,
    "error": "Forbidden",
    "message": "This feature is not enabled for this tenant.",
    "errorCode": "feature_not_enabled",
}
INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}


@pytest.fixture
def limited(sb, auth0_token, creds):
    """The M2M client with the update scopes but no session/refresh-token/device scopes."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {auth0_token(AUTH0.limited_client, creds.auth0_limited_secret)}"
    yield session
    session.close()


def user_api(sb, user_id, tail=""):
    return auth0_api(sb, "/users/" + quote(user_id, safe="") + tail)


def refresh(sb, value, client=AUTH0.spa, as_json=False, **extra):
    body = {"grant_type": "refresh_token", "client_id": client, "refresh_token": value, **extra}
    post = {"json": body} if as_json else {"data": body}
    return requests.post(f"{sb.auth0.base_url}/oauth/token", timeout=10, **post)


def enterprise_calls(sb, session_id, token_id):
    """Every Enterprise-only route: (method, url)."""
    return [
        ("GET", user_api(sb, AUTH0.ada, "/sessions")),
        ("DELETE", user_api(sb, AUTH0.ada, "/sessions")),
        ("GET", user_api(sb, AUTH0.ada, "/refresh-tokens")),
        ("DELETE", user_api(sb, AUTH0.ada, "/refresh-tokens")),
        ("POST", user_api(sb, AUTH0.ada, "/revoke-access")),
        ("GET", auth0_api(sb, f"/sessions/{session_id}")),
        ("DELETE", auth0_api(sb, f"/sessions/{session_id}")),
        ("POST", auth0_api(sb, f"/sessions/{session_id}/revoke")),
        ("GET", auth0_api(sb, f"/refresh-tokens/{token_id}")),
        ("DELETE", auth0_api(sb, f"/refresh-tokens/{token_id}")),
    ]


# -- simulated logins (Python API) ------------------------------------------------------------------
def test_login_python_api(sb, clock):
    auth0 = sb.auth0
    before = auth0.get_user(AUTH0.ada)["logins_count"]
    login = auth0.login(AUTH0.ada)
    assert set(login) == {"session_id", "refresh_token", "refresh_token_id"}
    assert login["refresh_token_id"].startswith("dcr_") and login["refresh_token"].startswith("v1.")
    assert auth0.session_active(login["session_id"]) and auth0.refresh_token_active(login["refresh_token"])
    assert auth0.get_user(AUTH0.ada)["logins_count"] == before + 1
    [session] = auth0.user_sessions(AUTH0.ada)
    assert session["id"] == login["session_id"] and session["clients"] == [{"client_id": AUTH0.spa}]
    assert session["authentication"]["methods"][0]["name"] == "pwd"
    [token] = auth0.user_refresh_tokens(AUTH0.ada)
    assert token["client_id"] == AUTH0.spa and token["session_id"] == login["session_id"] and not token["rotating"]
    online = auth0.login(AUTH0.ada_okta, client_id=AUTH0.client, offline_access=False)
    assert online["refresh_token"] is None and online["refresh_token_id"] is None
    assert auth0.user_sessions(AUTH0.ada_okta)[0]["authentication"]["methods"][0]["name"] == "federated"
    with pytest.raises(sandbox.SandboxApiError) as blocked:
        auth0.login(AUTH0.blocked)
    assert blocked.value.status == 401
    assert blocked.value.body == {"error": "unauthorized", "error_description": "user is blocked"}
    with pytest.raises(KeyError):
        auth0.login("auth0|nobody")
    with pytest.raises(KeyError):
        auth0.user_sessions("auth0|nobody")
    assert not auth0.session_active("nope") and not auth0.refresh_token_active("v1.nope")
    clock.advance(3 * 86400 + 1)  # session inactivity timeout (3 days); refresh tokens idle 15 days
    assert not auth0.session_active(login["session_id"]) and auth0.user_sessions(AUTH0.ada) == []
    assert auth0.refresh_token_active(login["refresh_token"])
    clock.advance(12 * 86400)
    assert not auth0.refresh_token_active(login["refresh_token"])
    assert refresh(sb, login["refresh_token"]).json() == INVALID_REFRESH
    sb.reset()
    assert auth0.user_refresh_tokens(AUTH0.ada) == [] and auth0.plan == "enterprise"


# -- POST /oauth/token grant_type=refresh_token -----------------------------------------------------
def test_refresh_token_grant(sb, creds):
    login = sb.auth0.login(AUTH0.ada)
    ok = refresh(sb, login["refresh_token"])
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    body = ok.json()
    assert set(body) == {"access_token", "id_token", "scope", "expires_in", "token_type"}  # no rotation
    key = jwt.PyJWK(sb.auth0.jwks()["keys"][0]).key
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience=f"https://{sb.auth0.domain}/userinfo")
    assert claims["sub"] == AUTH0.ada and claims["azp"] == AUTH0.spa and "offline_access" in claims["scope"]
    id_token = jwt.decode(body["id_token"], key, algorithms=["RS256"], audience=AUTH0.spa)
    assert id_token["sid"] == login["session_id"]
    assert refresh(sb, login["refresh_token"], as_json=True).status_code == 200  # JSON too, reusable
    [token] = sb.auth0.user_refresh_tokens(AUTH0.ada)
    assert "last_exchanged_at" in token
    # a user access token is not a Management API token
    me = requests.get(auth0_api(sb, "/users-by-email"), params={"email": "a@b.c"},
                      headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10)  # fmt: skip
    assert me.status_code == 401 and me.json()["message"].startswith("Bad audience")
    # errors
    assert refresh(sb, "v1.unknown").json() == INVALID_REFRESH
    assert refresh(sb, login["refresh_token"], client=AUTH0.client, client_secret=creds.auth0_secret).json() == (
        INVALID_REFRESH
    )  # another client's token
    missing = refresh(sb, "")
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    # a confidential client authenticates as for client credentials
    confidential = sb.auth0.login(AUTH0.grace, client_id=AUTH0.client)
    assert refresh(sb, confidential["refresh_token"], client=AUTH0.client).status_code == 401
    assert (
        refresh(sb, confidential["refresh_token"], client=AUTH0.client, client_secret=creds.auth0_secret).status_code
        == 200
    )
    # a public client cannot use client credentials
    cc = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": AUTH0.spa, "audience": sb.auth0.management_audience},
        timeout=10,
    )
    assert cc.status_code == 401


def test_refresh_refused_while_blocked(sb):
    login = sb.auth0.login(AUTH0.mia)
    sb.auth0.update_user(AUTH0.mia, {"blocked": True})
    blocked = refresh(sb, login["refresh_token"])
    assert blocked.status_code == 403
    assert blocked.json() == {"error": "invalid_grant", "error_description": "user is blocked"}
    # the block revokes nothing: the session and the token live on (sandbox choice, see docs)
    assert sb.auth0.session_active(login["session_id"]) and sb.auth0.refresh_token_active(login["refresh_token"])
    sb.auth0.update_user(AUTH0.mia, {"blocked": False})
    assert refresh(sb, login["refresh_token"]).status_code == 200


def test_rotating_refresh_tokens(sb):
    login = sb.auth0.login(AUTH0.ada, rotating=True)
    first = refresh(sb, login["refresh_token"]).json()
    rotated = first["refresh_token"]
    assert rotated != login["refresh_token"]
    assert not sb.auth0.refresh_token_active(login["refresh_token"]) and sb.auth0.refresh_token_active(rotated)
    second = refresh(sb, rotated).json()["refresh_token"]
    assert sb.auth0.refresh_token_active(second)
    # presenting a rotated-out value again is reuse: the whole token is revoked
    reuse = refresh(sb, rotated)
    assert reuse.status_code == 403 and reuse.json() == INVALID_REFRESH
    assert not sb.auth0.refresh_token_active(second) and sb.auth0.user_refresh_tokens(AUTH0.ada) == []


# -- Enterprise endpoints ---------------------------------------------------------------------------
def test_sessions_and_refresh_tokens_read(sb, mgmt):
    logins = [sb.auth0.login(AUTH0.ada, rotating=bool(i % 2)) for i in range(3)]
    sb.auth0.login(AUTH0.grace)
    listing = mgmt.get(user_api(sb, AUTH0.ada, "/sessions"), timeout=10)
    assert listing.status_code == 200 and set(listing.json()) == {"sessions"}  # one page: no "next"
    sessions = listing.json()["sessions"]
    assert sorted(s["id"] for s in sessions) == sorted(x["session_id"] for x in logins)
    assert set(sessions[0]) >= {"id", "user_id", "created_at", "updated_at", "authenticated_at", "idle_expires_at",
                                "expires_at", "last_interacted_at", "device", "clients", "authentication"}  # fmt: skip
    one = mgmt.get(auth0_api(sb, f"/sessions/{logins[0]['session_id']}"), timeout=10)
    assert one.status_code == 200 and one.json()["user_id"] == AUTH0.ada
    tokens = mgmt.get(user_api(sb, AUTH0.ada, "/refresh-tokens"), params={"include_totals": "true"}, timeout=10)
    assert set(tokens.json()) == {"tokens"} and len(tokens.json()["tokens"]) == 3
    token = mgmt.get(auth0_api(sb, f"/refresh-tokens/{logins[1]['refresh_token_id']}"), timeout=10).json()
    assert set(token) >= {"id", "user_id", "client_id", "session_id", "rotating", "resource_servers", "created_at",
                          "idle_expires_at", "expires_at", "device"}  # fmt: skip
    assert token["rotating"] is True and token["session_id"] == logins[1]["session_id"]
    assert token["resource_servers"] == [
        {"audience": f"https://{sb.auth0.domain}/userinfo", "scopes": "openid profile email offline_access"}
    ]
    # checkpoint paging
    first = mgmt.get(user_api(sb, AUTH0.ada, "/sessions"), params={"take": 2}, timeout=10).json()
    assert len(first["sessions"]) == 2 and first["next"]
    last = mgmt.get(user_api(sb, AUTH0.ada, "/sessions"), params={"take": 2, "from": first["next"]}, timeout=10)
    assert "next" not in last.json() and len(last.json()["sessions"]) == 1
    assert {s["id"] for s in first["sessions"] + last.json()["sessions"]} == {x["session_id"] for x in logins}
    paged = mgmt.get(user_api(sb, AUTH0.ada, "/refresh-tokens"), params={"take": 1}, timeout=10).json()
    assert len(paged["tokens"]) == 1 and paged["next"]
    for params in ({"take": 0}, {"take": 101}, {"from": "garbage!"}, {"include_totals": "maybe"}):
        bad = mgmt.get(user_api(sb, AUTH0.ada, "/sessions"), params=params, timeout=10)
        assert bad.status_code == 400 and bad.json()["errorCode"] == "invalid_query_string", params
    # 404s
    user_missing = {
        "statusCode": 404,
        "error": "Not Found",
        "message": "User not found",
        "errorCode": "inexistent_user",
    }
    for path in ("/sessions", "/refresh-tokens"):
        for method in ("GET", "DELETE"):
            resp = mgmt.request(method, user_api(sb, "auth0|nobody", path), timeout=10)
            assert resp.status_code == 404 and resp.json() == user_missing
    assert mgmt.get(auth0_api(sb, "/sessions/nope"), timeout=10).json()["message"] == "Session not found"
    assert mgmt.post(auth0_api(sb, "/sessions/nope/revoke"), timeout=10).status_code == 404
    assert (
        mgmt.get(auth0_api(sb, "/refresh-tokens/dcr_nope"), timeout=10).json()["message"] == "Refresh token not found"
    )


def test_session_and_token_deletion(sb, mgmt):
    a, b = sb.auth0.login(AUTH0.ada), sb.auth0.login(AUTH0.ada)
    # deleting a session leaves its refresh token working (sessions != refresh tokens)
    gone = mgmt.delete(auth0_api(sb, f"/sessions/{a['session_id']}"), timeout=10)
    assert gone.status_code == 202 and gone.content == b""
    assert not sb.auth0.session_active(a["session_id"]) and refresh(sb, a["refresh_token"]).status_code == 200
    assert mgmt.delete(auth0_api(sb, "/sessions/unknown"), timeout=10).status_code == 202  # no 404 for DELETE
    # revoke: the session and its refresh tokens
    assert mgmt.post(auth0_api(sb, f"/sessions/{b['session_id']}/revoke"), timeout=10).status_code == 202
    assert not sb.auth0.session_active(b["session_id"]) and refresh(sb, b["refresh_token"]).json() == INVALID_REFRESH
    assert refresh(sb, a["refresh_token"]).status_code == 200  # another session's token
    # one refresh token by id
    assert mgmt.delete(auth0_api(sb, f"/refresh-tokens/{a['refresh_token_id']}"), timeout=10).status_code == 202
    assert refresh(sb, a["refresh_token"]).json() == INVALID_REFRESH
    assert mgmt.delete(auth0_api(sb, "/refresh-tokens/dcr_unknown"), timeout=10).status_code == 202
    # everything of a user
    c, d = sb.auth0.login(AUTH0.grace), sb.auth0.login(AUTH0.grace, rotating=True)
    assert mgmt.delete(user_api(sb, AUTH0.grace, "/sessions"), timeout=10).status_code == 202
    assert sb.auth0.user_sessions(AUTH0.grace) == [] and len(sb.auth0.user_refresh_tokens(AUTH0.grace)) == 2
    assert mgmt.delete(user_api(sb, AUTH0.grace, "/refresh-tokens"), timeout=10).status_code == 202
    assert sb.auth0.user_refresh_tokens(AUTH0.grace) == []
    assert not any(sb.auth0.refresh_token_active(x["refresh_token"]) for x in (c, d))


def test_revoke_access(sb, mgmt):
    target = user_api(sb, AUTH0.ada, "/revoke-access")
    a, b = sb.auth0.login(AUTH0.ada), sb.auth0.login(AUTH0.ada, rotating=True)
    other = sb.auth0.login(AUTH0.grace)
    # one session and its refresh tokens
    assert mgmt.post(target, json={"session_id": a["session_id"]}, timeout=10).status_code == 202
    assert not sb.auth0.session_active(a["session_id"]) and not sb.auth0.refresh_token_active(a["refresh_token"])
    assert sb.auth0.session_active(b["session_id"]) and sb.auth0.refresh_token_active(b["refresh_token"])
    # every session, refresh tokens kept
    kept = mgmt.post(target, data={"preserve_refresh_tokens": "true"}, timeout=10)  # form body
    assert kept.status_code == 202
    assert sb.auth0.user_sessions(AUTH0.ada) == [] and sb.auth0.refresh_token_active(b["refresh_token"])
    # an empty body: every session and every refresh token
    c = sb.auth0.login(AUTH0.ada)
    assert mgmt.post(target, timeout=10).status_code == 202
    assert sb.auth0.user_sessions(AUTH0.ada) == [] and sb.auth0.user_refresh_tokens(AUTH0.ada) == []
    assert not sb.auth0.refresh_token_active(c["refresh_token"])
    assert sb.auth0.session_active(other["session_id"]) and sb.auth0.refresh_token_active(other["refresh_token"])
    # the SDK's shape ({"session_id": null, ...}) and an unknown user are accepted
    nulls = {"session_id": None, "preserve_refresh_tokens": None}
    assert mgmt.post(target, json=nulls, timeout=10).status_code == 202
    assert mgmt.post(user_api(sb, "auth0|nobody", "/revoke-access"), json={}, timeout=10).status_code == 202
    for bad in ({"session_id": "x" * 51}, {"session_id": 5}, {"preserve_refresh_tokens": "yes"}, {"everything": 1}):
        resp = mgmt.post(target, json=bad, timeout=10)
        assert resp.status_code == 400 and resp.json()["errorCode"] == "invalid_body", bad
    assert mgmt.post(target, data={"preserve_refresh_tokens": "maybe"}, timeout=10).status_code == 400
    assert mgmt.post(target, json=["not", "an", "object"], timeout=10).status_code == 400


def test_scopes(sb, limited, mgmt):
    login = sb.auth0.login(AUTH0.ada)
    expected = {
        ("GET", user_api(sb, AUTH0.ada, "/sessions")): "expected any of: read:sessions",
        ("DELETE", user_api(sb, AUTH0.ada, "/sessions")): "expected any of: delete:sessions",
        ("GET", user_api(sb, AUTH0.ada, "/refresh-tokens")): "expected any of: read:refresh_tokens",
        ("DELETE", user_api(sb, AUTH0.ada, "/refresh-tokens")): "expected any of: delete:refresh_tokens",
        ("POST", user_api(sb, AUTH0.ada, "/revoke-access")): "expected all of: delete:sessions,delete:refresh_tokens",
        ("POST", auth0_api(sb, f"/sessions/{login['session_id']}/revoke")): (
            "expected all of: delete:sessions,delete:refresh_tokens"
        ),
        ("GET", auth0_api(sb, f"/refresh-tokens/{login['refresh_token_id']}")): "expected any of: read:refresh_tokens",
        ("GET", auth0_api(sb, "/device-credentials")): "expected any of: read:device_credentials",
        ("DELETE", auth0_api(sb, f"/device-credentials/{login['refresh_token_id']}")): (
            "expected any of: delete:device_credentials,update:current_user,delete:current_user_device_credentials"
        ),
    }
    for (method, url), wanted in expected.items():
        resp = limited.request(method, url, timeout=10)
        assert resp.status_code == 403, (method, url)
        assert resp.json() == {
            "statusCode": 403,
            "error": "Forbidden",
            "message": f"Insufficient scope, {wanted}",
            "errorCode": "insufficient_scope",
        }
    assert limited.get(user_api(sb, AUTH0.ada), timeout=10).status_code == 200  # its other scopes work
    assert sb.auth0.session_active(login["session_id"]) and sb.auth0.refresh_token_active(login["refresh_token"])
    # 401 before anything else
    assert requests.get(user_api(sb, AUTH0.ada, "/sessions"), timeout=10).status_code == 401
    assert requests.get(auth0_api(sb, "/device-credentials"), timeout=10).status_code == 401


# -- plan gating ------------------------------------------------------------------------------------
@pytest.mark.parametrize("plan", ["professional", "essentials", "free"])
def test_enterprise_endpoints_gated_by_plan(sb, mgmt, limited, plan):
    login = sb.auth0.login(AUTH0.ada)
    sb.auth0.set_plan(plan)
    for method, url in enterprise_calls(sb, login["session_id"], login["refresh_token_id"]):
        resp = mgmt.request(method, url, timeout=10)
        assert (resp.status_code, resp.json()) == (403, FEATURE_NOT_ENABLED), (method, url)
    # the scope check comes first
    assert limited.get(user_api(sb, AUTH0.ada, "/sessions"), timeout=10).json()["errorCode"] == "insufficient_scope"
    assert sb.auth0.session_active(login["session_id"])  # nothing was revoked
    # device credentials work on every plan
    listed = mgmt.get(auth0_api(sb, "/device-credentials"), params={"user_id": AUTH0.ada}, timeout=10)
    assert [c["id"] for c in listed.json()] == [login["refresh_token_id"]]
    assert mgmt.delete(auth0_api(sb, f"/device-credentials/{login['refresh_token_id']}"), timeout=10).status_code == 204
    assert refresh(sb, login["refresh_token"]).json() == INVALID_REFRESH
    sb.reset()
    assert sb.auth0.plan == "enterprise"


def test_plan_from_fixture_and_validation(sb):
    tenant = Auth0Tenant({"plan": "professional"}, domain="plan.auth0.test")
    try:
        assert tenant.plan == "professional" and tenant.snapshot()["plan"] == "professional"
        tenant.set_plan("free")
        tenant.reset()
        assert tenant.plan == "professional"
        with pytest.raises(ValueError, match="unknown Auth0 plan"):
            tenant.set_plan("platinum")
    finally:
        tenant.stop()
    assert sb.auth0.plan == "enterprise"


# -- device credentials (every plan) ----------------------------------------------------------------
def test_device_credentials(sb, mgmt):
    plain = [sb.auth0.login(AUTH0.ada) for _ in range(3)]
    rotating = sb.auth0.login(AUTH0.ada, rotating=True)
    other = sb.auth0.login(AUTH0.grace, client_id=AUTH0.client)
    target = auth0_api(sb, "/device-credentials")

    def ids(**params):
        resp = mgmt.get(target, params=params, timeout=10)
        assert resp.status_code == 200, resp.text
        return sorted(c["id"] for c in resp.json())

    assert ids(user_id=AUTH0.ada) == sorted(x["refresh_token_id"] for x in plain)  # type defaults to refresh_token
    assert ids(user_id=AUTH0.ada, type="rotating_refresh_token") == [rotating["refresh_token_id"]]
    assert ids(user_id=AUTH0.ada, type="public_key") == []
    assert ids(client_id=AUTH0.client) == [other["refresh_token_id"]]
    assert ids(user_id="auth0|nobody") == []
    item = mgmt.get(target, params={"user_id": AUTH0.ada, "type": "rotating_refresh_token"}, timeout=10).json()[0]
    assert item == {
        "id": rotating["refresh_token_id"],
        "device_name": "SandboxBrowser",
        "device_id": "",
        "type": "rotating_refresh_token",
        "user_id": AUTH0.ada,
        "client_id": AUTH0.spa,
    }
    projected = mgmt.get(target, params={"user_id": AUTH0.ada, "fields": "id", "include_fields": "true"}, timeout=10)
    assert all(set(c) == {"id"} for c in projected.json())
    env = mgmt.get(
        target, params={"user_id": AUTH0.ada, "per_page": 2, "page": 1, "include_totals": "true"}, timeout=10
    )
    assert env.json()["start"] == 2 and env.json()["limit"] == 2 and env.json()["total"] == 3
    assert len(env.json()["device_credentials"]) == 1
    for params in (
        {"type": "password"},
        {"per_page": 0},
        {"per_page": 101},
        {"page": -1},
        {"per_page": 100, "page": 10},
    ):
        bad = mgmt.get(target, params=params, timeout=10)
        assert bad.status_code == 400, params
    assert (
        mgmt.get(target, params={"per_page": 100, "page": 10}, timeout=10)
        .json()["message"]
        .startswith("You can only page through the first 1000 records")
    )
    # one object behind both families: deleting through either revokes it everywhere
    deleted = mgmt.delete(f"{target}/{plain[0]['refresh_token_id']}", timeout=10)
    assert deleted.status_code == 204 and deleted.content == b""
    assert refresh(sb, plain[0]["refresh_token"]).json() == INVALID_REFRESH
    assert mgmt.get(auth0_api(sb, f"/refresh-tokens/{plain[0]['refresh_token_id']}"), timeout=10).status_code == 404
    assert mgmt.delete(auth0_api(sb, f"/refresh-tokens/{plain[1]['refresh_token_id']}"), timeout=10).status_code == 202
    assert ids(user_id=AUTH0.ada) == [plain[2]["refresh_token_id"]]
    assert mgmt.delete(f"{target}/dcr_unknown", timeout=10).status_code == 204
    assert sb.auth0.session_active(plain[0]["session_id"])  # the session is not a device credential


def test_device_credentials_write_bucket(sb, mgmt):
    logins = [sb.auth0.login(AUTH0.ada) for _ in range(3)]
    sb.auth0.set_rate_limit("device_credentials_write", burst=1, rate=0.01)
    sb.auth0.set_rate_limit("users_write", burst=1, rate=0.01)

    def delete(login):
        return mgmt.delete(auth0_api(sb, f"/device-credentials/{login['refresh_token_id']}"), timeout=10)

    assert delete(logins[0]).status_code == 204 and delete(logins[1]).status_code == 204  # Enterprise: global only
    sb.auth0.set_plan("professional")
    limited = delete(logins[2])
    assert limited.status_code == 204 and limited.headers["x-ratelimit-limit"] == "1"
    throttled = delete(logins[2])
    assert throttled.status_code == 429 and throttled.json()["errorCode"] == "too_many_requests"
    assert mgmt.get(auth0_api(sb, "/device-credentials"), timeout=10).status_code == 200  # reads use the global bucket
    sb.auth0.set_plan("enterprise")
    for _ in range(2):  # the session family counts only against the global bucket, not users_write
        assert mgmt.delete(user_api(sb, AUTH0.ada, "/sessions"), timeout=10).status_code == 202
    assert "device_credentials_write" in sb.auth0.rate_limit_buckets()
