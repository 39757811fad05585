"""Okta tokens for a service app: client credentials with a ``private_key_jwt`` client assertion
(RSA or EC keys, ``kid``, key rotation), optionally DPoP-bound; and SSWS API tokens."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import requests

from okta_auth0_sync.base.errors import (
    AuthenticationFailed,
    DpopRequired,
    PermissionDenied,
    RequestRejected,
    UpstreamDetails,
    UpstreamError,
)
from okta_auth0_sync.clients.http import HttpClient, json_body, request_id
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.assertion import client_assertion
from okta_auth0_sync.jose.dpop import DpopKey
from okta_auth0_sync.settings import AssertionKey, OktaConnection

if TYPE_CHECKING:
    from okta_auth0_sync.jose.keys import SigningPrivateKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# After a newer key is refused, keep using the older one for this long before trying again.
ROTATION_RETRY_SECONDS = 900


class OktaServiceApp:
    """Mints Okta access tokens for an API Services app (org authorization server)."""

    def __init__(self, connection: OktaConnection, http: HttpClient) -> None:
        if connection.mode != "private_key_jwt":
            raise ValueError("OktaServiceApp needs a private_key_jwt connection")
        self.connection = connection
        self.http = http
        # loaded on first mint: a cached token needs no key
        self._keys: list[tuple[AssertionKey, SigningPrivateKey, str]] | None = None
        self._preferred_refused_at: float | None = None
        self._dpop_nonce: str | None = None

    @property
    def cache_key(self) -> str:
        return self.connection.cache_key

    def secret_material(self) -> bytes:
        c = self.connection
        keys = "\0".join(str(k.private_key) for k in c.keys)
        return f"{c.client_id}\0{keys}".encode()

    def _signing_keys(self) -> list[tuple[AssertionKey, SigningPrivateKey, str]]:
        """(spec, private key, alg) per configured key, loaded once."""
        if self._keys is None:
            source = f"secret {self.connection.source or 'okta'}"
            loaded = []
            for spec in self.connection.keys:
                key, alg = keys.signing_key(keys.load_private_key(spec.private_key, source=source))
                loaded.append((spec, key, keys.check_alg(key, spec.alg) if spec.alg else alg))
            self._keys = loaded
        return self._keys

    # -- minting ---------------------------------------------------------------------------
    def mint(self) -> AccessToken:
        """Try the preferred (newest) key first; fall back to the next while Okta refuses it,
        so a key can be rotated without downtime: add the new key to the secret first, register
        its public JWK in Okta, and the switch happens as soon as Okta accepts it."""
        order = list(range(len(self._signing_keys())))
        if self._preferred_refused_at and time.time() - self._preferred_refused_at < ROTATION_RETRY_SECONDS:
            order = order[1:] + order[:1]
        last: AuthenticationFailed | None = None
        for index in order:
            try:
                token = self._mint_with(index)
            except AuthenticationFailed as exc:
                last = exc
                if index == 0 and len(order) > 1:
                    self._preferred_refused_at = time.time()
                continue
            if index == 0:
                self._preferred_refused_at = None
            return token
        raise last  # type: ignore[misc]  # never None: there is at least one key, so the loop ran

    def _mint_with(self, index: int) -> AccessToken:
        c = self.connection
        key_spec, key, alg = self._signing_keys()[index]
        dpop = self._dpop_key()

        def form() -> dict[str, str]:
            # A fresh assertion on every attempt: Okta consumes the jti even on error replies.
            return {
                "grant_type": "client_credentials",
                "scope": " ".join(c.scopes),
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(
                    # client_id is None only without keys (SSWS); from_secret requires it with keys
                    c.client_id,  # type: ignore[arg-type]
                    c.token_url,
                    key,
                    alg=alg,
                    kid=key_spec.key_id,
                ),
            }

        def headers() -> Mapping[str, str]:
            if dpop is None:
                return {}
            return {"DPoP": dpop.proof("POST", c.token_url, nonce=self._dpop_nonce)}

        for _ in range(2):  # at most one use_dpop_nonce round trip
            response = self.http.request(
                "POST", c.token_path, auth=False, retry_post=True, data=form, headers=headers, accept=(400, 401, 403)
            )
            body = json_body(response)
            if response.status_code == 400 and body.get("error") == "use_dpop_nonce" and dpop is not None:
                self._dpop_nonce = response.headers.get("DPoP-Nonce") or response.headers.get("dpop-nonce")
                continue
            break
        if response.status_code != 200:
            raise token_error(response, c, key_spec.key_id)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError("Okta token endpoint answered 200 without an access_token", tenant="okta")
        now = time.time()
        return AccessToken(
            value=token,
            token_type=body.get("token_type", "Bearer"),
            expires_at=now + float(body.get("expires_in", 3600)),
            scope=body.get("scope", ""),
            minted_at=now,
            dpop_jwk=dpop.to_jwk() if dpop else None,
        )

    def _dpop_key(self) -> DpopKey | None:
        c = self.connection
        if not c.dpop:
            return None
        if c.dpop_private_key:
            return DpopKey(c.dpop_private_key)
        # No key in the secret: an ephemeral one, cached (encrypted) together with the token so
        # every container that reads the token can also prove possession.
        return DpopKey.generate()


def token_error(response: requests.Response, c: OktaConnection, kid: str | None) -> UpstreamError:
    body = json_body(response)
    code = body.get("error") or body.get("errorCode")
    detail = (body.get("error_description") or body.get("errorSummary") or "")[:300]
    kwargs: UpstreamDetails = {
        "tenant": "okta",
        "status": response.status_code,
        "code": code,
        "request_id": request_id(response),
    }
    if code in ("invalid_dpop_proof", "use_dpop_nonce") or "dpop" in detail.lower():
        if not c.dpop:
            return DpopRequired(
                f'Okta requires DPoP for app {c.client_id}: set "dpop": true in secret {c.source or "okta"} '
                f"(or clear 'Require DPoP header in token requests' on the app). Okta said: {detail}",
                **kwargs,
            )
        return AuthenticationFailed(f"Okta rejected the DPoP proof for app {c.client_id}: {detail}", **kwargs)
    if code == "invalid_client":
        return AuthenticationFailed(
            f"Okta rejected the client assertion of app {c.client_id}: {detail} Check that the public key "
            f"with kid {kid or '(none sent)'} is registered on the app, that client authentication is "
            f"'Public key / Private key', and that the token URL is {c.token_url}.",
            **kwargs,
        )
    if code == "invalid_scope":
        return PermissionDenied(
            f"Okta refused scopes for app {c.client_id}: {detail} Grant them on the app's 'Okta API Scopes' "
            f"tab, or remove them from 'scopes' in secret {c.source or 'okta'}.",
            **kwargs,
        )
    if code == "unauthorized_client":
        return AuthenticationFailed(
            f"Okta app {c.client_id} may not use the client credentials grant: {detail}", **kwargs
        )
    return RequestRejected(
        f"Okta token endpoint rejected the request: {code or response.status_code} {detail}", **kwargs
    )
