"""Token minting: make sure a valid token for each requested connection is in the shared cache.

Input: ``{"connection": "auth0"}`` or ``{"connections": ["okta", "auth0"]}``. Output per connection:
a reference, the expiry and whether this invocation had to mint, never a token (state machine
payloads stay in the execution history for 90 days).
"""

from okta_auth0_sync.base import counters
from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler

KNOWN = ("auth0", "okta")


def _reference(name: str) -> dict:
    with counters.usage() as usage:
        token = connections.tenant(name).token()
    if token is None:  # an SSWS API token: nothing to mint
        return {"connection": name, "token_type": "SSWS", "token_ref": "static", "expires_at": None, "minted": 0}
    return {
        "connection": name,
        "token_type": token.token_type,
        "token_ref": token.reference,
        "expires_at": token.expires_iso(),
        "minted": usage.tokens_minted,
    }


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    event = event or {}
    names = event.get("connections") or [event.get("connection", "auth0")]
    if not isinstance(names, list) or not names or any(n not in KNOWN for n in names):
        raise InvalidInput("connection(s) must be 'auth0' and/or 'okta'")
    if "connections" not in event:
        return _reference(names[0])
    return {name: _reference(name) for name in dict.fromkeys(names)}
