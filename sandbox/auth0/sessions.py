"""User sessions and refresh tokens: simulated logins, the refresh-token grant, revocation.

A login (Python API only: there is no browser flow) creates a :class:`Session` and, with
``offline_access``, a :class:`RefreshToken`. The token is one object behind both API
families: ``/api/v2/refresh-tokens`` (Enterprise plans) and ``/api/v2/device-credentials``
(every plan, type ``refresh_token`` or ``rotating_refresh_token``); deleting it through either
revokes it. Sessions and refresh tokens are separate, as in Auth0: deleting a session leaves
its refresh tokens working (``POST /sessions/{id}/revoke`` and ``revoke-access`` end both).

Revocation is immediate here; Auth0 answers ``202`` and is eventually consistent.
Blocking a user deletes nothing: exchanges are refused while ``blocked`` is true.

Callers hold the tenant lock; rule violations raise :class:`~sandbox.server.HTTPError` with
Auth0's bodies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.auth0 import errors
from okta_auth0_sync_sandbox.auth0.models import LOGIN_IP, Client, RefreshToken, Session
from okta_auth0_sync_sandbox.jose import random_token, sha256_hex
from okta_auth0_sync_sandbox.server import HTTPError
from okta_auth0_sync_sandbox.util import iso8601, random_id

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.models import Auth0Store
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

# Auth0's tenant defaults: session inactivity 3 days, absolute 7 days; refresh tokens
# inactivity 15 days (1,296,000 s), absolute 30 days (2,592,000 s).
SESSION_IDLE, SESSION_LIFETIME = 3 * 86400, 7 * 86400
REFRESH_IDLE, REFRESH_LIFETIME = 15 * 86400, 30 * 86400
LOGIN_SCOPE = "openid profile email offline_access"
INVALID_REFRESH = "Unknown or invalid refresh token."
DATABASE_METHOD = {"auth0": "pwd", "email": "email", "sms": "sms"}


def invalid_grant(description: str) -> HTTPError:
    return errors.oauth_error(403, "invalid_grant", description)


class SessionService:
    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant

    @property
    def store(self) -> Auth0Store:
        return self.tenant.service.store

    # -- logins and the refresh-token grant ----------------------------------------------------
    def login(self, user: dict[str, Any], client: Client, *, rotating: bool, offline_access: bool) -> dict[str, Any]:
        """A successful interactive login: a new session and, with ``offline_access``, a refresh
        token. Returns ``{"session_id", "refresh_token" (the value), "refresh_token_id"}``."""
        if user.get("blocked"):
            raise errors.oauth_error(401, "unauthorized", "user is blocked")
        now = self.tenant.now()
        session = self._new_session(user, client, now)
        result: dict[str, Any] = {"session_id": session.id, "refresh_token": None, "refresh_token_id": None}
        if offline_access:
            value = self._new_value()
            token = RefreshToken(
                id=random_id("dcr_", 20),
                user_id=user["user_id"],
                client_id=client.client_id,
                session_id=session.id,
                rotating=rotating,
                resource_servers=[{"audience": f"https://{self.tenant.domain}/userinfo", "scopes": LOGIN_SCOPE}],
                created_at=now,
                idle_expires_at=now + REFRESH_IDLE,
                expires_at=now + REFRESH_LIFETIME,
                value_hash=sha256_hex(value),
            )
            self.store.add_refresh_token(token)
            result.update(refresh_token=value, refresh_token_id=token.id)
        self._record_login(user, now)
        return result

    def _new_session(self, user: dict[str, Any], client: Client, now: float) -> Session:
        conn = self.store.connection_of(user)
        strategy = conn.strategy if conn else "auth0"
        session = Session(
            id=random_token(24),
            user_id=user["user_id"],
            client_ids=[client.client_id],
            created_at=now,
            idle_expires_at=now + SESSION_IDLE,
            expires_at=now + SESSION_LIFETIME,
            authentication_method=DATABASE_METHOD.get(strategy, "federated"),
        )
        self.store.sessions[session.id] = session
        return session

    @staticmethod
    def _record_login(user: dict[str, Any], now: float) -> None:
        user["last_login"] = iso8601(now)
        user["last_ip"] = LOGIN_IP
        user["logins_count"] = int(user.get("logins_count", 0)) + 1

    @staticmethod
    def _new_value() -> str:
        return "v1." + random_token(54)

    def _by_hash(self, digest: str) -> RefreshToken | None:
        token = self.store.refresh_tokens.get(self.store.refresh_by_hash.get(digest, ""))
        return token if token is not None and token.active(self.tenant.now()) else None

    def live_token(self, value: str) -> RefreshToken | None:
        """The unexpired token whose *current* value is ``value`` (ignores the user's block)."""
        digest = sha256_hex(value)
        token = self._by_hash(digest)
        return token if token is not None and token.value_hash == digest else None

    def exchange(self, client: Client, value: str) -> tuple[RefreshToken, str | None]:
        """``grant_type=refresh_token``: the token and, for a rotating one, its new value. A
        rotated-out value presented again is reuse: the token is revoked (Auth0's reuse detection)."""
        digest = sha256_hex(value)
        token = self._by_hash(digest)
        if token is not None and token.value_hash != digest:
            self.store.remove_refresh_token(token.id)
            token = None
        user = self.store.users.get(token.user_id) if token else None
        if token is None or user is None or token.client_id != client.client_id:
            raise invalid_grant(INVALID_REFRESH)
        if user.get("blocked"):
            raise invalid_grant("user is blocked")
        now = self.tenant.now()
        token.last_exchanged_at = now
        token.idle_expires_at = min(now + REFRESH_IDLE, token.expires_at)
        return token, self._rotate(token) if token.rotating else None

    def _rotate(self, token: RefreshToken) -> str:
        value = self._new_value()
        token.retired_hashes.add(token.value_hash)
        token.value_hash = sha256_hex(value)
        self.store.refresh_by_hash[token.value_hash] = token.id
        return value

    # -- reading ------------------------------------------------------------------------------
    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.store.users.get(user_id)
        if user is None:
            raise errors.not_found("User not found", "inexistent_user")
        return user

    def user_sessions(self, user_id: str) -> list[Session]:
        """A user's live sessions, ordered by id (404 for an unknown user)."""
        self._user(user_id)
        now = self.tenant.now()
        return sorted(
            (s for s in self.store.sessions.values() if s.user_id == user_id and s.active(now)), key=lambda s: s.id
        )

    def user_tokens(self, user_id: str) -> list[RefreshToken]:
        """A user's live refresh tokens, ordered by id (404 for an unknown user)."""
        self._user(user_id)
        return self.tokens(user_id=user_id)

    def tokens(
        self, *, user_id: str | None = None, client_id: str | None = None, kind: str | None = None
    ) -> list[RefreshToken]:
        now = self.tenant.now()
        found = [
            t
            for t in self.store.refresh_tokens.values()
            if t.active(now)
            and (user_id is None or t.user_id == user_id)
            and (client_id is None or t.client_id == client_id)
            and (kind is None or t.credential_type == kind)
        ]
        return sorted(found, key=lambda t: t.id)

    def session(self, session_id: str) -> Session:
        session = self.store.sessions.get(session_id)
        if session is None or not session.active(self.tenant.now()):
            raise errors.not_found("Session not found", "inexistent_session")
        return session

    def token(self, token_id: str) -> RefreshToken:
        token = self.store.refresh_tokens.get(token_id)
        if token is None or not token.active(self.tenant.now()):
            raise errors.not_found("Refresh token not found", "inexistent_refresh_token")
        return token

    # -- revoking ------------------------------------------------------------------------------
    def delete_sessions(self, session_ids: Iterable[str], *, with_tokens: bool = False) -> None:
        """End sessions (unknown ids are ignored); ``with_tokens`` also revokes their refresh tokens."""
        ended = {sid for sid in session_ids if self.store.sessions.pop(sid, None) is not None}
        if with_tokens:
            self.delete_tokens(t.id for t in list(self.store.refresh_tokens.values()) if t.session_id in ended)

    def delete_tokens(self, token_ids: Iterable[str]) -> None:
        for token_id in list(token_ids):
            self.store.remove_refresh_token(token_id)

    def revoke_access(self, user_id: str, session_id: str | None, preserve_refresh_tokens: bool) -> None:
        """``POST /users/{id}/revoke-access``: one session (``session_id``) or all of them, and
        unless ``preserve_refresh_tokens`` the refresh tokens of those sessions (all of the user's
        tokens when no ``session_id`` is given: the OAS leaves the empty body undocumented)."""
        owned = [s.id for s in self.store.sessions.values() if s.user_id == user_id]
        if session_id is not None:
            self.delete_sessions([session_id] if session_id in owned else [], with_tokens=not preserve_refresh_tokens)
            return
        self.delete_sessions(owned)
        if not preserve_refresh_tokens:
            self.delete_tokens(t.id for t in self.store.refresh_tokens.values() if t.user_id == user_id)
