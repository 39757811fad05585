"""Auth0 domain operations: building users from the fixture, PATCH semantics, roles.

Callers hold the tenant lock; rule violations raise :class:`~sandbox.server.HTTPError`
with Auth0's error body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.auth0 import errors
from okta_auth0_sync_sandbox.auth0.models import (
    DATABASE_STRATEGIES,
    PATCHABLE,
    RESERVED_APP_METADATA,
    SYNCED_PROFILE,
    Auth0Store,
    Connection,
    Role,
    gravatar,
)
from okta_auth0_sync_sandbox.util import iso8601, maybe_time, random_hex, random_id

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

_TYPE_NAMES = {bool: "boolean", dict: "object", list: "array", str: "string", int: "integer", float: "number"}


def json_type(value: Any) -> str:
    return "null" if value is None else _TYPE_NAMES.get(type(value), "unknown")


class Auth0Service:
    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant
        self.store = Auth0Store()

    # -- fixture -------------------------------------------------------------------------
    def load(self, fixture: dict[str, Any]) -> None:
        self.store = Auth0Store()
        for spec in fixture.get("connections", []):
            conn = Connection(spec.get("id") or random_id("con_", 20), spec["name"], spec.get("strategy", "auth0"))
            self.store.connections[conn.name] = conn
        now = self.tenant.now()
        for spec in fixture.get("users", []):
            self.store.add_user(self.build_user(spec, now))
        for spec in fixture.get("roles", []):
            role = Role(spec.get("id") or random_id("rol_", 20), spec["name"], spec.get("description", ""))
            role.members = {m for m in spec.get("members", []) if m in self.store.users}
            self.store.roles[role.id] = role

    def connection(self, name: str) -> Connection:
        conn = self.store.connections.get(name)
        if conn is None:
            raise ValueError(f"unknown connection {name!r}")
        return conn

    def build_user(self, spec: dict[str, Any], now: float) -> dict[str, Any]:
        """A full user object from a fixture-style spec (``connection`` picks identities)."""
        spec = dict(spec)
        conn = self.connection(spec.pop("connection", "Username-Password-Authentication"))
        user_id = spec.pop("user_id", None)
        if user_id is None:
            local = random_hex(12) if conn.strategy == "auth0" else random_id("", 20)
            user_id = f"{conn.strategy}|{local}"
        provider, _, local_id = user_id.partition("|")
        email = spec.get("email")
        if email and conn.strategy in DATABASE_STRATEGIES:
            email = email.lower()  # Auth0 stores database-connection emails lower-cased
        created = maybe_time(spec.pop("created_at", None), now) or now
        updated = maybe_time(spec.pop("updated_at", None), created) or created
        last_login = maybe_time(spec.pop("last_login", None), None)
        user: dict[str, Any] = {"user_id": user_id}
        if email:
            user["email"] = email
            user["email_verified"] = bool(spec.pop("email_verified", True))
        name = spec.pop("name", None) or email or user_id
        user["name"] = name
        for key in ("given_name", "family_name"):
            if spec.get(key):
                user[key] = spec.pop(key)
        user["nickname"] = spec.pop("nickname", None) or (email.split("@")[0] if email else name)
        user["picture"] = spec.pop("picture", None) or gravatar(email, name)
        user["identities"] = spec.pop(
            "identities",
            [{"connection": conn.name, "provider": provider, "user_id": local_id, "isSocial": conn.is_social}],
        )
        for key in ("app_metadata", "user_metadata"):
            if key in spec:
                user[key] = dict(spec.pop(key))
        if "blocked" in spec:
            user["blocked"] = bool(spec.pop("blocked"))
        user["created_at"] = iso8601(created)
        user["updated_at"] = iso8601(updated)
        if last_login is not None:
            user["last_login"] = iso8601(last_login)
            user["last_ip"] = spec.pop("last_ip", "203.0.113.10")
        user["logins_count"] = int(spec.pop("logins_count", 1 if last_login else 0))
        spec.pop("email", None)
        user.update(spec)  # any other root attribute (username, phone_number…)
        return user

    # -- users ---------------------------------------------------------------------------
    def user(self, user_id: str) -> dict[str, Any]:
        user = self.store.users.get(user_id)
        if user is None:
            raise errors.user_not_found()
        return user

    @staticmethod
    def patch_scopes(body: Any) -> tuple[tuple[str, ...], ...]:
        if isinstance(body, dict) and body and set(body) == {"app_metadata"}:
            return (("update:users",), ("update:users_app_metadata",))
        return (("update:users",),)

    def patch_user(self, user_id: str, body: Any) -> dict[str, Any]:
        """``PATCH /api/v2/users/{id}`` semantics; returns the updated user."""
        user = self.user(user_id)
        if not isinstance(body, dict):
            raise errors.payload_error(f"Expected type object but found type {json_type(body)}")
        if not body:
            raise errors.payload_error("Too few properties defined (0), minimum 1")
        unknown = sorted(set(body) - PATCHABLE)
        if unknown:
            raise errors.payload_error(f"Additional properties not allowed: {','.join(unknown)}")
        for key in ("blocked", "email_verified", "phone_verified", "verify_email", "verify_phone_number"):
            if key in body and not isinstance(body[key], bool):
                raise errors.payload_error(f"Expected type boolean but found type {json_type(body[key])}", key)
        for key in ("user_metadata", "app_metadata"):
            if key in body:
                self._check_metadata(key, body[key])
        for key in ("email", "given_name", "family_name", "name", "nickname", "picture", "username", "phone_number"):
            if key in body and not isinstance(body[key], str):
                raise errors.payload_error(f"Expected type string but found type {json_type(body[key])}", key)
        conn = self.store.connection_of(user)
        synced = sorted(k for k in body if k in SYNCED_PROFILE and body[k] != user.get(k))
        if synced and conn is not None and conn.strategy not in DATABASE_STRATEGIES:
            raise errors.raise_api(
                400,
                f"The following user attributes cannot be updated: {', '.join(synced)}. "
                f"The connection ({conn.name}) must either be a database connection (using the Auth0 store), "
                "a passwordless connection (email or sms) "
                "or has disabled 'Sync user profile attributes at each login'. For more information, see "
                "https://auth0.com/docs/dashboard/guides/connections/configure-connection-sync",
                "operation_not_supported",
            )
        for key, value in body.items():
            if key in ("user_metadata", "app_metadata"):
                user[key] = self.merge_metadata(user.get(key) or {}, value)
            elif key in ("password", "verify_email", "verify_phone_number", "connection", "client_id"):
                continue
            elif key == "email":
                new = value.lower() if conn is None or conn.strategy in DATABASE_STRATEGIES else value
                self.store.reindex_email(user_id, user.get("email"), new)
                user["email"] = new
            else:
                user[key] = value
        user["updated_at"] = iso8601(self.tenant.now())
        return user

    @staticmethod
    def merge_metadata(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """Top-level merge: keys replace wholesale, ``null`` deletes, ``{}`` wipes."""
        if not patch:
            return {}
        merged = dict(current)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged

    @staticmethod
    def _check_metadata(prop: str, value: Any) -> None:
        if not isinstance(value, dict):
            raise errors.payload_error(f"Expected type object but found type {json_type(value)}", prop)

        def walk(obj: Any) -> None:
            if isinstance(obj, dict):
                for key, inner in obj.items():
                    if "." in key or "$" in key:
                        raise errors.payload_error(
                            f"Metadata keys cannot contain '.' or '$' characters (found {key!r})", prop
                        )
                    walk(inner)
            elif isinstance(obj, list):
                for item in obj:
                    walk(item)

        walk(value)
        if prop == "app_metadata":
            reserved = sorted(k for k in value if k in RESERVED_APP_METADATA)
            if reserved:
                raise errors.payload_error(f"Invalid app_metadata property name: {reserved[0]} is reserved", prop)

    # -- roles ---------------------------------------------------------------------------
    def role(self, role_id: str) -> Role:
        role = self.store.roles.get(role_id)
        if role is None:
            raise errors.raise_api(404, "The role does not exist.", "inexistent_role")
        return role
