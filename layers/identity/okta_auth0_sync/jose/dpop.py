"""DPoP (RFC 9449), both sides side by side: the proofs a client signs (:class:`DpopKey`, for Okta's
token endpoint and for DPoP-bound resource calls) and the checks a resource server makes on a
proof (:func:`verify_proof`, for the invoke API). Both use the same ``htu``, ``ath`` and key
thumbprint rules.

Verifying a proof (RFC 9449 4.3, 7.1): exactly one ``DPoP`` header; ``typ`` ``dpop+jwt``; an
allowed asymmetric ``alg``; a public ``jwk`` in the header that fits the ``alg`` and verifies the
signature; ``htm`` = the request method; ``htu`` = the request URL (no query or fragment, see
:func:`normalize_htu`); ``iat`` a NumericDate within :data:`PROOF_MAX_AGE` of now; ``ath`` = the
access token's hash; the key's thumbprint = the token's ``cnf.jkt``; a ``jti`` never seen before.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.claims import numeric_date

if TYPE_CHECKING:
    from okta_auth0_sync.store.replay import ProofReplayCache

PROOF_TYP = "dpop+jwt"
PROOF_MAX_AGE = 300  # seconds a DPoP proof is accepted after (and before) its iat
_MAX_JTI = 256


# -- what both sides agree on ----------------------------------------------------------------------
def htu(url: str) -> str:
    """The ``htu`` a proof names for a request URL: scheme://host/path, no query or fragment, path
    decoded (Okta compares against the decoded path; see okta-sdk-python #541)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{unquote(parts.path)}"


def normalize_htu(url: str) -> str | None:
    """What a verifier compares of an ``htu`` and of the request URL (RFC 9449 4.3, RFC 3986 6.2.2
    and 6.2.3): lower-case scheme and host, no default port, ``/`` for an empty path, no query or
    fragment. The path is compared as sent (``%2F`` is not ``/``). None for text that is not a URL
    (a port that is not a number, an unclosed IPv6 bracket)."""
    try:
        parts = urlsplit(url)
        port_number = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    default = (parts.scheme, port_number) in (("https", 443), ("http", 80))
    port = f":{port_number}" if port_number and not default else ""
    return f"{parts.scheme.lower()}://{host}{port}{parts.path or '/'}"


def ath(access_token: str) -> str:
    """A proof's ``ath``: the base64url SHA-256 of the access token it goes with."""
    return keys.sha256_b64url(access_token)


# -- the client: signing proofs --------------------------------------------------------------------
class DpopKey:
    """A DPoP key pair and the proofs it signs."""

    def __init__(self, private_jwk_: Mapping[str, Any]) -> None:
        self.private, self.alg = keys.signing_key(keys.load_private_key(private_jwk_, source="DPoP key"))
        self.public = keys.public_jwk(self.private)
        self.jkt = keys.thumbprint(self.public)
        self._jwk = dict(private_jwk_)

    @classmethod
    def generate(cls) -> DpopKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        return cls(keys.private_jwk(ec.generate_private_key(ec.SECP256R1())))

    def to_jwk(self) -> dict[str, Any]:
        return dict(self._jwk)

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        now: float | None = None,
    ) -> str:
        import jwt

        claims: dict[str, Any] = {
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(now if now is not None else time.time()),
            "jti": str(uuid.uuid4()),
        }
        if access_token is not None:
            claims["ath"] = ath(access_token)
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"typ": PROOF_TYP, "jwk": self.public})


# -- the resource server: verifying proofs ---------------------------------------------------------
class InvalidProof(Exception):
    """A proof the resource server refuses. ``error`` is the RFC 9449 7.1 code: ``invalid_dpop_proof``
    for the proof itself, ``invalid_token`` when the proof is sound but its key is not the one the
    token is bound to (the RFC's "Invalid DPoP key binding")."""

    def __init__(self, reason: str, *, error: str = "invalid_dpop_proof") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


def verify_proof(
    headers: str | list[str] | None,
    *,
    method: str,
    url: str,
    access_token: str,
    jkt: str,
    replay: ProofReplayCache,
    now: float,
) -> None:
    """Accept the request's ``DPoP`` header(s) as the one fresh, unused proof for this request
    (``htm``, ``htu``), this access token (``ath``) and the key it is bound to (``jkt``), or raise
    :class:`InvalidProof`. The proof's ``jti`` is spent in ``replay`` last, once all else holds."""
    jwk, claims = _signed_proof(_the_one_proof(headers))
    iat = _fresh_iat(claims, now)
    _check_request(claims, method=method, url=url, access_token=access_token)
    if keys.thumbprint(jwk) != jkt:
        raise InvalidProof("Invalid DPoP key binding: the proof key is not the token's", error="invalid_token")
    _spend(claims.get("jti"), iat, replay)


def _the_one_proof(headers: str | list[str] | None) -> str:
    proofs = [headers] if isinstance(headers, str) else list(headers or [])
    if len(proofs) != 1 or not proofs[0]:
        raise InvalidProof("exactly one DPoP proof header is required")
    return proofs[0]


def _signed_proof(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The proof's public JWK and its claims, once its header and signature check out."""
    import jwt

    if not proof.isascii():  # a JWS is base64url text (a lone surrogate cannot even be encoded)
        raise InvalidProof("DPoP proof is not a JWT")
    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError:
        raise InvalidProof("DPoP proof is not a JWT") from None
    if header.get("typ") != PROOF_TYP:
        raise InvalidProof(f"DPoP proof typ must be {PROOF_TYP}")
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in keys.ALLOWED_ALGS or not isinstance(jwk, dict):
        raise InvalidProof("DPoP proof needs an asymmetric alg and a jwk")
    if keys.has_private_members(jwk):
        raise InvalidProof("DPoP proof jwk must be a public key")
    key = keys.verifying_key(jwk, alg)
    if key is None:
        raise InvalidProof("DPoP proof key does not fit its alg")
    try:
        # The signature here; iat has its own window (_fresh_iat), and a proof has no exp or aud.
        claims: dict[str, Any] = jwt.decode(
            proof, key, algorithms=[alg], options={"verify_aud": False, "verify_exp": False, "verify_iat": False}
        )
    except jwt.PyJWTError:
        raise InvalidProof("DPoP proof signature is invalid") from None
    return jwk, claims


def _fresh_iat(claims: Mapping[str, Any], now: float) -> float:
    iat = numeric_date(claims.get("iat"))
    if iat is None:
        raise InvalidProof("DPoP proof iat must be a NumericDate")
    if abs(now - iat) > PROOF_MAX_AGE:
        raise InvalidProof("DPoP proof is stale or from the future")
    return iat


def _check_request(claims: Mapping[str, Any], *, method: str, url: str, access_token: str) -> None:
    """The proof names this request and this access token."""
    if claims.get("htm") != method.upper():
        raise InvalidProof("DPoP proof htm does not match the request method")
    claimed = claims.get("htu")
    expected = normalize_htu(url)
    if not isinstance(claimed, str) or expected is None or normalize_htu(claimed) != expected:
        raise InvalidProof("DPoP proof htu does not match the request URL")
    if claims.get("ath") != ath(access_token):
        raise InvalidProof("DPoP proof ath does not match the access token")


def _spend(jti: object, iat: float, replay: ProofReplayCache) -> None:
    """Single use: remember the ``jti`` for as long as the proof could be accepted."""
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI:
        raise InvalidProof("DPoP proof needs a jti")
    if not replay.first_use(jti, iat + PROOF_MAX_AGE):
        raise InvalidProof("DPoP proof was already used")
