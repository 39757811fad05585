"""Okta state: users, groups, OAuth clients, authorization servers, System Log.

Plain data classes plus :class:`OktaDirectory`, which keeps the indexes (users by id and by
lower-cased login, ids in sorted order for cursor pagination).  No HTTP here.
"""

from __future__ import annotations

import bisect
import uuid
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync_sandbox.jose import NonceManager, SigningKey
from okta_auth0_sync_sandbox.util import iso8601

#: Attributes of Okta's default user profile schema.
BASE_PROFILE_ATTRIBUTES = frozenset(
    {
        "login", "email", "secondEmail", "firstName", "lastName", "middleName", "honorificPrefix",
        "honorificSuffix", "title", "displayName", "nickName", "profileUrl", "primaryPhone",
        "mobilePhone", "streetAddress", "city", "state", "zipCode", "postalAddress", "countryCode",
        "preferredLanguage", "locale", "timezone", "userType", "employeeNumber", "costCenter",
        "organization", "division", "department", "managerId", "manager",
    }
)  # fmt: skip
REQUIRED_PROFILE_ATTRIBUTES = ("login", "email", "firstName", "lastName")
USER_STATUSES = (
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
)


_LOGO = "https://ok12static.oktacdn.com/assets/img/logos/groups"


@dataclass
class OktaUser:
    id: str
    status: str
    created: float
    last_updated: float
    profile: dict[str, Any]
    type_id: str
    provider: dict[str, str] = field(default_factory=lambda: {"type": "OKTA", "name": "OKTA"})
    password: bool = False
    activated: float | None = None
    status_changed: float | None = None
    last_login: float | None = None
    password_changed: float | None = None

    @property
    def login(self) -> str:
        return str(self.profile.get("login", ""))

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.profile.get("firstName"), self.profile.get("lastName")) if p)

    @property
    def federated(self) -> bool:
        return self.provider.get("type") in ("FEDERATION", "SOCIAL")

    def credentials_json(self) -> dict[str, Any]:
        creds: dict[str, Any] = {}
        if self.password:
            creds["password"] = {}
        if self.profile.get("email") and not self.federated:
            creds["emails"] = [{"value": self.profile["email"], "status": "VERIFIED", "type": "PRIMARY"}]
        creds["provider"] = dict(self.provider)
        return creds

    def search_view(self) -> dict[str, Any]:
        """The attributes ``search`` / ``filter`` expressions address."""
        return {
            "id": self.id,
            "status": self.status,
            "created": iso8601(self.created),
            "activated": iso8601(self.activated),
            "statusChanged": iso8601(self.status_changed),
            "lastLogin": iso8601(self.last_login),
            "lastUpdated": iso8601(self.last_updated),
            "passwordChanged": iso8601(self.password_changed),
            "type": {"id": self.type_id},
            "profile": self.profile,
        }

    def to_json(self, base_url: str) -> dict[str, Any]:
        href = f"{base_url}/api/v1/users/{self.id}"
        links: dict[str, Any] = {"self": {"href": href}}
        lifecycle = {
            "STAGED": ("activate",),
            "PROVISIONED": ("reactivate", "deactivate"),
            "ACTIVE": ("suspend", "deactivate"),
            "SUSPENDED": ("unsuspend", "deactivate"),
            "DEPROVISIONED": ("activate",),
        }.get(self.status, ("deactivate",))
        for op in lifecycle:
            links[op] = {"href": f"{href}/lifecycle/{op}", "method": "POST"}
        links["type"] = {"href": f"{base_url}/api/v1/meta/types/user/{self.type_id}"}
        links["schema"] = {"href": f"{base_url}/api/v1/meta/schemas/user/osc{self.type_id[3:]}"}
        return {
            **self.search_view(),
            "profile": dict(self.profile),
            "credentials": self.credentials_json(),
            "_links": links,
        }


@dataclass
class OktaGroup:
    id: str
    created: float
    last_updated: float
    last_membership_updated: float
    profile: dict[str, Any]
    type: str = "OKTA_GROUP"
    members: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return str(self.profile.get("name", ""))

    def to_json(self, base_url: str) -> dict[str, Any]:
        href = f"{base_url}/api/v1/groups/{self.id}"
        return {
            "id": self.id,
            "created": iso8601(self.created),
            "lastUpdated": iso8601(self.last_updated),
            "lastMembershipUpdated": iso8601(self.last_membership_updated),
            "objectClass": ["okta:user_group"],
            "type": self.type,
            "profile": dict(self.profile),
            "_links": {
                "logo": [
                    {"name": size, "href": f"{_LOGO}/okta-{size}.png", "type": "image/png"}
                    for size in ("medium", "large")
                ],
                "users": {"href": f"{href}/users"},
                "apps": {"href": f"{href}/apps"},
            },
        }


@dataclass
class OAuthClient:
    """A client of an authorization server (org AS: an API Services app)."""

    client_id: str
    name: str
    scopes: set[str]
    dpop_bound: bool = False
    auth_method: str = "private_key_jwt"  # or "client_secret" (custom AS, and web apps on the org AS)
    keys: list[dict[str, Any]] = field(default_factory=list)  # public JWKs
    secret_hashes: list[str] = field(default_factory=list)
    # An OIDC web app (org AS, authorization code + refresh token; see sandbox.okta.grants)
    app_type: str = "service"  # or "web"
    redirect_uris: list[str] = field(default_factory=list)
    grant_types: set[str] = field(default_factory=lambda: {"client_credentials"})
    pkce_required: bool = True
    refresh_rotation: str = "ROTATE"  # or "STATIC"
    refresh_leeway: int = 30  # seconds a rotated refresh token stays valid (0-60)

    def public_view(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "dpop_bound": self.dpop_bound,
            "token_endpoint_auth_method": self.auth_method,
            "key_ids": [k.get("kid") for k in self.keys],
            "secrets": len(self.secret_hashes),
            "app_type": self.app_type,
            "grant_types": sorted(self.grant_types),
            "redirect_uris": list(self.redirect_uris),
            "refresh_token": {"rotation_type": self.refresh_rotation, "leeway": self.refresh_leeway},
        }


@dataclass
class AuthorizationServer:
    """The org authorization server (``id`` None) or a custom one (``aus…``)."""

    id: str | None
    name: str
    audience: str | None
    scopes: set[str]
    keys: list[SigningKey]  # active key first
    nonces: NonceManager
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    token_lifetime: int = 3600

    def path(self) -> str:
        return "/oauth2" if self.id is None else f"/oauth2/{self.id}"

    def issuer(self, base_url: str) -> str:
        return base_url if self.id is None else f"{base_url}/oauth2/{self.id}"

    def token_audience(self, base_url: str) -> str:
        return self.audience or base_url


@dataclass
class LogEvent:
    seq: int
    published: float
    event: dict[str, Any]


class OktaDirectory:
    """Users and groups with the indexes the API needs."""

    def __init__(self) -> None:
        self.users: dict[str, OktaUser] = {}
        self.by_login: dict[str, str] = {}
        self.sorted_ids: list[str] = []
        self.groups: dict[str, OktaGroup] = {}

    def add_user(self, user: OktaUser) -> None:
        self.users[user.id] = user
        self.by_login[user.login.lower()] = user.id
        bisect.insort(self.sorted_ids, user.id)

    def remove_user(self, user_id: str) -> None:
        user = self.users.pop(user_id)
        self.by_login.pop(user.login.lower(), None)
        i = bisect.bisect_left(self.sorted_ids, user_id)
        if i < len(self.sorted_ids) and self.sorted_ids[i] == user_id:
            del self.sorted_ids[i]
        for group in self.groups.values():
            group.members.discard(user_id)

    def find_user(self, id_or_login: str) -> OktaUser | None:
        user = self.users.get(id_or_login)
        if user is not None:
            return user
        uid = self.by_login.get(id_or_login.lower())
        return self.users.get(uid) if uid else None

    def users_after(self, after: str | None) -> list[str]:
        """Ids in cursor order, strictly after ``after``."""
        if not after:
            return self.sorted_ids
        return self.sorted_ids[bisect.bisect_right(self.sorted_ids, after) :]


def new_uuid() -> str:
    return str(uuid.uuid4())
