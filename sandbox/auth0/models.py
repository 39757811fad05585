"""Auth0 state: connections, users, roles, clients and APIs (resource servers).

Users are stored as the JSON object the Management API returns (Auth0 users are
schemaless beyond a few root attributes), indexed by ``user_id`` and by exact email.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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

    @staticmethod
    def copy_user(user: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(user)
