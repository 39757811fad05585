"""Okta tokens for an OIDC web app acting for the admin who consented once (the
``authorization_code`` connection mode): the code exchange of the consent command, and the
refresh-token grant that mints every access token after it.

**Rotation, safely across containers.** Okta rotates the refresh token on every use; the used one
stays valid for the app's grace period (``leeway``, 30 s by default), and using it after that is
taken for theft: Okta revokes the whole family and the connection is dead until an admin consents
again. So a refresh happens only under the shared token cache's lease (one holder across every
container of every function, :mod:`okta_auth0_sync.clients.tokens.cache`), and the holder:

1. reads the refresh token fresh from the vault (Secrets Manager; never a cached copy);
2. asks Okta for new tokens;
3. confirms it still holds the lease (the holder id is the fencing token) and writes the new
   refresh token to the vault **before** the access token is used or published;
4. only then hands the access token to the cache, which publishes it to the other containers.

If the container dies between 2 and 3 (a few milliseconds; a refresh never starts with less than
:data:`MIN_SECONDS_TO_REFRESH` of the invocation left, so a Lambda timeout does not cut it), the
vault still holds the old refresh token: the next holder (the lease lasts
:data:`REFRESH_LEASE_SECONDS`, less than Okta's default grace) presents it within the grace
period and Okta answers normally. If no container asks for a token before the grace period ends,
the old token is dead and the next refresh ends in :class:`ConsentRequired`. A holder that lost
its lease before 3 writes nothing and fails with a retryable error. ``invalid_grant`` is final: the vault is marked
(``refresh_token_revoked``) so that no container asks Okta again with the dead token, and
:class:`ConsentRequired` says to re-run the consent command.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConsentRequired,
    UpstreamDetails,
    UpstreamError,
    UpstreamUnavailable,
)
from okta_auth0_sync.base.logs import logger as log
from okta_auth0_sync.clients.http import HttpClient, json_body, request_id
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.clients.tokens.okta import ASSERTION_TYPE, token_error
from okta_auth0_sync.jose import keys
from okta_auth0_sync.jose.assertion import client_assertion
from okta_auth0_sync.jose.dpop import DpopKey
from okta_auth0_sync.settings import OktaConnection
from okta_auth0_sync.store.refresh_tokens import RefreshTokenVault, SecretsManagerVault

if TYPE_CHECKING:
    import requests

# Shorter than Okta's default grace period (30 s): a holder that died after Okta rotated the token
# but before the new one was stored leaves a lease that expires while the old token still works.
REFRESH_LEASE_SECONDS = 20.0
# A Lambda timeout is the likeliest way to die between Okta's answer and the secret write: never
# start a refresh with less time than this left (the HTTP read timeout is 10 s).
MIN_SECONDS_TO_REFRESH = 15.0
CONSENT_HINT = "re-run the consent command: okta-auth0-sync consent --secret-id <OktaConnectionSecretArn>"


class LeaseGuard(Protocol):
    def confirm(self) -> bool:
        """Still the holder? (and the lease extended): only then may the new refresh token be stored."""
        ...


class NoLease:
    """One process, nothing shared (the CLI without a cache table): always the holder."""

    def confirm(self) -> bool:
        return True


@dataclass(frozen=True)
class Grant:
    """What the token endpoint answered: the access token and, once, the refresh token."""

    access: AccessToken
    refresh_token: str | None = field(default=None, repr=False)


class OktaWebApp:
    """Mints Okta access tokens from the connection's refresh token (org authorization server)."""

    exclusive = True  # the cache never mints this without its lease, and never two at once
    lease_seconds = REFRESH_LEASE_SECONDS

    def __init__(
        self,
        connection: OktaConnection,
        http: HttpClient,
        vault: RefreshTokenVault | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if connection.mode != "authorization_code":
            raise ValueError("OktaWebApp needs an authorization_code connection")
        self.connection = connection
        self.http = http
        self._vault = vault
        self._clock = clock
        self._dpop_nonce: str | None = None

    @property
    def vault(self) -> RefreshTokenVault:
        if self._vault is None:
            self._vault = SecretsManagerVault(self.connection.source)
        return self._vault

    @property
    def cache_key(self) -> str:
        return self.connection.cache_key

    def secret_material(self) -> bytes:
        """The app's credentials, not the refresh token (it changes at every refresh, and every
        container must still open the access token its peer cached)."""
        c = self.connection
        credential = c.client_secret or "\0".join(str(k.private_key) for k in c.keys)
        return f"{c.client_id}\0{credential}".encode()

    # -- the consent command ----------------------------------------------------------------------
    def exchange_code(self, code: str, verifier: str, dpop: DpopKey | None = None) -> Grant:
        """``grant_type=authorization_code`` with the PKCE verifier and the connection's redirect URI."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.connection.redirect_uri,
            "code_verifier": verifier,
        }
        response, body = self._token_request(self.connection, form, dpop)
        if response.status_code != 200:
            raise self._error(response, body, "the authorization code")
        return self._grant(body, dpop)

    # -- runtime: the refresh grant ---------------------------------------------------------------
    def mint(self) -> AccessToken:
        return self.mint_fenced(NoLease())

    def mint_fenced(self, lease: LeaseGuard) -> AccessToken:
        """One refresh, by the lease holder (see the module's docstring for the order of steps)."""
        remaining = container.remaining_seconds()
        if remaining is not None and remaining < MIN_SECONDS_TO_REFRESH:
            raise UpstreamUnavailable(
                f"{remaining:.0f} s left in this invocation: too little to refresh the Okta token safely (retry)",
                tenant="okta",
            )
        document = self.vault.read()
        current = OktaConnection.from_secret(document, self.connection.source)
        if current.mode != "authorization_code":
            raise ConfigurationError(f"{self.vault.where} is no longer an authorization_code connection")
        if current.refresh_token_revoked:
            raise ConsentRequired(
                f"Okta refused the refresh token of app {current.client_id} at {current.refresh_token_revoked}: "
                f"{CONSENT_HINT}",
                tenant="okta",
                code="invalid_grant",
            )
        if not current.refresh_token:
            raise ConsentRequired(
                f"no refresh token for app {current.client_id} in {self.vault.where}: {CONSENT_HINT}", tenant="okta"
            )
        dpop = self._dpop_key(current)
        form = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
        response, body = self._token_request(current, form, dpop)
        if response.status_code != 200:
            if body.get("error") == "invalid_grant":
                self._mark_revoked(document, current.refresh_token, lease)
            raise self._error(response, body, "the refresh token")
        grant = self._grant(body, dpop)
        rotated = grant.refresh_token
        if rotated and rotated != current.refresh_token:
            if not lease.confirm():
                # Another container took the lease (ours ran out): it read the old token, which is
                # still in its grace period; storing ours now would overwrite its newer one.
                log.warning("okta refresh: lease lost before the rotated refresh token was stored; discarded")
                raise UpstreamUnavailable(
                    "the Okta token refresh outlasted its lease; another container refreshes instead (retry)",
                    tenant="okta",
                )
            self.vault.write({**document, "refresh_token": rotated})
        log.info("okta refresh token rotated" if rotated != current.refresh_token else "okta token refreshed")
        return grant.access

    # -- internals --------------------------------------------------------------------------------
    def _dpop_key(self, c: OktaConnection) -> DpopKey | None:
        if not c.dpop:
            return None
        if not c.dpop_private_key:
            raise ConsentRequired(
                f'"dpop" is on but {self.vault.where} has no "dpop_private_key" (the consent command writes '
                f"the key the refresh token is bound to): {CONSENT_HINT}",
                tenant="okta",
            )
        return DpopKey(c.dpop_private_key)

    def _token_request(
        self, c: OktaConnection, fields: Mapping[str, str], dpop: DpopKey | None
    ) -> tuple[requests.Response, dict[str, Any]]:
        basic = _basic(c) if c.client_secret else None

        def form() -> dict[str, str]:  # a fresh client assertion on every attempt
            data = dict(fields)
            if basic is None:
                data.update(self._assertion(c))
            return data

        def headers() -> dict[str, str]:
            out = {"Authorization": basic} if basic else {}
            if dpop is not None:
                out["DPoP"] = dpop.proof("POST", c.token_url, nonce=self._dpop_nonce)
            return out

        for _ in range(2):  # at most one use_dpop_nonce round trip (it consumes no token)
            response = self.http.request(
                "POST", c.token_path, auth=False, retry_post=True, data=form, headers=headers, accept=(400, 401, 403)
            )
            body = json_body(response)
            if response.status_code == 400 and body.get("error") == "use_dpop_nonce" and dpop is not None:
                self._dpop_nonce = response.headers.get("DPoP-Nonce")
                continue
            break
        return response, body

    def _assertion(self, c: OktaConnection) -> dict[str, str]:
        spec = c.keys[0]
        key, alg = keys.signing_key(keys.load_private_key(spec.private_key, source=self.vault.where))
        token = client_assertion(
            c.client_id or "", c.token_url, key, alg=keys.check_alg(key, spec.alg) if spec.alg else alg, kid=spec.key_id
        )
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}

    def _grant(self, body: dict[str, Any], dpop: DpopKey | None) -> Grant:
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise UpstreamError("Okta token endpoint answered 200 without an access_token", tenant="okta")
        now = self._clock()
        refresh = body.get("refresh_token")
        return Grant(
            AccessToken(
                value=value,
                token_type=body.get("token_type", "Bearer"),
                expires_at=now + float(body.get("expires_in", 3600)),
                scope=body.get("scope", ""),
                minted_at=now,
                dpop_jwk=dpop.to_jwk() if dpop else None,
            ),
            refresh if isinstance(refresh, str) and refresh else None,
        )

    def _mark_revoked(self, document: dict[str, Any], used: str, lease: LeaseGuard) -> None:
        """Remember in the vault that this refresh token is dead, so that no container presents it
        again (one Okta call per revocation, not one per invocation). Only if the vault still holds
        that token: a consent that ran meanwhile wrote a new one."""
        import hmac

        try:
            fresh = self.vault.read()
            if not hmac.compare_digest(str(fresh.get("refresh_token", "")), used) or not lease.confirm():
                return
            when = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            self.vault.write({**fresh, "refresh_token_revoked": when})
        except Exception as exc:  # the error below is what matters; this only saves later calls
            log.warning("okta refresh: could not mark the refresh token revoked", extra={"error": type(exc).__name__})

    def _error(self, response: requests.Response, body: dict[str, Any], what: str) -> UpstreamError:
        c = self.connection
        code = body.get("error")
        details: UpstreamDetails = {
            "tenant": "okta",
            "status": response.status_code,
            "code": code,
            "request_id": request_id(response),
        }
        detail = str(body.get("error_description") or "")[:300]
        if code == "invalid_grant":
            return ConsentRequired(
                f"Okta refused {what} of app {c.client_id} (invalid_grant: {detail}). The authorization is "
                f"revoked or expired (refresh token reuse detected, 90 days since consent, or an admin revoked "
                f"it): {CONSENT_HINT}",
                **details,
            )
        if code == "unauthorized_client":
            return AuthenticationFailed(
                f"Okta app {c.client_id} may not use this grant: {detail} Tick 'Authorization Code' and "
                "'Refresh Token' in the app's grant types (Applications > the app > General).",
                **details,
            )
        if code == "invalid_client" and c.client_secret:
            return AuthenticationFailed(
                f"Okta rejected the client secret of app {c.client_id}: check 'client_secret' in "
                f"{self.vault.where} (rotated in Okta?)",
                **details,
            )
        return token_error(response, c, c.keys[0].key_id if c.keys else None)


def _basic(c: OktaConnection) -> str:
    """``client_secret_basic`` (RFC 6749 2.3.1: each part form-encoded, then base64)."""
    pair = f"{quote(c.client_id or '', safe='')}:{quote(c.client_secret or '', safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()
