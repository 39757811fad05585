"""Auth0 state: connections, users, roles, clients and APIs (resource servers), user
sessions and refresh tokens.

Users are stored as the JSON object the Management API returns (Auth0 users are
schemaless beyond a few root attributes), indexed by ``user_id`` and by exact email.
A refresh token is one object that both API families show: ``/refresh-tokens`` (Enterprise)
and ``/device-credentials`` (type ``refresh_token`` or ``rotating_refresh_token``).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from okta_auth0_sync_sandbox.util import iso8601

#: Root attributes PATCH /api/v2/users/{id} accepts.
PATCHABLE = frozenset(
    {
        "blocked", "email_verified", "email", "phone_number", "phone_verified", "user_metadata",
        "app_metadata", "given_name", "family_name", "name", "nickname", "picture", "verify_email",
        "verify_phone_number", "password", "connection", "client_id", "username",
    }
)  # fmt: skip
#: Root profile attributes an enterprise/social connection owns (synced at each login).
SYNCED_PROFILE = frozenset(
    {"email", "given_name", "family_name", "name", "nickname", "picture", "username", "phone_number"}
)
#: Names app_metadata may not use.
RESERVED_APP_METADATA = frozenset(
    {
        "__tenant", "_id", "blocked", "clientID", "created_at", "email_verified", "email",
        "globalClientID", "global_client_id", "identities", "lastIP", "lastLogin", "loginsCount",
        "metadata", "multifactor", "name", "nickname", "picture", "user_id", "updated_at", "username",
    }
)  # fmt: skip
DATABASE_STRATEGIES = frozenset({"auth0", "email", "sms"})
#: What a simulated login's browser looks like (sessions' and refresh tokens' ``device``).
LOGIN_IP = "203.0.113.10"
LOGIN_DEVICE = {
    "initial_user_agent": "Mozilla/5.0 (X11; Linux x86_64) SandboxBrowser/1.0",
    "initial_ip": LOGIN_IP,
    "initial_asn": "64496",
    "last_user_agent": "Mozilla/5.0 (X11; Linux x86_64) SandboxBrowser/1.0",
    "last_ip": LOGIN_IP,
    "last_asn": "64496",
}


@dataclass
class Connection:
    id: str
    name: str
    strategy: str

    @property
    def is_social(self) -> bool:
        return self.strategy in ("google-oauth2", "github", "facebook", "apple", "windowslive", "linkedin")

    @property
    def provider(self) -> str:
        return self.strategy


@dataclass
class Role:
    id: str
    name: str
    description: str = ""
    members: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description}


@dataclass
class Client:
    client_id: str
    name: str
    #: audience -> granted scopes
    grants: dict[str, set[str]] = field(default_factory=dict)
    auth_method: str = "client_secret_post"  # or client_secret_basic / private_key_jwt
    secret_hashes: list[str] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)

    def public_view(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "token_endpoint_auth_method": self.auth_method,
            "grants": {aud: sorted(s) for aud, s in self.grants.items()},
            "secrets": len(self.secret_hashes),
            "key_ids": [k.get("kid") for k in self.keys],
        }


@dataclass
class ResourceServer:
    identifier: str
    name: str
    scopes: set[str]
    token_lifetime: int = 86400


@dataclass
class Session:
    """An Auth0 session (the ``sid`` of ID and logout tokens). Times are epoch seconds."""

    id: str
    user_id: str
    client_ids: list[str]
    created_at: float
    idle_expires_at: float
    expires_at: float
    authentication_method: str = "pwd"  # "federated" for enterprise and social connections

    def active(self, now: float) -> bool:
        return now < min(self.idle_expires_at, self.expires_at)

    def to_json(self) -> dict[str, Any]:
        created = iso8601(self.created_at)
        return {
            "id": self.id,
            "user_id": self.user_id,
            "created_at": created,
            "updated_at": created,
            "authenticated_at": created,
            "idle_expires_at": iso8601(self.idle_expires_at),
            "expires_at": iso8601(self.expires_at),
            "last_interacted_at": created,
            "device": dict(LOGIN_DEVICE),
            "clients": [{"client_id": c} for c in self.client_ids],
            "authentication": {"methods": [{"name": self.authentication_method, "timestamp": created}]},
            "cookie": {"mode": "non-persistent"},
        }


@dataclass
class RefreshToken:
    """A refresh token. Only a hash of its value is kept; a rotating token remembers the hashes
    of the values it replaced (presenting one again is reuse: the token is revoked)."""

    id: str  # dcr_…: the same id in /refresh-tokens and /device-credentials
    user_id: str
    client_id: str
    session_id: str | None
    rotating: bool
    resource_servers: list[dict[str, str]]
    created_at: float
    idle_expires_at: float
    expires_at: float
    value_hash: str
    retired_hashes: set[str] = field(default_factory=set)
    last_exchanged_at: float | None = None

    @property
    def credential_type(self) -> str:
        return "rotating_refresh_token" if self.rotating else "refresh_token"

    @property
    def scope(self) -> str:
        return " ".join(rs["scopes"] for rs in self.resource_servers)

    def active(self, now: float) -> bool:
        return now < min(self.idle_expires_at, self.expires_at)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "user_id": self.user_id,
            "created_at": iso8601(self.created_at),
            "idle_expires_at": iso8601(self.idle_expires_at),
            "expires_at": iso8601(self.expires_at),
            "device": dict(LOGIN_DEVICE),
            "client_id": self.client_id,
            "session_id": self.session_id,
            "rotating": self.rotating,
            "resource_servers": [dict(rs) for rs in self.resource_servers],
        }
        if self.last_exchanged_at is not None:
            body["last_exchanged_at"] = iso8601(self.last_exchanged_at)
        return body

    def device_credential(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device_name": "SandboxBrowser",
            "device_id": "",
            "type": self.credential_type,
            "user_id": self.user_id,
            "client_id": self.client_id,
        }


def gravatar(email: str | None, name: str | None) -> str:
    digest = hashlib.md5((email or "").strip().lower().encode()).hexdigest()  # noqa: S324 (gravatar URL scheme)
    initials = "".join(p[0] for p in (name or email or "?").split()[:2]).lower() or "x"
    fallback = quote(f"https://cdn.auth0.com/avatars/{initials[:2]}.png", safe="")
    return f"https://s.gravatar.com/avatar/{digest}?s=480&r=pg&d={fallback}"


class Auth0Store:
    """Users (JSON objects), connections and roles, with the lookups the API needs."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, list[str]] = {}
        self.connections: dict[str, Connection] = {}
        self.roles: dict[str, Role] = {}
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        #: sha256 of a refresh-token value (current or retired) -> token id
        self.refresh_by_hash: dict[str, str] = {}

    def add_user(self, user: dict[str, Any]) -> None:
        if user["user_id"] in self.users:
            raise ValueError(f"user {user['user_id']} already exists")
        self.users[user["user_id"]] = user
        if user.get("email"):
            self.by_email.setdefault(user["email"], []).append(user["user_id"])

    def reindex_email(self, user_id: str, old: str | None, new: str | None) -> None:
        if old and user_id in self.by_email.get(old, []):
            self.by_email[old].remove(user_id)
            if not self.by_email[old]:
                del self.by_email[old]
        if new:
            self.by_email.setdefault(new, []).append(user_id)

    def connection_of(self, user: dict[str, Any]) -> Connection | None:
        identities = user.get("identities") or []
        name = identities[0].get("connection") if identities else None
        return self.connections.get(name) if name else None

    def add_refresh_token(self, token: RefreshToken) -> None:
        self.refresh_tokens[token.id] = token
        self.refresh_by_hash[token.value_hash] = token.id

    def remove_refresh_token(self, token_id: str) -> None:
        token = self.refresh_tokens.pop(token_id, None)
        if token is not None:
            for digest in (token.value_hash, *token.retired_hashes):
                self.refresh_by_hash.pop(digest, None)

    @staticmethod
    def copy_user(user: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(user)
