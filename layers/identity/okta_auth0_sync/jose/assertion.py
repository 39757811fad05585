"""The ``private_key_jwt`` client assertion (RFC 7523 2.2, OpenID Connect Core 9): how this package
authenticates to Okta's token endpoint with a private key instead of a client secret."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from okta_auth0_sync.jose.keys import SigningPrivateKey

ASSERTION_LIFETIME = 300  # seconds; Okta allows up to an hour, short is safer


def client_assertion(
    client_id: str,
    audience: str,
    key: SigningPrivateKey,
    *,
    alg: str,
    kid: str | None,
    lifetime: int = ASSERTION_LIFETIME,
    now: float | None = None,
) -> str:
    """A ``private_key_jwt`` client assertion: ``iss`` = ``sub`` = client id, ``aud`` = the token
    URL, short ``exp``, fresh ``jti`` (single use at Okta), ``kid`` when known."""
    import jwt

    issued = int(now if now is not None else time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime,
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, key, algorithm=alg, headers=headers)
