"""Validating the callers of the invoke endpoint: access tokens from an Okta custom authorization
server, plain Bearer or DPoP-bound (RFC 9449).

Every check a resource server owes its callers:

- ``Authorization: Bearer <jwt>`` or ``Authorization: DPoP <jwt>``;
- algorithm allow-list (RS/ES 256/384/512 only: never ``none``, never an HMAC, so a public key
  can never be used as an HMAC secret); the key chosen by ``kid`` from the issuer's JWKS
  (:mod:`okta_auth0_sync.jose.jwks`: cached, refetched on an unknown ``kid`` at most once a
  minute, stale keys served through an outage), and its type must fit ``alg``;
- ``iss`` exactly the custom authorization server, ``aud`` the configured audience, ``exp``/
  ``nbf``/``iat`` NumericDates (JSON numbers) with a small leeway, ``cid``/``sub`` present;
- DPoP: the proof checks of :func:`okta_auth0_sync.jose.dpop.verify_proof`, against the token's
  ``cnf.jkt``; a DPoP-bound token sent as Bearer is refused;
- the route's scope in ``scp`` (Okta) or ``scope``: :meth:`Caller.require`, apart, since the
  invoke API checks it in the function behind the authorizer (a 403 there, in the caller's scheme).

Failures are :class:`AuthFailure` with the RFC 6750 / RFC 9449 status, error code and challenge.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from okta_auth0_sync.base.errors import ConfigurationError, shown
from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.claims import numeric_date
from okta_auth0_sync.jose.dpop import InvalidProof, verify_proof
from okta_auth0_sync.jose.jwks import JwksCache
from okta_auth0_sync.store.replay import ProofReplayCache

if TYPE_CHECKING:
    from okta_auth0_sync.jose.keys import VerifyingKey

LEEWAY = 60
REALM = "okta-auth0-sync"
_TIME_CLAIMS = ("exp", "nbf", "iat")
# What an auth-param's quoted-string may hold here (RFC 6750 3: %x20-21 / %x23-5B / %x5D-7E).
_UNQUOTABLE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


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
        realm: str = REALM,
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
        """The ``WWW-Authenticate`` value: a challenge in the scheme the request used, with the
        error (RFC 6750 3, RFC 9449 7.1). A request without credentials gets no error code
        (RFC 6750 3.1) and both schemes; a Bearer request refused with a 401 is told about DPoP
        too (RFC 9449 7.2). Every DPoP challenge names the algorithms accepted (``algs``)."""
        params = {"realm": self.realm}
        if self.error:
            params |= {"error": self.error, "error_description": self.description}
        if self.scope:
            params["scope"] = self.scope
        if self.scheme == "DPoP":
            return _challenge("DPoP", params | _DPOP_ALGS)
        challenge = _challenge("Bearer", params)
        if self.status == 401:
            challenge += ", " + _challenge("DPoP", {"realm": self.realm} | _DPOP_ALGS)
        return challenge


_DPOP_ALGS = {"algs": " ".join(keys.ALLOWED_ALGS)}


def quotable(text: str) -> str:
    """``text`` with every character an auth-param's quoted-string cannot hold (a quote, a backslash,
    a control or non-ASCII character) replaced by ``?``: also safe inside a JSON string."""
    return _UNQUOTABLE.sub("?", text)


def _challenge(scheme: str, params: Mapping[str, str]) -> str:
    return f"{scheme} " + ", ".join(f'{name}="{quotable(value)}"' for name, value in params.items())


def require_scope(scopes: Iterable[str], scope: str, *, scheme: str = "Bearer") -> None:
    """RFC 6750 3.1: a valid token without ``scope`` is a 403 ``insufficient_scope``, challenged in
    the scheme the request used (``DPoP`` or ``Bearer``) and naming the scope it needs."""
    if scope not in set(scopes):
        raise AuthFailure(
            403,
            "insufficient_scope",
            f"the token lacks scope {scope}",
            scheme="DPoP" if scheme == "DPoP" else "Bearer",
            scope=scope,
        )


class ResourceServerNotConfigured(AuthFailure, ConfigurationError):
    """The API has no issuer or audience to check tokens against: a configuration error, and to
    every caller a 401 (fail closed), never a server error."""

    def __init__(self, reason: str) -> None:
        super().__init__(401, "invalid_token", reason)


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]
    token_type: str  # Bearer | DPoP
    subject: str
    expires_at: int

    def require(self, scope: str) -> None:
        """:func:`require_scope` for this caller: a 403 in its own scheme without ``scope``."""
        require_scope(self.scopes, scope, scheme=self.token_type)

    def context(self) -> dict[str, str]:
        """For the API Gateway authorizer context (strings only)."""
        return {
            "client_id": self.client_id,
            "scopes": " ".join(sorted(self.scopes)),
            "token_type": self.token_type,
            "subject": self.subject,
        }


@dataclass
class ResourceServer:
    """What this API accepts: tokens from one custom authorization server for one audience."""

    issuer: str
    audience: str
    jwks: JwksCache
    replay: ProofReplayCache
    clock: Callable[[], float] = time.time

    def authenticate(self, *, authorization: str | None, dpop: str | list[str] | None, method: str, url: str) -> Caller:
        """The caller a valid token (and, for ``DPoP``, its proof for this method and URL) names,
        with its scopes, or :class:`AuthFailure` (401). The route's scope is not checked here
        (:meth:`Caller.require`)."""
        scheme, token = _credentials(authorization)
        claims = self._verify_token(token, scheme)
        # A token that names no client is invalid whatever its scopes.
        client_id = claims.get("cid") or claims.get("client_id") or claims.get("sub")
        if not isinstance(client_id, str) or not client_id:
            raise AuthFailure(401, "invalid_token", "token names no client", scheme=scheme)
        cnf = claims.get("cnf")
        bound = cnf.get("jkt") if isinstance(cnf, dict) else None
        if scheme == "DPoP":
            if not bound:
                raise AuthFailure(401, "invalid_token", "token is not DPoP-bound", scheme="DPoP")
            self._verify_proof(dpop, method=method, url=url, token=token, jkt=bound)
        elif bound:
            raise AuthFailure(401, "invalid_token", "DPoP-bound token presented as Bearer")
        return Caller(
            client_id=client_id,
            scopes=frozenset(_scopes(claims)),
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
        # PyJWT reads these through int(): "9999999999" or true would pass. RFC 7519 2: a number.
        for name in _TIME_CLAIMS:
            if name in claims and numeric_date(claims[name]) is None:
                raise AuthFailure(401, "invalid_token", f"token {name} is not a NumericDate", scheme=scheme)
        return claims

    def _signing_key(self, token: str, scheme: str) -> tuple[str, VerifyingKey]:
        """The token's ``alg`` and the authorization server's key that must have signed it."""
        import jwt

        def fail(why: str) -> AuthFailure:
            return AuthFailure(401, "invalid_token", why, scheme=scheme)

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise fail("token is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in keys.ALLOWED_ALGS:
            raise fail(f"algorithm {shown(alg, 10)} is not accepted")
        if not isinstance(kid, str):
            raise fail("token has no kid")
        jwk = self.jwks.key(kid)
        if jwk is None:
            raise fail("unknown signing key")
        key = keys.verifying_key(jwk, alg)
        if key is None:
            raise fail("signing key does not fit the algorithm")
        return alg, key

    # -- the DPoP proof ------------------------------------------------------------------------
    def _verify_proof(self, headers: str | list[str] | None, *, method: str, url: str, token: str, jkt: str) -> None:
        try:
            verify_proof(
                headers, method=method, url=url, access_token=token, jkt=jkt, replay=self.replay, now=self.clock()
            )
        except InvalidProof as invalid:
            raise AuthFailure(401, invalid.error, invalid.reason, scheme="DPoP") from None


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


def _credentials(authorization: str | None) -> tuple[str, str]:
    if not authorization or not authorization.strip():
        raise AuthFailure(401, None, "credentials required")
    scheme, _, token = authorization.strip().partition(" ")
    scheme = {"bearer": "Bearer", "dpop": "DPoP"}.get(scheme.lower(), "")
    token = token.strip()
    if not scheme or not token or " " in token:
        raise AuthFailure(
            401, "invalid_request", "use the Bearer or DPoP scheme with one token", scheme=scheme or "Bearer"
        )
    if not token.isascii():  # a JWS is base64url text (a lone surrogate cannot even be encoded)
        raise AuthFailure(401, "invalid_token", "token is not a JWT", scheme=scheme)
    return scheme, token


def _scopes(claims: Mapping[str, Any]) -> set[str]:
    scp = claims.get("scp")
    if isinstance(scp, list):
        return {s for s in scp if isinstance(s, str)}
    scope = claims.get("scope")
    return set(scope.split()) if isinstance(scope, str) else set()
