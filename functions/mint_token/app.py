"""Token minting: make sure a valid token for each requested connection is in the shared cache.

Input: ``{"connection": "auth0"}`` or ``{"connections": ["okta", "auth0"]}`` (``TokenRequest``).
Output per connection: a reference, the expiry and whether this invocation had to mint
(``TokenReference``), never a token (state machine payloads stay in the execution history for 90 days).
"""

from okta_auth0_sync.base import counters
from okta_auth0_sync.domain.payloads.tokens import TokenReference, TokenRequest
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.runtime.observability import handler


def _reference(name: str) -> TokenReference:
    with counters.usage() as usage:
        token = connections.tenant(name).token()
    if token is None:  # an SSWS API token: nothing to mint
        return TokenReference.static(name)
    return TokenReference(name, token.token_type, token.reference, token.expires_iso(), usage.tokens_minted)


@handler(correlation_id_path="correlation_id")
def lambda_handler(event: dict, context) -> dict:
    request = TokenRequest.from_payload(event)
    return request.result([_reference(name) for name in request.connections])
