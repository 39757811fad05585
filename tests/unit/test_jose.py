"""Keys (loading, algorithms, JWKs both ways, thumbprints) and the client assertion, decoded and
checked against the public key. DPoP proofs: test_dpop.py."""

import base64
import hashlib

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from okta_auth0_sync.base.errors import ConfigurationError
from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.assertion import client_assertion

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
    token = client_assertion("0oaClient", TOKEN_URL, key, alg=alg, kid="ec-1")
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": "ec-1", "typ": "JWT"}
    claims = jwt.decode(token, key.public_key(), algorithms=[alg], audience=TOKEN_URL)
    assert claims["iss"] == claims["sub"] == "0oaClient"


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_assertion_claims(rsa_key, alg):
    key = keys.load_private_key(pem(rsa_key))
    token = client_assertion("0oaClient", TOKEN_URL, key, alg=keys.check_alg(key, alg), kid="k1", now=1_700_000_000)
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
        jwt.decode(client_assertion("c", TOKEN_URL, key, alg="RS256", kid=None), options={"verify_signature": False})[
            "jti"
        ]
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_assertion_without_kid_has_no_kid_header(rsa_key):
    key = keys.load_private_key(pem(rsa_key))
    assert "kid" not in jwt.get_unverified_header(client_assertion("c", TOKEN_URL, key, alg="RS256", kid=None))


def test_private_jwk_loads_like_pem(rsa_key):
    key = keys.load_private_key(keys.private_jwk(rsa_key))
    token = client_assertion("c", TOKEN_URL, key, alg="RS256", kid=None)
    jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"], audience=TOKEN_URL)


def test_the_same_material_is_loaded_once_and_a_bad_key_is_refused_every_time(rsa_key):
    material = pem(rsa_key)
    assert keys.load_private_key(material) is keys.load_private_key(material)
    jwk = keys.private_jwk(rsa_key)
    assert keys.load_private_key(dict(jwk)) is keys.load_private_key(dict(reversed(list(jwk.items()))))
    assert keys.load_private_key(pem(ec.generate_private_key(ec.SECP256R1()))) is not keys.load_private_key(material)
    for _ in range(2):
        with pytest.raises(ConfigurationError, match="cannot be loaded"):
            keys.load_private_key(material.replace("A", "B", 5))


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


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_a_keys_public_jwk_verifies_what_it_signs_with_its_default_alg(curve):
    key, alg = keys.signing_key(ec.generate_private_key(curve))
    token = client_assertion("c", TOKEN_URL, key, alg=alg, kid=None)
    verifying = keys.verifying_key(keys.public_jwk(key), alg)
    assert verifying is not None
    assert jwt.decode(token, verifying, algorithms=[alg], audience=TOKEN_URL)["iss"] == "c"
    other = next(a for a in ("ES256", "ES384", "ES512") if a != alg)
    assert keys.verifying_key(keys.public_jwk(key), other) is None  # the curve must fit the alg


def test_verifying_key_needs_the_key_type_of_the_alg(rsa_key):
    rsa_jwk = keys.public_jwk(rsa_key)
    assert keys.verifying_key(rsa_jwk, "RS384") is not None
    assert keys.verifying_key(rsa_jwk, "ES256") is None
    assert keys.verifying_key(rsa_jwk, "HS256") is None  # never an HMAC secret
    assert keys.verifying_key(rsa_jwk, "none") is None
    # a private JWK gives its public key only
    public = keys.verifying_key(keys.private_jwk(rsa_key), "RS256")
    assert isinstance(public, rsa.RSAPublicKey)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},  # PyJWT: InvalidKeyError (coordinate size)
        {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43},  # not on the curve
        {"kty": "EC", "crv": "P-256", "x": 5, "y": None},
        {"kty": "EC", "crv": "P-256"},
        {"kty": "RSA", "n": "AQAB"},
    ],
)
def test_a_malformed_jwk_has_no_verifying_key(jwk):
    alg = "ES256" if jwk["kty"] == "EC" else "RS256"
    assert keys.verifying_key(jwk, alg) is None


def test_private_members_are_noticed(rsa_key):
    assert keys.has_private_members(keys.private_jwk(rsa_key))
    assert keys.has_private_members({"kty": "oct", "k": "c2VjcmV0"})
    assert not keys.has_private_members(keys.public_jwk(rsa_key))


def test_sha256_b64url_is_unpadded_base64url():
    digest = hashlib.sha256(b"tok-123").digest()
    assert keys.sha256_b64url("tok-123") == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert "=" not in keys.b64url(b"\xff\xfe")
