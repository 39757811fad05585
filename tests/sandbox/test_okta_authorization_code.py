"""The sandbox Okta's authorization code flow for web apps, by hand (requests): /authorize with
PKCE and state, single-use codes, refresh-token rotation with a grace period, and family
revocation on reuse, on the sandbox's clock."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.sandbox.support import OKTA, DPoPKey, okta_assertion

REDIRECT = "http://127.0.0.1:8765/callback"
SCOPES = "okta.users.read okta.groups.read offline_access"


@pytest.fixture
def web_app(sb):
    app = sb.okta.register_web_app(
        name="okta-auth0-sync consent", scopes=["okta.users.read", "okta.groups.read"], redirect_uris=[REDIRECT]
    )
    return app, sb.okta.register_client_secret(app.client_id)


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(sb, client_id, *, challenge, state="st.1-a_b", redirect_uri=REDIRECT, scope=SCOPES, **extra):
    params = {
        "client_id": client_id,
        "response_type": "code",
        "scope": scope,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    params = {k: v for k, v in params.items() if v is not None}
    return requests.get(
        f"{sb.okta.base_url}/oauth2/v1/authorize?{urlencode(params)}", allow_redirects=False, timeout=10
    )


def callback(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token(sb, app, form, headers=None):
    client, secret = app
    return requests.post(
        f"{sb.okta.base_url}/oauth2/v1/token",
        data=form,
        auth=(client.client_id, secret),
        headers=headers or {},
        timeout=10,
    )


def consent(sb, app):
    """Signed in as the admin: authorize, then exchange the code. Returns the token response."""
    sb.okta.sign_in(OKTA.admin)
    verifier, challenge = pkce()
    code = callback(authorize(sb, app[0].client_id, challenge=challenge))["code"]
    resp = token(
        sb, app, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def refresh(sb, app, refresh_token):
    return token(sb, app, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def read_user(sb, body):
    return requests.get(
        f"{sb.okta.base_url}/api/v1/users/{OKTA.ada}",
        headers={"Authorization": f"{body['token_type']} {body['access_token']}"},
        timeout=10,
    )


def test_consent_issues_a_code_then_tokens_that_call_the_api(sb, web_app):
    body = consent(sb, web_app)
    assert set(body) == {"token_type", "expires_in", "access_token", "scope", "refresh_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == SCOPES
    assert read_user(sb, body).status_code == 200
    import jwt

    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["cid"] == web_app[0].client_id and claims["uid"] == OKTA.admin


def test_without_a_signed_in_admin_authorize_shows_the_sign_in_page(sb, web_app):
    _, challenge = pkce()
    resp = authorize(sb, web_app[0].client_id, challenge=challenge)
    assert resp.status_code == 200 and "okta-sign-in" in resp.text and "Location" not in resp.headers


def test_admin_endpoint_signs_in_and_a_refusal_is_an_error_redirect(sb, web_app):
    resp = requests.post(
        f"{sb.okta.base_url}/__sandbox/oauth/sign-in", json={"login": OKTA.admin, "decision": "deny"}, timeout=10
    )
    assert resp.status_code == 204
    _, challenge = pkce()
    params = callback(authorize(sb, web_app[0].client_id, challenge=challenge, state="s1"))
    assert params == {
        "error": "access_denied",
        "error_description": "The resource owner denied the request.",
        "state": "s1",
    }


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # PKCE required
        ({"code_challenge": "short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "okta.users.manage offline_access"}, "invalid_scope"),  # not granted to the app
    ],
)
def test_authorize_errors_redirect_with_state(sb, web_app, change, error):
    sb.okta.sign_in(OKTA.admin)
    _, challenge = pkce()
    args = {"challenge": challenge, **{k: v for k, v in change.items() if k == "scope"}}
    extra = {k: v for k, v in change.items() if k != "scope"}
    if "code_challenge" in extra:
        args["challenge"] = extra.pop("code_challenge")
    params = callback(authorize(sb, web_app[0].client_id, **args, **extra))
    assert params["error"] == error and params["state"] == "st.1-a_b" and "code" not in params


@pytest.mark.parametrize("case", ["unknown_client", "unregistered_redirect", "service_app"])
def test_unknown_client_or_redirect_is_an_error_page_never_a_redirect(sb, web_app, case):
    sb.okta.sign_in(OKTA.admin)
    _, challenge = pkce()
    client_id = {"unknown_client": "0oaNOPE", "service_app": OKTA.app}.get(case, web_app[0].client_id)
    redirect = "http://127.0.0.1:9999/callback" if case == "unregistered_redirect" else REDIRECT
    resp = authorize(sb, client_id, challenge=challenge, redirect_uri=redirect)
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_state_is_required(sb, web_app):
    sb.okta.sign_in(OKTA.admin)
    _, challenge = pkce()
    params = callback(authorize(sb, web_app[0].client_id, challenge=challenge, state=None))
    assert params["error"] == "invalid_request" and "state" not in params


def test_code_is_single_use_and_replay_revokes_its_tokens(sb, web_app):
    sb.okta.sign_in(OKTA.admin)
    verifier, challenge = pkce()
    code = callback(authorize(sb, web_app[0].client_id, challenge=challenge))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    first = token(sb, web_app, form)
    assert first.status_code == 200
    again = token(sb, web_app, form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # RFC 6749 4.1.2: what the code produced is revoked
    assert read_user(sb, first.json()).status_code == 401
    assert refresh(sb, web_app, first.json()["refresh_token"]).json()["error"] == "invalid_grant"


@pytest.mark.parametrize("case", ["wrong_verifier", "no_verifier", "wrong_redirect", "expired", "other_client"])
def test_code_exchange_checks_pkce_redirect_expiry_and_client(sb, web_app, clock, case):
    sb.okta.sign_in(OKTA.admin)
    verifier, challenge = pkce()
    code = callback(authorize(sb, web_app[0].client_id, challenge=challenge))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    app = web_app
    if case == "wrong_verifier":
        form["code_verifier"] = pkce()[0]
    elif case == "no_verifier":
        del form["code_verifier"]
    elif case == "wrong_redirect":
        form["redirect_uri"] = "http://127.0.0.1:8765/other"
    elif case == "expired":
        clock.advance(301)
    else:
        other = sb.okta.register_web_app(scopes=["okta.users.read"], redirect_uris=[REDIRECT])
        app = (other, sb.okta.register_client_secret(other.client_id))
    resp = token(sb, app, form)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_the_old_token_has_a_grace_period(sb, web_app, clock):
    first = consent(sb, web_app)["refresh_token"]
    second = refresh(sb, web_app, first).json()
    assert second["refresh_token"] != first and read_user(sb, second).status_code == 200
    clock.advance(29)  # within the 30 s leeway the old one still works (and rotates again)
    third = refresh(sb, web_app, first).json()
    assert third["refresh_token"] not in (first, second["refresh_token"])
    assert sb.okta.grants.valid_refresh_tokens(web_app[0].client_id) == 3  # two in grace, one current
    clock.advance(31)
    assert sb.okta.grants.valid_refresh_tokens(web_app[0].client_id) == 1
    fourth = refresh(sb, web_app, third["refresh_token"])
    assert fourth.status_code == 200


def test_reuse_after_the_grace_period_revokes_the_whole_family(sb, web_app, clock):
    first = consent(sb, web_app)
    second = refresh(sb, web_app, first["refresh_token"]).json()
    clock.advance(31)
    reuse = refresh(sb, web_app, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json() == {"error": "invalid_grant", "error_description": "The refresh token is invalid or expired."}
    # the newest refresh token and every access token of the family are dead too
    assert refresh(sb, web_app, second["refresh_token"]).json()["error"] == "invalid_grant"
    assert read_user(sb, second).status_code == 401 and read_user(sb, first).status_code == 401
    assert sb.okta.log_events("app.oauth2.token.detect_reuse")
    assert sb.okta.grants.valid_refresh_tokens(web_app[0].client_id) == 0


def test_static_rotation_keeps_the_token_and_the_family_expires_after_90_days(sb, web_app, clock):
    sb.okta.set_refresh_rotation(web_app[0].client_id, "STATIC")
    first = consent(sb, web_app)["refresh_token"]
    assert refresh(sb, web_app, first).json()["refresh_token"] == first
    clock.advance(90 * 86400)
    assert refresh(sb, web_app, first).json()["error"] == "invalid_grant"


def test_refresh_may_narrow_the_scope_only(sb, web_app):
    rt = consent(sb, web_app)["refresh_token"]
    narrow = token(sb, web_app, {"grant_type": "refresh_token", "refresh_token": rt, "scope": "okta.users.read"})
    assert narrow.status_code == 200 and narrow.json()["scope"] == "okta.users.read"
    rt = narrow.json()["refresh_token"]
    wide = token(sb, web_app, {"grant_type": "refresh_token", "refresh_token": rt, "scope": "okta.users.manage"})
    assert wide.status_code == 400 and wide.json()["error"] == "invalid_scope"


def test_client_authentication_is_required_and_grants_are_per_app(sb, web_app):
    rt = consent(sb, web_app)["refresh_token"]
    wrong = requests.post(
        f"{sb.okta.base_url}/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": rt},
        auth=(web_app[0].client_id, "wrong"),
        timeout=10,
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    cc = token(sb, web_app, {"grant_type": "client_credentials", "scope": "okta.users.read"})
    assert cc.status_code == 400 and cc.json()["error"] == "unauthorized_client"


def test_private_key_jwt_and_dpop_bound_refresh_tokens(sb, clock):
    app = sb.okta.register_web_app(
        scopes=["okta.users.read"], redirect_uris=[REDIRECT], auth="private_key_jwt", dpop_bound=True
    )
    key = sb.okta.register_app_key(app.client_id)
    url = f"{sb.okta.base_url}/oauth2/v1/token"
    dpop = DPoPKey()

    def post(form, proof_key=dpop):
        assertion = okta_assertion(key.private_key_pem, app.client_id, url, kid=key.kid, now=clock())
        data = {
            **form,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        first = requests.post(url, data=data, headers={"DPoP": proof_key.proof("POST", url, iat=clock())}, timeout=10)
        assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"  # consumes nothing
        data["client_assertion"] = okta_assertion(key.private_key_pem, app.client_id, url, kid=key.kid, now=clock())
        nonce = first.headers["DPoP-Nonce"]
        return requests.post(
            url, data=data, headers={"DPoP": proof_key.proof("POST", url, iat=clock(), nonce=nonce)}, timeout=10
        )

    sb.okta.sign_in(OKTA.admin)
    verifier, challenge = pkce()
    code = callback(authorize(sb, app.client_id, challenge=challenge, scope="okta.users.read offline_access"))["code"]
    body = post({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert body.status_code == 200 and body.json()["token_type"] == "DPoP"
    rt = body.json()["refresh_token"]
    stolen = post({"grant_type": "refresh_token", "refresh_token": rt}, proof_key=DPoPKey())
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_dpop_proof"
    again = post({"grant_type": "refresh_token", "refresh_token": rt})
    assert again.status_code == 200 and again.json()["token_type"] == "DPoP"
