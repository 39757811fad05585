"""Validating the callers of the invoke endpoint: access tokens from an Okta custom authorization
server, plain Bearer or DPoP-bound (RFC 9449).

Every check a resource server owes its callers:

- ``Authorization: Bearer <jwt>`` or ``Authorization: DPoP <jwt>``;
- algorithm allow-list (RS/ES 256/384/512 only: never ``none``, never an HMAC, so a public key
  can never be used as an HMAC secret); the key chosen by ``kid`` from the issuer's JWKS
  (cached; refetched on an unknown ``kid``, at most once a minute), and its type must fit ``alg``;
- ``iss`` exactly the custom authorization server, ``aud`` the configured audience, ``exp``/
  ``nbf``/``iat`` with a small leeway, ``cid``/``sub`` present;
- the route's scope in ``scp`` (Okta) or ``scope``;
- DPoP: exactly one ``DPoP`` proof, ``typ`` ``dpop+jwt``, an allowed asymmetric ``alg``, a public
  ``jwk`` that verifies it, ``htm`` = the method, ``htu`` = the URL without query or fragment,
  fresh ``iat``, ``ath`` = the token's hash, the key's thumbprint = the token's ``cnf.jkt``, and a
  ``jti`` never seen before (single use); a DPoP-bound token sent as Bearer is refused.

Failures are :class:`AuthFailure` with the RFC 6750 / RFC 9449 status, error code and challenge.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from okta_auth0_sync.jose.keys import thumbprint
from okta_auth0_sync.store.replay import ProofReplayCache

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ALLOWED_ALGS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
JWKS_MAX_AGE = 3600
JWKS_MIN_REFETCH = 60
PROOF_MAX_AGE = 300  # seconds a DPoP proof is accepted after (and before) its iat
LEEWAY = 60


class AuthFailure(Exception):
    """401 (no/bad credentials) or 403 (valid token, missing scope), with the challenge to send."""

    def __init__(
        self,
        status: int,
        error: str | None,
        description: str,
        *,
        scheme: str = "Bearer",
        scope: str | None = None,
        realm: str = "okta-auth0-sync",
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.scheme = scheme
        self.scope = scope
        self.realm = realm

    @property
    def www_authenticate(self) -> str:
        params = [f'realm="{self.realm}"']
        if self.error:  # RFC 6750 3.1: no error code when the request carried no credentials
            params += [f'error="{self.error}"', f'error_description="{self.description}"']
        if self.scope:
            params.append(f'scope="{self.scope}"')
        challenge = f"{self.scheme} " + ", ".join(params)
        if self.scheme == "Bearer":  # advertise DPoP too (RFC 9449 7.1)
            challenge += f', DPoP algs="{" ".join(ALLOWED_ALGS)}"'
        return challenge


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]
    token_type: str  # Bearer | DPoP
    subject: str
    expires_at: int

    def context(self) -> dict[str, str]:
        """For the API Gateway authorizer context (strings only)."""
        return {
            "client_id": self.client_id,
            "scopes": " ".join(sorted(self.scopes)),
            "token_type": self.token_type,
            "subject": self.subject,
        }


@dataclass
class _Jwks:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float = 0.0


class JwksCache:
    """The issuer's signing keys: cached, refreshed when stale or when an unknown ``kid`` shows
    up (rate-limited, so a flood of made-up kids cannot hammer the issuer)."""

    def __init__(self, jwks_uri: str, fetch: Callable[[str], dict[str, Any]], clock: Callable[[], float] = time.time):
        self.jwks_uri = jwks_uri
        self._fetch = fetch
        self._clock = clock
        self._state = _Jwks()
        self._lock = threading.Lock()

    def key(self, kid: str) -> dict[str, Any] | None:
        now = self._clock()
        with self._lock:
            if now - self._state.fetched_at > JWKS_MAX_AGE:
                self._refresh(now)
            jwk = self._state.keys.get(kid)
            if jwk is None and now - self._state.fetched_at > JWKS_MIN_REFETCH:
                self._refresh(now)
                jwk = self._state.keys.get(kid)
            return jwk

    def _refresh(self, now: float) -> None:
        document = self._fetch(self.jwks_uri)
        self._state = _Jwks({k["kid"]: k for k in document.get("keys", []) if isinstance(k, dict) and "kid" in k}, now)


@dataclass
class ResourceServer:
    """What this API accepts: tokens from one custom authorization server for one audience."""

    issuer: str
    audience: str
    jwks: JwksCache
    replay: ProofReplayCache
    clock: Callable[[], float] = time.time

    def authenticate(
        self, *, authorization: str | None, dpop: str | list[str] | None, method: str, url: str, required_scope: str
    ) -> Caller:
        scheme, token = _credentials(authorization)
        claims = self._verify_token(token, scheme)
        bound = (claims.get("cnf") or {}).get("jkt") if isinstance(claims.get("cnf"), dict) else None
        if scheme == "DPoP":
            if not bound:
                raise AuthFailure(401, "invalid_token", "token is not DPoP-bound", scheme="DPoP")
            self._verify_proof(dpop, method=method, url=url, token=token, jkt=bound)
        elif bound:
            raise AuthFailure(401, "invalid_token", "DPoP-bound token presented as Bearer")
        scopes = _scopes(claims)
        if required_scope not in scopes:
            raise AuthFailure(
                403,
                "insufficient_scope",
                f"the token lacks scope {required_scope}",
                scheme=scheme,
                scope=required_scope,
            )
        client_id = claims.get("cid") or claims.get("client_id") or claims.get("sub")
        if not isinstance(client_id, str):
            raise AuthFailure(401, "invalid_token", "token names no client", scheme=scheme)
        return Caller(
            client_id=client_id,
            scopes=frozenset(scopes),
            token_type=scheme,
            subject=str(claims.get("sub", client_id)),
            expires_at=int(claims["exp"]),
        )

    # -- the access token --------------------------------------------------------------------
    def _verify_token(self, token: str, scheme: str) -> dict[str, Any]:
        import jwt

        alg, key = self._signing_key(token, scheme)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthFailure(401, "invalid_token", _token_error(exc), scheme=scheme) from None
        return claims

    def _signing_key(self, token: str, scheme: str) -> tuple[str, RSAPublicKey | EllipticCurvePublicKey]:
        """The token's ``alg`` and the authorization server's key that must have signed it."""
        import jwt

        def fail(why: str) -> AuthFailure:
            return AuthFailure(401, "invalid_token", why, scheme=scheme)

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise fail("token is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALLOWED_ALGS:
            raise fail(f"algorithm {str(alg)[:10]} is not accepted")
        if not isinstance(kid, str):
            raise fail("token has no kid")
        jwk = self.jwks.key(kid)
        if jwk is None:
            raise fail("unknown signing key")
        key = _public_key(jwk, alg)
        if key is None:
            raise fail("signing key does not fit the algorithm")
        return alg, key

    # -- the DPoP proof ------------------------------------------------------------------------
    def _verify_proof(self, dpop: str | list[str] | None, *, method: str, url: str, token: str, jkt: str) -> None:
        """RFC 9449 §4.3: one proof, signed by the public key in its header, for this request
        (``htm``, ``htu``), this token (``ath``) and the key the token is bound to, fresh, unused."""
        proofs = [dpop] if isinstance(dpop, str) else list(dpop or [])
        if len(proofs) != 1 or not proofs[0]:
            raise _proof_failure("exactly one DPoP proof header is required")
        jwk, claims = _signed_proof(proofs[0])
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or abs(self.clock() - iat) > PROOF_MAX_AGE:
            raise _proof_failure("DPoP proof is stale or from the future")
        _check_proof_binding(claims, jwk, method=method, url=url, token=token, jkt=jkt)
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 256:
            raise _proof_failure("DPoP proof needs a jti")
        if not self.replay.first_use(jti, iat + PROOF_MAX_AGE):
            raise _proof_failure("DPoP proof was already used")


def _token_error(exc: Exception) -> str:
    """Why PyJWT refused a token, in words an operator can act on (no token content)."""
    import jwt

    for kind, why in (
        (jwt.ExpiredSignatureError, "token expired"),
        (jwt.InvalidAudienceError, "token is for another audience"),
        (jwt.InvalidIssuerError, "token is from another issuer"),
        (jwt.ImmatureSignatureError, "token is not valid yet"),  # nbf or iat ahead of now, beyond the leeway
    ):
        if isinstance(exc, kind):
            return why
    return "token signature or claims are invalid"


def _proof_failure(why: str) -> AuthFailure:
    return AuthFailure(401, "invalid_dpop_proof", why, scheme="DPoP")


def _signed_proof(proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The proof's public JWK and its claims, once its header and signature check out."""
    import jwt

    try:
        header = jwt.get_unverified_header(proof)
    except jwt.PyJWTError:
        raise _proof_failure("DPoP proof is not a JWT") from None
    if header.get("typ") != "dpop+jwt":
        raise _proof_failure("DPoP proof typ must be dpop+jwt")
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in ALLOWED_ALGS or not isinstance(jwk, dict):
        raise _proof_failure("DPoP proof needs an asymmetric alg and a jwk")
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise _proof_failure("DPoP proof jwk must be a public key")
    key = _public_key(jwk, alg)
    if key is None:
        raise _proof_failure("DPoP proof key does not fit its alg")
    try:
        claims = jwt.decode(
            proof, key, algorithms=[alg], options={"verify_aud": False, "verify_exp": False, "verify_iat": False}
        )
    except jwt.PyJWTError:
        raise _proof_failure("DPoP proof signature is invalid") from None
    return jwk, claims


def _check_proof_binding(
    claims: Mapping[str, Any], jwk: Mapping[str, Any], *, method: str, url: str, token: str, jkt: str
) -> None:
    """The proof is for this request, this access token, and the key the token is bound to."""
    if claims.get("htm") != method.upper():
        raise _proof_failure("DPoP proof htm does not match the request method")
    if not isinstance(claims.get("htu"), str) or normalize_htu(claims["htu"]) != normalize_htu(url):
        raise _proof_failure("DPoP proof htu does not match the request URL")
    expected_ath = base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()
    if claims.get("ath") != expected_ath:
        raise _proof_failure("DPoP proof ath does not match the access token")
    if thumbprint(jwk) != jkt:
        raise _proof_failure("DPoP proof key is not the key the token is bound to")


def _credentials(authorization: str | None) -> tuple[str, str]:
    if not authorization or not authorization.strip():
        raise AuthFailure(401, None, "credentials required")
    scheme, _, token = authorization.strip().partition(" ")
    scheme = {"bearer": "Bearer", "dpop": "DPoP"}.get(scheme.lower(), "")
    token = token.strip()
    if not scheme or not token or " " in token:
        raise AuthFailure(401, "invalid_request", "use the Bearer or DPoP scheme with one token")
    return scheme, token


def _scopes(claims: Mapping[str, Any]) -> set[str]:
    scp = claims.get("scp")
    if isinstance(scp, list):
        return {s for s in scp if isinstance(s, str)}
    scope = claims.get("scope")
    return set(scope.split()) if isinstance(scope, str) else set()


def _public_key(jwk: Mapping[str, Any], alg: str) -> RSAPublicKey | EllipticCurvePublicKey | None:
    """The public key of ``jwk`` if its type fits ``alg`` (RSA for RS*, the right curve for ES*)."""
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    # PyJWT types from_jwk as "private or public key": a JWK of public members only is a public key.
    try:
        if alg.startswith("RS") and jwk.get("kty") == "RSA":
            return RSAAlgorithm.from_jwk(  # type: ignore[return-value]
                json.dumps({k: jwk[k] for k in ("kty", "n", "e")})
            )
        if alg in _EC_CURVES and jwk.get("kty") == "EC" and jwk.get("crv") == _EC_CURVES[alg]:
            return ECAlgorithm.from_jwk(  # type: ignore[return-value]
                json.dumps({k: jwk[k] for k in ("kty", "crv", "x", "y")})
            )
    except (KeyError, ValueError, TypeError):
        return None
    return None


def normalize_htu(url: str) -> str:
    """scheme://host[:port]/path, lower-case scheme and host, no query or fragment (RFC 9449 4.3)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = f":{parts.port}" if parts.port and (parts.scheme, parts.port) not in (("https", 443), ("http", 80)) else ""
    return f"{parts.scheme.lower()}://{host}{port}{parts.path or '/'}"
