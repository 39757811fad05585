"""Client assertions and DPoP proofs, decoded and checked against the public key."""

import base64
import hashlib
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from okta_auth0_sync.base.errors import ConfigurationError
from okta_auth0_sync.jose import keys

TOKEN_URL = "https://acme.okta.com/oauth2/v1/token"


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("curve", "alg"), [(ec.SECP256R1(), "ES256"), (ec.SECP384R1(), "ES384"), (ec.SECP521R1(), "ES512")]
)
def test_ec_assertion_uses_the_curves_algorithm(curve, alg):
    key = keys.load_private_key(pem(ec.generate_private_key(curve)))
    assert keys.default_alg(key) == alg
    token = keys.client_assertion("0oaClient", TOKEN_URL, key, alg=alg, kid="ec-1")
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": "ec-1", "typ": "JWT"}
    claims = jwt.decode(token, key.public_key(), algorithms=[alg], audience=TOKEN_URL)
    assert claims["iss"] == claims["sub"] == "0oaClient"


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_assertion_claims(rsa_key, alg):
    key = keys.load_private_key(pem(rsa_key))
    token = keys.client_assertion(
        "0oaClient", TOKEN_URL, key, alg=keys.check_alg(key, alg), kid="k1", now=1_700_000_000
    )
    header = jwt.get_unverified_header(token)
    assert header["alg"] == alg and header["kid"] == "k1"
    claims = jwt.decode(
        token, rsa_key.public_key(), algorithms=[alg], audience=TOKEN_URL, options={"verify_exp": False}
    )
    assert claims["iss"] == claims["sub"] == "0oaClient"
    assert claims["aud"] == TOKEN_URL
    assert claims["iat"] == 1_700_000_000
    assert claims["exp"] - claims["iat"] == 300  # short: well under Okta's one-hour maximum
    assert len(claims["jti"]) == 36


def test_every_assertion_has_a_fresh_jti(rsa_key):
    key = keys.load_private_key(pem(rsa_key))
    jtis = {
        jwt.decode(
            keys.client_assertion("c", TOKEN_URL, key, alg="RS256", kid=None), options={"verify_signature": False}
        )["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_assertion_without_kid_has_no_kid_header(rsa_key):
    key = keys.load_private_key(pem(rsa_key))
    assert "kid" not in jwt.get_unverified_header(keys.client_assertion("c", TOKEN_URL, key, alg="RS256", kid=None))


def test_private_jwk_loads_like_pem(rsa_key):
    key = keys.load_private_key(keys.private_jwk(rsa_key))
    token = keys.client_assertion("c", TOKEN_URL, key, alg="RS256", kid=None)
    jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"], audience=TOKEN_URL)


def test_alg_must_match_the_key(rsa_key):
    with pytest.raises(ConfigurationError, match="does not match the key type"):
        keys.check_alg(keys.load_private_key(pem(rsa_key)), "ES256")
    with pytest.raises(ConfigurationError, match="EC curve"):
        keys.check_alg(ec.generate_private_key(ec.SECP256R1()), "ES384")


def test_a_broken_key_never_echoes_its_text():
    broken = "-----BEGIN PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END PRIVATE KEY-----"
    with pytest.raises(ConfigurationError) as raised:
        keys.load_private_key(broken, source="secret okta")
    assert "TOPSECRET" not in str(raised.value)


def test_rfc7638_thumbprint_example():
    # RFC 7638 section 3.1
    jwk = {
        "kty": "RSA",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
        "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY36"
        "8QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lF"
        "d2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    }
    assert keys.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_dpop_proof_for_a_resource_call():
    key = keys.DpopKey.generate()
    proof = key.proof(
        "get", "https://acme.okta.com/api/v1/users/a%40b.com?limit=2#frag", access_token="tok-123", now=1_700_000_000
    )
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert set(header["jwk"]) == {"kty", "crv", "x", "y"}  # public only: no "d"
    public = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(header["jwk"]))
    claims = jwt.decode(proof, public, algorithms=["ES256"], options={"verify_iat": False})
    assert claims["htm"] == "GET"
    # Okta compares htu with the decoded path, without query or fragment.
    assert claims["htu"] == "https://acme.okta.com/api/v1/users/a@b.com"
    assert claims["ath"] == base64.urlsafe_b64encode(hashlib.sha256(b"tok-123").digest()).rstrip(b"=").decode()
    assert keys.thumbprint(header["jwk"]) == key.jkt
    assert "nonce" not in claims


def test_dpop_key_round_trips_through_its_jwk():
    key = keys.DpopKey.generate()
    again = keys.DpopKey(key.to_jwk())
    assert again.jkt == key.jkt
    claims = jwt.decode(again.proof("POST", TOKEN_URL, nonce="n-1"), options={"verify_signature": False})
    assert claims["nonce"] == "n-1" and "ath" not in claims
