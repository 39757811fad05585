"""Access tokens: minting (Auth0 client credentials; Okta private_key_jwt with optional DPoP;
Okta SSWS) and the shared, encrypted token cache that serves every warm container."""

from okta_auth0_sync.clients.tokens.cache import TokenCache, TokenSource
from okta_auth0_sync.clients.tokens.models import AccessToken

__all__ = ["AccessToken", "TokenCache", "TokenSource"]
