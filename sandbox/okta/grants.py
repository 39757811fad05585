"""Okta's authorization code flow for OIDC web apps, and refresh-token families.

``GET /oauth2/v1/authorize`` (org authorization server)
    ``client_id`` (a web app), ``response_type=code``, ``redirect_uri`` (exactly one of the app's
    sign-in redirect URIs), ``state`` (required; letters, digits, ``, . _ -``), ``scope`` (the
    app's granted ``okta.*`` scopes plus ``offline_access``/``openid``), ``code_challenge`` with
    ``code_challenge_method=S256`` (the only method; required when the app requires PKCE).
    An unknown client or an unregistered redirect URI is an error page (never a redirect, RFC 6749
    §4.1.2.1); every other error is a redirect with ``error``, ``error_description`` and ``state``.
    There is no browser: the sandbox "signs in" an admin through its test-only admin endpoint
    (``POST /__sandbox/oauth/sign-in``, :meth:`OktaTenant.sign_in`); without one, ``/authorize``
    answers Okta's sign-in page (200 HTML) and issues nothing. The code lives 300 s and is single
    use: presenting it again is ``invalid_grant`` and revokes every token issued from it (RFC 6749
    §4.1.2).

``POST /oauth2/v1/token``
    ``grant_type=authorization_code`` (``code``, ``redirect_uri``, ``code_verifier``) and
    ``grant_type=refresh_token`` (``refresh_token``, optional narrower ``scope``), with the app's
    client authentication (client secret, basic or post, or ``private_key_jwt``) and DPoP when the
    app requires it (the refresh token is then bound to the proof key).

Refresh tokens form a *family* per sign-in, valid 90 days from it (a rotated token keeps the
family's expiry). With rotation ``ROTATE`` each use returns a new token; the used one stays valid
for the app's ``leeway`` (grace period, default 30 s, read from the tenant's clock, so it scales
with a :class:`~okta_auth0_sync_sandbox.clock.FakeClock`). Presenting a rotated token after its
grace period is reuse: the whole family is revoked (every refresh token, and every access token
issued from it), ``app.oauth2.token.detect_reuse`` is written to the System Log, and the answer is
``invalid_grant``. With ``STATIC`` the token never changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from okta_auth0_sync_sandbox.jose import random_token, sha256_hex
from okta_auth0_sync_sandbox.okta.errors import oauth_error
from okta_auth0_sync_sandbox.server import Request, Response

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.okta.models import OAuthClient
    from okta_auth0_sync_sandbox.okta.tenant import OktaTenant

CODE_LIFETIME = 300
REFRESH_LIFETIME = 90 * 86400
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
_STATE = re.compile(r"^[A-Za-z0-9,._-]{1,1024}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
INVALID_REFRESH = "The refresh token is invalid or expired."
INVALID_CODE = "The authorization code is invalid or has expired."
_GRANT_NOT_ALLOWED = "The client is not authorized to use the provided grant type."


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str | None
    scopes: list[str]
    user_id: str
    expires_at: float
    used: bool = False
    family_id: str | None = None  # the tokens issued from it (revoked if the code is replayed)


@dataclass
class Family:
    """The tokens of one sign-in: the current refresh token, the rotated ones (with when), and the
    access tokens issued from it."""

    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    jkt: str | None
    expires_at: float
    current: str | None = None  # hash of the valid refresh token (None: no offline_access)
    rotated: dict[str, float] = field(default_factory=dict)  # hash -> when it was replaced
    access_jtis: set[str] = field(default_factory=set)
    revoked: str | None = None  # why ("reuse", "code_replay", "admin")
    refreshes: int = 0


class Grants:
    """Codes and refresh-token families of the org authorization server (cleared on reset)."""

    def __init__(self, tenant: OktaTenant) -> None:
        self.tenant = tenant
        self.lock = threading.RLock()
        self.codes: dict[str, AuthCode] = {}
        self.families: dict[str, Family] = {}
        self.by_refresh: dict[str, str] = {}  # refresh token hash -> family id
        self.revoked_jtis: set[str] = set()
        self.signed_in: tuple[str, str] | None = None  # (user id, "approve" | "deny")

    def clear(self) -> None:
        with self.lock:
            self.codes.clear()
            self.families.clear()
            self.by_refresh.clear()
            self.revoked_jtis.clear()
            self.signed_in = None

    # -- /authorize -----------------------------------------------------------------------------
    def authorize(self, request: Request) -> Response:
        server = self.tenant.org_as
        client_id = request.arg("client_id") or ""
        client = server.clients.get(client_id)
        if client is None or client.app_type != "web":
            return _error_page(400, "invalid_client", "Invalid value for 'client_id' parameter.")
        redirect_uri = request.arg("redirect_uri") or ""
        if redirect_uri not in client.redirect_uris:
            return _error_page(
                400,
                "invalid_request",
                "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
            )
        state = request.arg("state")
        if state is None or not _STATE.match(state):
            return _redirect(redirect_uri, None, error="invalid_request", error_description=_STATE_MESSAGE)
        problem = self._authorize_problem(request, client)
        if problem:
            return _redirect(redirect_uri, state, error=problem[0], error_description=problem[1])
        with self.lock:
            signed_in = self.signed_in
        if signed_in is None:
            return _sign_in_page()
        user_id, decision = signed_in
        if decision != "approve":
            return _redirect(
                redirect_uri, state, error="access_denied", error_description="The resource owner denied the request."
            )
        code = random_token(32)
        scopes = [s for s in (request.arg("scope") or "").split(" ") if s]
        with self.lock:
            self.codes[sha256_hex(code)] = AuthCode(
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                challenge=request.arg("code_challenge"),
                scopes=list(dict.fromkeys(scopes)),
                user_id=user_id,
                expires_at=self.tenant.now() + CODE_LIFETIME,
            )
        return _redirect(redirect_uri, state, code=code)

    def _authorize_problem(self, request: Request, client: OAuthClient) -> tuple[str, str] | None:
        if request.arg("response_type") != "code":
            return "unsupported_response_type", "The response type is not supported by the authorization server."
        if "authorization_code" not in client.grant_types:
            return "unauthorized_client", _GRANT_NOT_ALLOWED
        scopes = [s for s in (request.arg("scope") or "").split(" ") if s]
        if not scopes or len(request.arg("scope") or "") > 4096:
            return "invalid_scope", "The authorization server resource does not have any configured default scopes."
        if any(s not in client.scopes and s not in OIDC_SCOPES for s in scopes):
            return "invalid_scope", "One or more scopes are not configured for the authorization server resource."
        method, challenge = request.arg("code_challenge_method"), request.arg("code_challenge")
        if challenge is None and method is None:
            if client.pkce_required:
                return "invalid_request", "PKCE code challenge is required by the client."
            return None
        if method != "S256":
            return "invalid_request", "'code_challenge_method' is invalid. Must be 'S256'."
        if challenge is None or not _CHALLENGE.match(challenge):
            return "invalid_request", "'code_challenge' is invalid."
        return None

    # -- /token: authorization_code --------------------------------------------------------------
    def exchange_code(self, form: dict[str, str], client: OAuthClient, jkt: str | None) -> dict[str, Any]:
        code = form.get("code") or ""
        with self.lock:
            entry = self.codes.get(sha256_hex(code)) if code else None
            if entry is None or entry.client_id != client.client_id:
                raise oauth_error(400, "invalid_grant", INVALID_CODE)
            if entry.used:  # RFC 6749 4.1.2: replay revokes what the code produced
                if entry.family_id:
                    self._revoke(entry.family_id, "code_replay")
                raise oauth_error(400, "invalid_grant", INVALID_CODE)
            entry.used = True
            if self.tenant.now() >= entry.expires_at:
                raise oauth_error(400, "invalid_grant", INVALID_CODE)
            if form.get("redirect_uri") != entry.redirect_uri:
                raise oauth_error(
                    400,
                    "invalid_grant",
                    "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
                )
            verifier = form.get("code_verifier")
            if entry.challenge is not None or verifier is not None:
                if verifier is None or not _VERIFIER.match(verifier):
                    raise oauth_error(400, "invalid_grant", "PKCE verification failed.")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if entry.challenge is None or not hmac.compare_digest(digest, entry.challenge):
                    raise oauth_error(400, "invalid_grant", "PKCE verification failed.")
            now = self.tenant.now()
            family = Family(
                id=random_token(12),
                client_id=client.client_id,
                user_id=entry.user_id,
                scopes=entry.scopes,
                jkt=jkt,
                expires_at=now + REFRESH_LIFETIME,
            )
            self.families[family.id] = family
            entry.family_id = family.id
            refresh = None
            if "offline_access" in entry.scopes and "refresh_token" in client.grant_types:
                refresh = self._new_refresh(family)
            return self._issue(family, family.scopes, refresh)

    # -- /token: refresh_token -------------------------------------------------------------------
    def refresh(self, form: dict[str, str], client: OAuthClient, jkt: str | None) -> dict[str, Any]:
        presented = form.get("refresh_token")
        if not presented:
            raise oauth_error(400, "invalid_request", "The 'refresh_token' parameter is required.")
        if "refresh_token" not in client.grant_types:
            raise oauth_error(400, "unauthorized_client", _GRANT_NOT_ALLOWED)
        digest = sha256_hex(presented)
        with self.lock:
            family = self.families.get(self.by_refresh.get(digest, ""))
            now = self.tenant.now()
            if family is None or family.client_id != client.client_id or family.revoked or now >= family.expires_at:
                raise oauth_error(400, "invalid_grant", INVALID_REFRESH)
            if family.jkt is not None and not (jkt and hmac.compare_digest(jkt, family.jkt)):
                raise oauth_error(
                    400, "invalid_dpop_proof", "The DPoP proof JWT key does not match the refresh token binding."
                )
            if digest != family.current:
                rotated_at = family.rotated.get(digest)
                if rotated_at is None or now > rotated_at + client.refresh_leeway:
                    self._revoke(family.id, "reuse")
                    self.tenant.service.emit(
                        "app.oauth2.token.detect_reuse",
                        None,
                        [{"id": client.client_id, "type": "PublicClientApp", "alternateId": client.name}],
                        outcome="FAILURE",
                        reason="refresh token reuse detected",
                    )
                    raise oauth_error(400, "invalid_grant", INVALID_REFRESH)
            scopes = family.scopes
            requested = [s for s in (form.get("scope") or "").split(" ") if s]
            if requested:
                if any(s not in family.scopes for s in requested):
                    raise oauth_error(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
                scopes = requested
            family.refreshes += 1
            refresh = presented if client.refresh_rotation == "STATIC" else self._new_refresh(family)
            return self._issue(family, scopes, refresh)

    # -- internals -------------------------------------------------------------------------------
    def _new_refresh(self, family: Family) -> str:
        token = random_token(32)
        digest = sha256_hex(token)
        if family.current is not None:
            family.rotated[family.current] = self.tenant.now()
        family.current = digest
        self.by_refresh[digest] = family.id
        return token

    def _issue(self, family: Family, scopes: list[str], refresh: str | None) -> dict[str, Any]:
        server = self.tenant.org_as
        now = self.tenant.now()
        user = self.tenant.service.directory.users.get(family.user_id)
        jti = f"AT.{random_token(32)}"
        claims: dict[str, Any] = {
            "ver": 1,
            "jti": jti,
            "iss": server.issuer(self.tenant.base_url),
            "aud": server.token_audience(self.tenant.base_url),
            "iat": int(now),
            "exp": int(now) + server.token_lifetime,
            "cid": family.client_id,
            "uid": family.user_id,
            "scp": scopes,
            "sub": user.login if user else family.user_id,
        }
        if family.jkt:
            claims["cnf"] = {"jkt": family.jkt}
        family.access_jtis.add(jti)
        body: dict[str, Any] = {
            "token_type": "DPoP" if family.jkt else "Bearer",
            "expires_in": server.token_lifetime,
            "access_token": server.keys[0].sign(claims),
            "scope": " ".join(scopes),
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        return body

    def _revoke(self, family_id: str, why: str) -> None:
        family = self.families[family_id]
        if family.revoked is None:
            family.revoked = why
        self.revoked_jtis |= family.access_jtis

    # -- Python API ------------------------------------------------------------------------------
    def access_token_revoked(self, jti: Any) -> bool:
        with self.lock:
            return isinstance(jti, str) and jti in self.revoked_jtis

    def valid_refresh_tokens(self, client_id: str) -> int:
        """How many refresh tokens of this client would be accepted right now (grace included)."""
        now = self.tenant.now()
        leeway = self.tenant.org_as.clients[client_id].refresh_leeway
        with self.lock:
            count = 0
            for family in self.families.values():
                if family.client_id != client_id or family.revoked or now >= family.expires_at:
                    continue
                count += family.current is not None
                count += sum(1 for at in family.rotated.values() if now <= at + leeway)
            return count

    def revoke_all(self, client_id: str) -> int:
        """Revoke every family of a client (an admin clearing the app's tokens); how many."""
        with self.lock:
            ids = [f.id for f in self.families.values() if f.client_id == client_id and not f.revoked]
            for family_id in ids:
                self._revoke(family_id, "admin")
            return len(ids)


_STATE_MESSAGE = "The 'state' parameter is required and may contain only letters, digits and , . _ -"


def _redirect(redirect_uri: str, state: str | None, **params: str) -> Response:
    query = dict(params)
    if state is not None:
        query["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{separator}{urlencode(query)}"
    return Response(302, b"", [("Location", location), ("Cache-Control", "no-store")])


def _error_page(status: int, error: str, description: str) -> Response:
    page = (
        f"<html><head><title>Okta - Error</title></head><body><h1>{escape(error)}</h1>"
        f"<p id='error-summary'>{escape(description)}</p></body></html>"
    )
    return Response(status, page.encode(), [("Content-Type", "text/html;charset=utf-8"), ("Cache-Control", "no-store")])


def _sign_in_page() -> Response:
    page = (
        "<html><head><title>Okta - Sign In</title></head><body><form id='okta-sign-in'>"
        "<input name='identifier'/><input type='password' name='credentials.passcode'/></form>"
        "<p>Sign in to continue (sandbox: POST /__sandbox/oauth/sign-in first).</p></body></html>"
    )
    return Response(200, page.encode(), [("Content-Type", "text/html;charset=utf-8"), ("Cache-Control", "no-store")])
