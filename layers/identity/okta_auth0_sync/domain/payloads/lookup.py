"""The identity lookup's payloads: what ``lookup_users`` is asked, and the Okta user it read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.identities import OktaUser
from okta_auth0_sync.domain.payloads import event_object


@dataclass(frozen=True)
class LookupRequest:
    """``lookup_users``' input ``{"okta_user_id", "find_auth0_users"}``: only a literal ``false``
    skips the Auth0 lookup."""

    okta_user_id: str
    find_auth0_users: bool = True

    @classmethod
    def from_payload(cls, payload: Any) -> LookupRequest:
        event = event_object(payload)
        return cls(
            ids.okta_user_id(event.get("okta_user_id"), "okta_user_id"),
            event.get("find_auth0_users", True) is not False,
        )


@dataclass(frozen=True)
class OktaUserRead:
    """``lookup_users``' answer without the Auth0 lookup (the deactivation sync's ``ReadOktaUser``):
    the user's ids and status, and ``read_at``, taken just before the read (the status is at least
    that recent)."""

    okta_user: OktaUser
    read_at: str

    def to_payload(self) -> dict[str, Any]:
        return {"okta_user": {**self.okta_user.summary(), "read_at": self.read_at}}
