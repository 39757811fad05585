"""DPoP (RFC 9449): the proofs DpopKey signs, and verify_proof, the resource server's checks,
round trip and case by case. Through the whole resource server: test_api_auth.py."""

import base64
import hashlib
import json
import time
import uuid

import jwt
import pytest

from okta_auth0_sync.jose import dpop, keys
from okta_auth0_sync.jose.dpop import DpopKey, InvalidProof, verify_proof
from okta_auth0_sync.store.replay import ProofReplayCache

TOKEN_URL = "https://acme.okta.com/oauth2/v1/token"
URL = "https://abc.execute-api.us-east-1.amazonaws.com/v1/users/00u1/sync"
NOW = 1_700_000_000.0


# -- building ------------------------------------------------------------------------------------
def test_dpop_proof_for_a_resource_call():
    key = DpopKey.generate()
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
    key = DpopKey.generate()
    again = DpopKey(key.to_jwk())
    assert again.jkt == key.jkt
    claims = jwt.decode(again.proof("POST", TOKEN_URL, nonce="n-1"), options={"verify_signature": False})
    assert claims["nonce"] == "n-1" and "ath" not in claims


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://API.example.com/v1/x", "https://api.example.com/v1/x"),
        ("HTTPS://api.example.com:443/v1/x?q=1#f", "https://api.example.com/v1/x"),
        ("http://127.0.0.1:80", "http://127.0.0.1/"),
    ],
)
def test_normalize_htu_equal_urls(a, b):
    assert dpop.normalize_htu(a) == dpop.normalize_htu(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://api.example.com/v1/x", "http://api.example.com/v1/x"),
        ("https://api.example.com:8443/v1/x", "https://api.example.com/v1/x"),
        ("https://api.example.com/v1/a%2Fb", "https://api.example.com/v1/a/b"),  # %2F is not /
        ("https://api.example.com/v1/X", "https://api.example.com/v1/x"),  # the path is case-sensitive
    ],
)
def test_normalize_htu_different_urls(a, b):
    assert dpop.normalize_htu(a) != dpop.normalize_htu(b)


# -- verifying -----------------------------------------------------------------------------------
@pytest.fixture
def key():
    return DpopKey.generate()


def verify(proofs, key, *, token="tok-123", method="POST", url=URL, replay=None, now=NOW):
    verify_proof(
        proofs,
        method=method,
        url=url,
        access_token=token,
        jkt=key.jkt,
        replay=replay or ProofReplayCache(None),
        now=now,
    )


def refused(proofs, key, **kwargs) -> InvalidProof:
    with pytest.raises(InvalidProof) as raised:
        verify(proofs, key, **kwargs)
    return raised.value


def signed(key, *, header=None, **claims):
    """A proof with exactly these claims (None drops one), signed by ``key``."""
    body = {"htm": "POST", "htu": URL, "iat": NOW, "jti": str(uuid.uuid4()), "ath": dpop.ath("tok-123"), **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(
        body, key.private, algorithm=key.alg, headers={"typ": "dpop+jwt", "jwk": key.public, **(header or {})}
    )


def test_what_a_dpop_key_signs_its_verifier_accepts(key):
    verify(key.proof("post", URL + "?page=2", access_token="tok-123", now=NOW), key)
    verify([key.proof("POST", URL, access_token="tok-123", now=NOW + 200)], key)  # one header, as a list


def test_a_proof_is_single_use_within_one_replay_cache(key):
    replay = ProofReplayCache(None)  # forgets a jti once its proof expires by the real clock
    now = time.time()
    proof = key.proof("POST", URL, access_token="tok-123", now=now)
    verify(proof, key, replay=replay, now=now)
    assert "already used" in refused(proof, key, replay=replay, now=now).reason


def test_a_proof_from_another_key_is_a_key_binding_failure_of_the_token(key):
    f = refused(DpopKey.generate().proof("POST", URL, access_token="tok-123", now=NOW), key)
    assert f.error == "invalid_token" and "Invalid DPoP key binding" in f.reason  # RFC 9449 7.1


@pytest.mark.parametrize(
    ("iat", "reason"),
    [
        (NOW - 301, "stale"),
        (NOW + 301, "from the future"),
        ("1700000000", "NumericDate"),
        (True, "NumericDate"),
        (float("nan"), "NumericDate"),  # json.loads reads NaN; NaN compares as fresh
        (float("inf"), "NumericDate"),
        (10**400, "NumericDate"),  # an integer no float holds
        (None, "NumericDate"),
    ],
)
def test_a_proofs_iat_is_a_recent_numeric_date(key, iat, reason):
    f = refused(signed(key, iat=iat), key)
    assert f.error == "invalid_dpop_proof" and reason in f.reason


@pytest.mark.parametrize(
    ("proof", "reason"),
    [
        (lambda k: None, "exactly one"),
        (lambda k: [], "exactly one"),
        (lambda k: [signed(k), signed(k)], "exactly one"),
        (lambda k: "", "exactly one"),
        (lambda k: "not-a-jwt", "not a JWT"),
        (lambda k: signed(k, header={"typ": "JWT"}), "typ"),
        (lambda k: signed(k, header={"jwk": "not-a-jwk"}), "needs an asymmetric alg and a jwk"),
        (lambda k: signed(k, header={"jwk": k.to_jwk()}), "public key"),
        (lambda k: signed(k, header={"jwk": {**k.public, "x": "AAAA"}}), "does not fit"),
        (lambda k: signed(k, header={"jwk": {**k.public, "crv": "P-384"}}), "does not fit"),
        (lambda k: signed(k, header={"jwk": DpopKey.generate().public}), "signature"),
        (lambda k: signed(k, htm="GET"), "htm"),
        (lambda k: signed(k, htu=URL + "/other"), "htu"),
        (lambda k: signed(k, htu=None), "htu"),
        (lambda k: signed(k, ath=dpop.ath("another-token")), "ath"),
        (lambda k: signed(k, ath=None), "ath"),
        (lambda k: signed(k, jti=None), "jti"),
        (lambda k: signed(k, jti="x" * 257), "jti"),
    ],
)
def test_bad_proofs_are_invalid_dpop_proof(key, proof, reason):
    f = refused(proof(key), key)
    assert f.error == "invalid_dpop_proof" and reason in f.reason


def test_an_hmac_proof_is_refused(key):
    hs = jwt.encode(
        {"htm": "POST"},
        "secret-secret-secret-secret-secret",
        algorithm="HS256",
        headers={"typ": "dpop+jwt", "jwk": key.public},
    )
    assert "asymmetric alg" in refused(hs, key).reason


def test_the_replay_cache_hears_of_a_proof_only_once_it_is_otherwise_good(key):
    class Recording(ProofReplayCache):
        def __init__(self):
            super().__init__(None)
            self.spent = []

        def first_use(self, jti, expires_at):
            self.spent.append((jti, expires_at))
            return super().first_use(jti, expires_at)

    replay = Recording()
    refused(signed(key, htm="GET"), key, replay=replay)
    assert replay.spent == []
    verify(signed(key, jti="j-1"), key, replay=replay)
    assert replay.spent == [("j-1", NOW + dpop.PROOF_MAX_AGE)]


def test_proofs_are_checked_at_the_time_given(key):
    proof = key.proof("POST", URL, access_token="tok-123", now=time.time())
    verify(proof, key, now=time.time())
    assert "stale" in refused(proof, key, now=time.time() + 3600).reason
