"""User lookup: the Okta user by id and (unless told not to) every Auth0 user with that email.

Input: ``{"okta_user_id": "00u...", "find_auth0_users": true}`` (``LookupRequest``). Output:
``{"okta_user": {...}, "auth0_users": [...], "match_count": n}`` with ids, email and connections
only (``IdentityMatch``). Without the Auth0 lookup, ``okta_user.read_at`` is when the Okta user
was read, taken just before the call (``OktaUserRead``).
"""

from okta_auth0_sync.domain.events import utc_now_iso
from okta_auth0_sync.domain.payloads.lookup import LookupRequest, OktaUserRead
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler
from okta_auth0_sync.services.lookup import lookup_identities


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    request = LookupRequest.from_payload(event)
    if not request.find_auth0_users:
        read_at = utc_now_iso()  # before the read: the status returned is at least this recent
        return OktaUserRead(connections.okta().get_user(request.okta_user_id), read_at).to_payload()
    return lookup_identities(connections.okta(), connections.auth0(), request.okta_user_id).to_payload()
