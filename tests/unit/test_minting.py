"""Token minting requests, as sent on the wire (recorded with `responses`)."""

import json
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from okta_auth0_sync.base.errors import AuthenticationFailed
from okta_auth0_sync.clients.auth0 import auth0_error
from okta_auth0_sync.clients.http import HttpClient
from okta_auth0_sync.clients.okta import okta_error
from okta_auth0_sync.clients.tokens.auth0 import Auth0ClientCredentials
from okta_auth0_sync.clients.tokens.okta import OktaServiceApp
from okta_auth0_sync.settings import Auth0Connection, OktaConnection

OKTA = "https://acme.okta.com"


def pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def okta_app(keys, dpop=False):
    conn = OktaConnection.from_secret(
        {
            "domain": "acme.okta.com",
            "client_id": "0oaApp",
            "keys": keys,
            "scopes": ["okta.users.read", "okta.groups.manage"],
            "dpop": dpop,
        }
    )
    return OktaServiceApp(conn, HttpClient(OKTA, "okta", error_mapper=okta_error, sleep=lambda s: None))


def form(call):
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@responses.activate
def test_auth0_client_credentials_request():
    responses.add(
        "POST",
        "https://acme.auth0.com/oauth/token",
        json={"access_token": "at", "expires_in": 86400, "token_type": "Bearer", "scope": "read:users"},
    )
    conn = Auth0Connection.from_secret({"domain": "acme.auth0.com", "client_id": "cid", "client_secret": "cs"})
    token = Auth0ClientCredentials(conn, HttpClient(conn.base_url, "auth0", error_mapper=auth0_error)).mint()
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {
        "grant_type": "client_credentials",
        "client_id": "cid",
        "client_secret": "cs",
        "audience": "https://acme.auth0.com/api/v2/",
    }
    assert responses.calls[0].request.headers["Content-Type"] == "application/json"
    assert token.expires_at - token.minted_at == 86400 and token.scope == "read:users"


@responses.activate
def test_okta_private_key_jwt_request(rsa_key):
    responses.add(
        "POST",
        f"{OKTA}/oauth2/v1/token",
        json={"token_type": "Bearer", "expires_in": 3600, "access_token": "at", "scope": "okta.users.read"},
    )
    token = okta_app([{"private_key": pem(rsa_key), "key_id": "k1"}]).mint()
    sent = form(responses.calls[0])
    assert sent["grant_type"] == "client_credentials"
    assert sent["scope"] == "okta.users.read okta.groups.manage"
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    claims = jwt.decode(
        sent["client_assertion"], rsa_key.public_key(), algorithms=["RS256"], audience=f"{OKTA}/oauth2/v1/token"
    )
    assert claims["iss"] == claims["sub"] == "0oaApp"
    assert jwt.get_unverified_header(sent["client_assertion"])["kid"] == "k1"
    assert "DPoP" not in responses.calls[0].request.headers
    assert token.token_type == "Bearer" and not token.is_dpop


@responses.activate
def test_okta_rotation_falls_back_to_the_old_key_until_the_new_one_is_accepted(rsa_key):
    new = ec.generate_private_key(ec.SECP256R1())
    responses.add(
        "POST",
        f"{OKTA}/oauth2/v1/token",
        status=401,
        json={"error": "invalid_client", "error_description": "The client_assertion signature is invalid."},
    )
    responses.add(
        "POST", f"{OKTA}/oauth2/v1/token", json={"token_type": "Bearer", "expires_in": 3600, "access_token": "at"}
    )
    responses.add(
        "POST", f"{OKTA}/oauth2/v1/token", json={"token_type": "Bearer", "expires_in": 3600, "access_token": "at2"}
    )
    app = okta_app([{"private_key": pem(new), "key_id": "new"}, {"private_key": pem(rsa_key), "key_id": "old"}])
    assert app.mint().value == "at"
    kids = [jwt.get_unverified_header(form(c)["client_assertion"])["kid"] for c in responses.calls]
    assert kids == ["new", "old"]
    assert jwt.get_unverified_header(form(responses.calls[0])["client_assertion"])["alg"] == "ES256"
    # Until the retry window passes, the old (working) key goes first: no extra failed call.
    app.mint()
    assert jwt.get_unverified_header(form(responses.calls[2])["client_assertion"])["kid"] == "old"


@responses.activate
def test_okta_all_keys_refused_raises_the_actionable_error(rsa_key):
    responses.add(
        "POST",
        f"{OKTA}/oauth2/v1/token",
        status=401,
        json={"error": "invalid_client", "error_description": "The client_assertion signature is invalid."},
    )
    with pytest.raises(AuthenticationFailed, match="kid k1"):
        okta_app([{"private_key": pem(rsa_key), "key_id": "k1"}]).mint()


@responses.activate
def test_okta_dpop_nonce_round_trip_uses_a_fresh_assertion_and_proof(rsa_key):
    responses.add(
        "POST",
        f"{OKTA}/oauth2/v1/token",
        status=400,
        headers={"DPoP-Nonce": "nonce-1"},
        json={"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce."},
    )
    responses.add(
        "POST", f"{OKTA}/oauth2/v1/token", json={"token_type": "DPoP", "expires_in": 3600, "access_token": "dpop-at"}
    )
    token = okta_app([{"private_key": pem(rsa_key), "key_id": "k1"}], dpop=True).mint()
    first, second = responses.calls
    a1, a2 = (jwt.decode(form(c)["client_assertion"], options={"verify_signature": False}) for c in (first, second))
    assert a1["jti"] != a2["jti"]  # Okta consumed the first assertion
    p1, p2 = (jwt.decode(c.request.headers["DPoP"], options={"verify_signature": False}) for c in (first, second))
    assert "nonce" not in p1 and p2["nonce"] == "nonce-1"
    assert p1["htm"] == "POST" and p1["htu"] == f"{OKTA}/oauth2/v1/token" and p1["jti"] != p2["jti"]
    assert jwt.get_unverified_header(second.request.headers["DPoP"])["typ"] == "dpop+jwt"
    assert token.is_dpop and token.dpop_jwk and "d" in token.dpop_jwk


@responses.activate
def test_resource_call_with_a_dpop_token_answers_a_nonce_challenge_once():
    from okta_auth0_sync.clients.tokens.auth import AccessTokenAuth
    from okta_auth0_sync.clients.tokens.cache import TokenCache, TokenSource
    from okta_auth0_sync.clients.tokens.models import AccessToken
    from okta_auth0_sync.jose.dpop import DpopKey

    key = DpopKey.generate()

    class Minter:
        cache_key = "okta#acme.okta.com#0oa"

        def secret_material(self):
            return b"x"

        def mint(self):
            return AccessToken(
                value="dpop-token", token_type="DPoP", expires_at=4e9, minted_at=1.0, dpop_jwk=key.to_jwk()
            )

    url = f"{OKTA}/api/v1/users/00u1"
    responses.add(
        "GET", url, status=401, headers={"DPoP-Nonce": "n-42", "WWW-Authenticate": 'DPoP error="use_dpop_nonce"'}
    )
    responses.add("GET", url, json={"id": "00u1", "profile": {}})
    http = HttpClient(
        OKTA, "okta", error_mapper=okta_error, auth=AccessTokenAuth(TokenSource(Minter(), TokenCache(None)))
    )
    http.request("GET", "/api/v1/users/{id}", path_params={"id": "00u1"})
    first, second = (
        jwt.decode(c.request.headers["DPoP"], options={"verify_signature": False}) for c in responses.calls
    )
    assert "nonce" not in first and second["nonce"] == "n-42"
    assert responses.calls[1].request.headers["Authorization"] == "DPoP dpop-token"
    assert second["htu"] == url and second["htm"] == "GET" and first["jti"] != second["jti"]
