"""Identity lookup: the Okta user and every Auth0 user that shares their email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .auth0 import LOOKUP_FIELDS, Auth0Client, Auth0User
from .okta import OktaClient, OktaUser


def auth0_users_for_email(auth0: Auth0Client, email: str | None,
                          fields: tuple[str, ...] = LOOKUP_FIELDS) -> list[Auth0User]:
    """Every Auth0 user with this email. ``users-by-email`` is exact and case-sensitive, and Auth0
    keeps the IdP's casing for enterprise users but lower-cases database users, so look up the
    email as given and lower-cased, and merge the results (by ``user_id``)."""
    if not email:
        return []
    found: dict[str, Auth0User] = {}
    for candidate in dict.fromkeys((email, email.lower())):
        for user in auth0.users_by_email(candidate, fields=fields):
            found.setdefault(user.user_id, user)
    return list(found.values())


@dataclass(frozen=True)
class IdentityMatch:
    okta_user: OktaUser
    auth0_users: list[Auth0User]

    def to_payload(self) -> dict[str, Any]:
        """The state-machine payload: ids, the email used, connections. No metadata, no tokens."""
        return {"okta_user": self.okta_user.summary(),
                "auth0_users": [u.summary() for u in self.auth0_users],
                "match_count": len(self.auth0_users)}


def lookup_identities(okta: OktaClient, auth0: Auth0Client, okta_user_id: str) -> IdentityMatch:
    okta_user = okta.get_user(okta_user_id)
    return IdentityMatch(okta_user=okta_user, auth0_users=auth0_users_for_email(auth0, okta_user.email))
