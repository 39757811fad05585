"""Identity lookup: the Okta user and every Auth0 user that shares their email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import NotFound, RequestRejected
from okta_auth0_sync.base.logs import logger as _log
from okta_auth0_sync.clients.auth0 import LOOKUP_FIELDS, Auth0Client
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.identities import Auth0User, OktaUser


def auth0_users_for_email(
    auth0: Auth0Client, email: str | None, fields: tuple[str, ...] = LOOKUP_FIELDS
) -> list[Auth0User]:
    """Every Auth0 user whose email equals ``email`` ignoring letter case, each read with an
    immediately consistent call (what the caller decides from it must not be stale).

    ``users-by-email`` is exact and case-sensitive: Auth0 lower-cases database users' emails but
    keeps the IdP's casing for enterprise and social users. So: ``users-by-email`` for the
    lower-cased email (and for the email as given, if it differs), then a search v3
    ``email:"..."`` (case-insensitive, eventually consistent) to discover accounts stored in
    any other casing, each of those read by id. Two calls when nothing is oddly cased."""
    if not email:
        return []
    found: dict[str, Auth0User] = {}
    for candidate in dict.fromkeys((email.lower(), email)):
        for user in auth0.users_by_email(candidate, fields=fields):
            found.setdefault(user.user_id, user)
    for user_id in _search_ids(auth0, email):
        if user_id in found:
            continue
        try:
            user = Auth0User.from_api(auth0.get_raw_user(user_id, fields))
        except NotFound:  # deleted since the index saw it
            continue
        if (user.email or "").lower() == email.lower():  # the index may lag a change of email
            found[user_id] = user
    return list(found.values())


def _search_ids(auth0: Auth0Client, email: str) -> list[str]:
    """The case-insensitive search, which only adds accounts in other casings: if the tenant
    refuses it (a 4xx retrying will not fix), the exact matches still go through, and the refusal
    is logged. Outages and rate limits propagate (the task is retried)."""
    try:
        return auth0.user_ids_by_email_search(email)
    except RequestRejected as exc:
        _log.warning("Auth0 user search refused; only exact-case matches used", extra={"reason": str(exc)[:200]})
        return []


@dataclass(frozen=True)
class IdentityMatch:
    okta_user: OktaUser
    auth0_users: list[Auth0User]

    def to_payload(self) -> dict[str, Any]:
        """The state-machine payload: ids, the email used, connections. No metadata, no tokens."""
        return {
            "okta_user": self.okta_user.summary(),
            "auth0_users": [u.summary() for u in self.auth0_users],
            "match_count": len(self.auth0_users),
        }


def lookup_identities(okta: OktaClient, auth0: Auth0Client, okta_user_id: str) -> IdentityMatch:
    okta_user = okta.get_user(okta_user_id)
    return IdentityMatch(okta_user=okta_user, auth0_users=auth0_users_for_email(auth0, okta_user.email))
