"""The people on both sides, as this package sees them: an Okta user and an Auth0 account.

Pure values (no I/O); the clients build them from API bodies with ``from_api``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OktaUser:
    id: str
    status: str
    login: str
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    profile: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> OktaUser:
        profile = body.get("profile") or {}
        return cls(
            id=body["id"],
            status=body.get("status", ""),
            login=profile.get("login", ""),
            email=profile.get("email"),
            first_name=profile.get("firstName"),
            last_name=profile.get("lastName"),
            profile=profile,
        )

    def summary(self) -> dict[str, Any]:
        """What may travel in a state machine payload: ids and the lookup key, nothing else."""
        return {"id": self.id, "status": self.status, "login": self.login, "email": self.email}


@dataclass(frozen=True)
class Auth0User:
    user_id: str
    email: str | None
    connections: tuple[str, ...] = ()
    blocked: bool = False
    app_metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    user_metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Auth0User:
        identities = body.get("identities") or []
        return cls(
            user_id=body["user_id"],
            email=body.get("email"),
            connections=tuple(i.get("connection", "") for i in identities if isinstance(i, dict)),
            blocked=bool(body.get("blocked", False)),
            app_metadata=body.get("app_metadata") or {},
            user_metadata=body.get("user_metadata") or {},
        )

    def summary(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "email": self.email, "connections": list(self.connections)}
