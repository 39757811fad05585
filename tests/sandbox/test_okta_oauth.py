"""Okta authorization servers by hand (requests): client assertions, DPoP, custom AS."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote

import jwt
import pytest
import requests

from okta_auth0_sync_sandbox.jose import generate_private_key, jwk_thumbprint, private_key_pem
from tests.sandbox.support import JWT_BEARER, OKTA, DPoPKey, okta_assertion, token_form


@pytest.fixture
def token_url(sb):
    return f"{sb.okta.base_url}/oauth2/v1/token"


def post_token(url, assertion, scope="okta.users.read", headers=None):
    return requests.post(url, data=token_form(assertion, scope), headers=headers or {}, timeout=10)


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


# -- org AS: client assertions ----------------------------------------------------------------
def test_token_issued_with_private_key_jwt(sb, creds, token_url):
    key = creds.okta_key
    resp = post_token(
        token_url,
        okta_assertion(key.private_key_pem, OKTA.app, token_url, kid=key.kid),
        "okta.users.read okta.groups.manage",
    )
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"token_type", "expires_in", "access_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "okta.users.read okta.groups.manage"
    assert resp.headers["Cache-Control"] == "no-store"
    keys = requests.get(f"{sb.okta.base_url}/oauth2/v1/keys", timeout=10).json()["keys"]
    header = jwt.get_unverified_header(body["access_token"])
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    claims = jwt.decode(
        body["access_token"],
        jwt.PyJWK(jwk).key,
        algorithms=["RS256"],
        audience=sb.okta.base_url,
        issuer=sb.okta.base_url,
    )
    assert claims["cid"] == claims["sub"] == OKTA.app
    assert claims["scp"] == ["okta.users.read", "okta.groups.manage"]
    assert claims["exp"] - claims["iat"] == 3600 and claims["jti"]


def test_canonical_domain_audience_accepted(sb, creds, token_url):
    key = creds.okta_key
    aud = f"https://{sb.okta.domain}/oauth2/v1/token"
    assert post_token(token_url, okta_assertion(key.private_key_pem, OKTA.app, aud, kid=key.kid)).status_code == 200


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("bad_signature", "signature is invalid"),
        ("wrong_aud", "audience claim"),
        ("exp_too_far", "too far into the future"),
        ("expired", "is expired"),
        ("no_exp", "expiration"),
        ("iat_future", "issued at time in the future"),
        ("unknown_kid", "kid is invalid"),
        ("iss_not_sub", "must match the client_id"),
        ("unknown_client", "Invalid value for 'client_id'"),
    ],
)
def test_assertion_rejections(sb, creds, token_url, clock, case, fragment):
    key, now = creds.okta_key, clock()
    pem, kid, aud, client = key.private_key_pem, key.kid, token_url, OKTA.app
    claims: dict = {}
    if case == "bad_signature":
        pem = private_key_pem(generate_private_key())
    elif case == "wrong_aud":
        aud = f"{sb.okta.base_url}/oauth2/default/v1/token"
    elif case == "exp_too_far":
        claims["exp"] = int(now) + 3600 + 30
    elif case == "expired":
        claims["exp"] = int(now) - 5
    elif case == "no_exp":
        claims["exp"] = None
    elif case == "iat_future":
        claims["iat"] = int(now) + 600
    elif case == "unknown_kid":
        kid = "not-a-registered-kid"
    elif case == "iss_not_sub":
        claims["iss"] = OKTA.readonly_app
    elif case == "unknown_client":
        client = "0oaUnknownClient0000"
    resp = post_token(token_url, okta_assertion(pem, client, aud, kid=kid, now=now, **claims))
    assert resp.status_code == 401
    body = resp.json()
    assert body["error"] == "invalid_client"
    assert fragment in body["error_description"]


def test_replayed_jti_rejected(creds, token_url):
    key = creds.okta_key
    assertion = okta_assertion(key.private_key_pem, OKTA.app, token_url, kid=key.kid)
    assert post_token(token_url, assertion).status_code == 200
    replay = post_token(token_url, assertion)
    assert replay.status_code == 401
    assert replay.json() == {
        "error": "invalid_client",
        "error_description": "The client_assertion token has already been used.",
    }


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_symmetric_assertions_rejected(token_url, alg):
    now = int(time.time())
    claims = {"iss": OKTA.app, "sub": OKTA.app, "aud": token_url, "iat": now, "exp": now + 300, "jti": f"j-{alg}"}
    if alg == "none":
        assertion = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    else:
        assertion = jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    resp = post_token(token_url, assertion)
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_key_rotation_without_kid_tries_every_key(sb, creds, token_url):
    second = sb.okta.register_app_key(OKTA.app)  # two registered keys now
    for key in (creds.okta_key, second):
        assert post_token(token_url, okta_assertion(key.private_key_pem, OKTA.app, token_url)).status_code == 200
    sb.okta.remove_app_key(OKTA.app, second.kid)
    assert post_token(token_url, okta_assertion(second.private_key_pem, OKTA.app, token_url)).status_code == 401


def test_scopes_must_be_granted(creds, token_url):
    key = creds.okta_readonly_key
    resp = post_token(
        token_url,
        okta_assertion(key.private_key_pem, OKTA.readonly_app, token_url, kid=key.kid),
        "okta.users.read okta.users.manage",
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_scope"
    assert "okta.users.manage" in resp.json()["error_description"]
    no_scope = post_token(token_url, okta_assertion(key.private_key_pem, OKTA.readonly_app, token_url, kid=key.kid), "")
    assert no_scope.status_code == 400 and no_scope.json()["error"] == "invalid_scope"


def test_token_endpoint_is_form_only(creds, token_url):
    key = creds.okta_key
    form = token_form(okta_assertion(key.private_key_pem, OKTA.app, token_url, kid=key.kid), "okta.users.read")
    resp = requests.post(token_url, json=form, timeout=10)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
    other = requests.post(token_url, data={**form, "grant_type": "password"}, timeout=10)
    assert other.status_code == 400 and other.json()["error"] == "unsupported_grant_type"


def test_client_secret_not_allowed_for_service_apps(token_url):
    resp = requests.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        auth=(OKTA.app, "guess"),
        timeout=10,
    )
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_metadata_of_org_as(sb):
    meta = requests.get(f"{sb.okta.base_url}/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta["issuer"] == sb.okta.base_url
    assert meta["token_endpoint"] == f"{sb.okta.base_url}/oauth2/v1/token"
    assert meta["jwks_uri"] == f"{sb.okta.base_url}/oauth2/v1/keys"
    # service apps use private_key_jwt only; web apps (authorization code) may use a client secret
    methods = meta["token_endpoint_auth_methods_supported"]
    assert methods == ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    assert "ES256" in meta["dpop_signing_alg_values_supported"]


# -- DPoP -------------------------------------------------------------------------------------
def dpop_token(
    token_url, creds, dpop: DPoPKey, client=OKTA.dpop_app, key=None, scope="okta.users.read okta.groups.manage"
):
    """The full nonce dance; returns (token response, first response)."""
    key = key or creds.okta_dpop_key
    first = post_token(
        token_url,
        okta_assertion(key.private_key_pem, client, token_url, kid=key.kid),
        scope,
        {"DPoP": dpop.proof("POST", token_url)},
    )
    nonce = first.headers.get("DPoP-Nonce")
    second = post_token(
        token_url,
        okta_assertion(key.private_key_pem, client, token_url, kid=key.kid),
        scope,
        {"DPoP": dpop.proof("POST", token_url, nonce=nonce)},
    )
    return second, first


def test_dpop_required_for_bound_app(creds, token_url):
    key = creds.okta_dpop_key
    resp = post_token(token_url, okta_assertion(key.private_key_pem, OKTA.dpop_app, token_url, kid=key.kid))
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_dpop_proof", "error_description": "The DPoP proof JWT header is missing."}


def test_dpop_nonce_challenge_consumes_assertion(creds, token_url):
    key, dpop = creds.okta_dpop_key, DPoPKey()
    assertion = okta_assertion(key.private_key_pem, OKTA.dpop_app, token_url, kid=key.kid)
    first = post_token(token_url, assertion, headers={"DPoP": dpop.proof("POST", token_url)})
    assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    reused = post_token(token_url, assertion, headers={"DPoP": dpop.proof("POST", token_url, nonce=nonce)})
    assert reused.status_code == 401 and "already been used" in reused.json()["error_description"]
    bad_nonce = post_token(
        token_url,
        okta_assertion(key.private_key_pem, OKTA.dpop_app, token_url, kid=key.kid),
        headers={"DPoP": dpop.proof("POST", token_url, nonce="stale")},
    )
    assert bad_nonce.status_code == 400 and bad_nonce.json()["error"] == "use_dpop_nonce"


def test_dpop_token_and_resource_flow(sb, creds, token_url):
    dpop = DPoPKey()
    resp, first = dpop_token(token_url, creds, dpop)
    assert first.status_code == 400
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "DPoP"
    token = body["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["cnf"] == {"jkt": jwk_thumbprint(dpop.jwk)}
    url = f"{sb.okta.base_url}/api/v1/users/{OKTA.ada}"
    ok = requests.get(
        url, headers={"Authorization": f"DPoP {token}", "DPoP": dpop.proof("GET", url, token=token)}, timeout=10
    )
    assert ok.status_code == 200 and ok.json()["id"] == OKTA.ada
    # the query string is not part of htu
    listing = f"{sb.okta.base_url}/api/v1/users"
    resp = requests.get(
        listing,
        params={"search": 'profile.firstName eq "Ada"'},
        headers={"Authorization": f"DPoP {token}", "DPoP": dpop.proof("GET", listing, token=token)},
        timeout=10,
    )
    assert resp.status_code == 200 and len(resp.json()) == 1


@pytest.fixture
def bound(sb, creds, token_url):
    dpop = DPoPKey()
    resp, _ = dpop_token(token_url, creds, dpop)
    return dpop, resp.json()["access_token"]


def challenge(resp):
    return resp.headers.get("WWW-Authenticate", "")


def test_dpop_resource_errors(sb, bound, clock):
    dpop, token = bound
    url = f"{sb.okta.base_url}/api/v1/users/{OKTA.ada}"

    def get(target=url, **headers):
        return requests.get(target, headers=headers, timeout=10)

    as_bearer = get(Authorization=f"Bearer {token}")
    assert as_bearer.status_code == 400 and 'error="invalid_request"' in challenge(as_bearer)
    no_proof = get(Authorization=f"DPoP {token}")
    assert no_proof.status_code == 400 and challenge(no_proof).startswith("DPoP ")
    no_ath = get(Authorization=f"DPoP {token}", DPoP=dpop.proof("GET", url))
    assert 'error="dpop_proof_invalid_ath"' in challenge(no_ath)
    wrong_htm = get(Authorization=f"DPoP {token}", DPoP=dpop.proof("POST", url, token=token))
    assert "'htm' claim" in challenge(wrong_htm)
    encoded = f"{sb.okta.base_url}/api/v1/users/{quote('ada.lovelace@acme.example')}"
    htu_mismatch = get(encoded, Authorization=f"DPoP {token}", DPoP=dpop.proof("GET", encoded, token=token))
    assert htu_mismatch.status_code == 400 and "'htu' claim" in challenge(htu_mismatch)
    decoded_htu = f"{sb.okta.base_url}/api/v1/users/ada.lovelace@acme.example"
    fixed = get(encoded, Authorization=f"DPoP {token}", DPoP=dpop.proof("GET", decoded_htu, token=token))
    assert fixed.status_code == 200  # htu built from the decoded path works
    proof = dpop.proof("GET", url, token=token)
    assert get(Authorization=f"DPoP {token}", DPoP=proof).status_code == 200
    replay = get(Authorization=f"DPoP {token}", DPoP=proof)
    assert 'error="dpop_proof_already_used"' in challenge(replay)
    other_key = get(Authorization=f"DPoP {token}", DPoP=DPoPKey().proof("GET", url, token=token))
    assert 'error="invalid_access_token_dpop_binding"' in challenge(other_key)
    old = get(Authorization=f"DPoP {token}", DPoP=dpop.proof("GET", url, token=token, iat=clock() - 600))
    assert "'iat' claim" in challenge(old)
    private_jwk = get(
        Authorization=f"DPoP {token}", DPoP=dpop.proof("GET", url, token=token, jwk={**dpop.jwk, "d": "AAAA"})
    )
    assert "'jwk' header" in challenge(private_jwk)
    bad_typ = get(Authorization=f"DPoP {token}", DPoP=dpop.proof("GET", url, token=token, typ="JWT"))
    assert "'typ' header" in challenge(bad_typ)
    for resp in (no_ath, wrong_htm, replay, other_key, old, private_jwk, bad_typ):
        assert resp.status_code == 400
        assert 'algs="RS256 RS384 RS512 ES256 ES384 ES512"' in challenge(resp)


def test_bearer_token_sent_as_dpop_rejected(sb, okta_token):
    token = okta_token()
    url = f"{sb.okta.base_url}/api/v1/users/{OKTA.ada}"
    resp = requests.get(
        url, headers={"Authorization": f"DPoP {token}", "DPoP": DPoPKey().proof("GET", url, token=token)}, timeout=10
    )
    assert resp.status_code == 401 and 'error="invalid_token"' in challenge(resp)


# -- custom authorization server ---------------------------------------------------------------
@pytest.fixture
def as_base(sb):
    return f"{sb.okta.base_url}/oauth2/{OKTA.auth_server}"


def test_custom_as_metadata_and_keys(sb, as_base):
    meta = requests.get(f"{as_base}/.well-known/oauth-authorization-server", timeout=10).json()
    assert meta["issuer"] == as_base
    assert meta["token_endpoint"] == f"{as_base}/v1/token"
    assert set(meta["scopes_supported"]) == {"sync.provision", "sync.users", "sync.read", "sync.reconcile"}
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert len(keys) == 1 and keys[0]["kid"] and keys[0]["kty"] == "RSA" and "d" not in keys[0]
    assert keys == sb.okta.jwks(OKTA.auth_server)["keys"]
    assert keys != sb.okta.jwks()["keys"]  # its own key, not the org key


def test_custom_as_private_key_jwt_token(sb, creds, as_base):
    url, key = f"{as_base}/v1/token", creds.as_key
    resp = post_token(
        url, okta_assertion(key.private_key_pem, OKTA.as_provisioner, url, kid=key.kid), "sync.provision sync.users"
    )
    assert resp.status_code == 200, resp.text
    token = resp.json()["access_token"]
    jwks = jwt.PyJWKClient(f"{as_base}/v1/keys")
    claims = jwt.decode(
        token,
        jwks.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience="api://okta-auth0-sync",
        issuer=as_base,
    )
    assert claims["scp"] == ["sync.provision", "sync.users"]
    assert claims["cid"] == claims["sub"] == OKTA.as_provisioner
    # signing-key rotation: the new key signs, the old one stays published
    new_kid = sb.okta.rotate_signing_key(OKTA.auth_server)
    rotated = post_token(
        url, okta_assertion(key.private_key_pem, OKTA.as_provisioner, url, kid=key.kid), "sync.users"
    ).json()["access_token"]
    assert jwt.get_unverified_header(rotated)["kid"] == new_kid
    assert len(requests.get(f"{as_base}/v1/keys", timeout=10).json()["keys"]) == 2
    # custom-AS tokens are not accepted by the Okta management API
    mgmt = requests.get(f"{sb.okta.base_url}/api/v1/users", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert mgmt.status_code == 401 and mgmt.json()["errorCode"] == "E0000011"


def test_custom_as_client_secret(creds, as_base):
    url = f"{as_base}/v1/token"
    basic = requests.post(
        url,
        data={"grant_type": "client_credentials", "scope": "sync.read"},
        auth=(OKTA.as_reader, creds.as_reader_secret),
        timeout=10,
    )
    assert basic.status_code == 200 and basic.json()["token_type"] == "Bearer"
    post = requests.post(
        url,
        data={
            "grant_type": "client_credentials",
            "scope": "sync.read",
            "client_id": OKTA.as_reader,
            "client_secret": creds.as_reader_secret,
        },
        timeout=10,
    )
    assert post.status_code == 200
    wrong = requests.post(
        url, data={"grant_type": "client_credentials", "scope": "sync.read"}, auth=(OKTA.as_reader, "nope"), timeout=10
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    not_granted = requests.post(
        url,
        data={"grant_type": "client_credentials", "scope": "sync.provision"},
        auth=(OKTA.as_reader, creds.as_reader_secret),
        timeout=10,
    )
    assert not_granted.status_code == 400 and "sync.provision" in not_granted.json()["error_description"]
    unknown = requests.post(
        url,
        data={"grant_type": "client_credentials", "scope": "okta.users.read"},
        auth=(OKTA.as_reader, creds.as_reader_secret),
        timeout=10,
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_scope"


def test_custom_as_dpop(creds, as_base):
    url, key, dpop = f"{as_base}/v1/token", creds.as_dpop_key, DPoPKey()
    missing = post_token(url, okta_assertion(key.private_key_pem, OKTA.as_dpop, url, kid=key.kid), "sync.users")
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_dpop_proof"
    resp, first = dpop_token(url, creds, dpop, client=OKTA.as_dpop, key=key, scope="sync.users")
    assert first.json()["error"] == "use_dpop_nonce"
    assert resp.status_code == 200 and resp.json()["token_type"] == "DPoP"
    claims = jwt.decode(resp.json()["access_token"], options={"verify_signature": False})
    assert claims["cnf"]["jkt"] == jwk_thumbprint(dpop.jwk) and claims["aud"] == "api://okta-auth0-sync"
    # an unbound client may still ask for a DPoP-bound token by sending a proof
    key2, dpop2 = creds.as_key, DPoPKey()
    resp2, _ = dpop_token(url, creds, dpop2, client=OKTA.as_provisioner, key=key2, scope="sync.users")
    assert resp2.json()["token_type"] == "DPoP"


def test_assertion_type_must_be_jwt_bearer(creds, token_url):
    key = creds.okta_key
    form = token_form(okta_assertion(key.private_key_pem, OKTA.app, token_url, kid=key.kid), "okta.users.read")
    form["client_assertion_type"] = "urn:example:wrong"
    resp = requests.post(token_url, data=form, timeout=10)
    assert resp.status_code == 400 and JWT_BEARER in resp.json()["error_description"]
