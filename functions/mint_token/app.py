"""Token minting: make sure a valid token for a connection is in the shared cache.

Input: ``{"connection": "auth0" | "okta"}``. Output: a reference and the expiry, never the token
(state machine payloads are kept in the execution history for 90 days).
"""

from okta_auth0_sync import connections
from okta_auth0_sync.errors import InvalidInput
from okta_auth0_sync.observability import handler


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    name = (event or {}).get("connection", "auth0")
    if name not in ("auth0", "okta"):
        raise InvalidInput(f"connection must be 'auth0' or 'okta', not {str(name)[:40]!r}")
    token = connections.tenant(name).token()
    if token is None:  # an SSWS API token: nothing to mint
        return {"connection": name, "token_type": "SSWS", "token_ref": "static", "expires_at": None}
    return {"connection": name, "token_type": token.token_type, "token_ref": token.reference,
            "expires_at": token.expires_iso()}
