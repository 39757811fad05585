"""``requests`` auth objects that put a token on each request (and a DPoP proof when bound)."""

from __future__ import annotations

import requests

from okta_auth0_sync.clients.http import RefreshableAuth
from okta_auth0_sync.clients.tokens.cache import TokenSource
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.jose.dpop import DpopKey


class AccessTokenAuth(RefreshableAuth):
    """``Authorization: Bearer <token>``, or ``DPoP <token>`` plus a fresh ``DPoP`` proof
    (``htm``, ``htu`` without query, ``iat``, ``jti``, ``ath``) for a DPoP-bound token."""

    def __init__(self, source: TokenSource) -> None:
        self.source = source
        self._dpop: tuple[str | None, DpopKey] | None = None  # (the key's "x" or "n", the key)
        self._nonce: str | None = None  # a resource server's DPoP-Nonce, once it asked for one

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.source.current()
        request.headers["Authorization"] = f"{'DPoP' if token.is_dpop else 'Bearer'} {token.value}"
        if token.is_dpop:
            # requests types a PreparedRequest's method and url as optional; auth runs once both are set
            method, url = str(request.method), str(request.url)
            request.headers["DPoP"] = self._dpop_key(token).proof(
                method,
                url,
                access_token=token.value,
                nonce=self._nonce,
            )
        return request

    def _dpop_key(self, token: AccessToken) -> DpopKey:
        if not token.dpop_jwk:
            raise RuntimeError("a DPoP-bound token was cached without its key")
        marker = token.dpop_jwk.get("x") or token.dpop_jwk.get("n")
        if self._dpop is None or self._dpop[0] != marker:
            self._dpop = (marker, DpopKey(token.dpop_jwk))
        return self._dpop[1]

    def refresh(self, response: requests.Response) -> bool:
        challenge = response.headers.get("WWW-Authenticate", "")
        nonce = response.headers.get("DPoP-Nonce")
        if "use_dpop_nonce" in challenge and nonce:
            self._nonce = nonce  # RFC 9449 9: retry once with the server's nonce
            return True
        self.source.invalidate()  # expired or revoked: mint a new one and retry once
        return True


class SswsAuth(requests.auth.AuthBase):
    """``Authorization: SSWS <api token>`` (Okta API tokens; nothing to mint or cache)."""

    def __init__(self, api_token: str) -> None:
        self._header = f"SSWS {api_token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "SswsAuth(<redacted>)"
