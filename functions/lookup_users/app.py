"""User lookup: the Okta user by id and (unless told not to) every Auth0 user with that email.

Input: ``{"okta_user_id": "00u...", "find_auth0_users": true}``. Output: ``{"okta_user": {...},
"auth0_users": [...], "match_count": n}`` with ids, email and connections only. Without the
Auth0 lookup, ``okta_user.read_at`` is when the Okta user was read (taken just before the call).
"""

import re

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.hooks import utc_now_iso
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler
from okta_auth0_sync.services.lookup import lookup_identities

_OKTA_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    okta_user_id = event.get("okta_user_id")
    if not isinstance(okta_user_id, str) or not _OKTA_ID.match(okta_user_id):
        raise InvalidInput("okta_user_id must be an Okta user id such as 00u3m90rxKjGQ0G6L1d6")
    if event.get("find_auth0_users", True) is False:
        read_at = utc_now_iso()  # before the read: the status returned is at least this recent
        return {"okta_user": {**connections.okta().get_user(okta_user_id).summary(), "read_at": read_at}}
    return lookup_identities(connections.okta(), connections.auth0(), okta_user_id).to_payload()
