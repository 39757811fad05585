"""Outbound HTTP: the client (deadline-aware retries and pacing), the Okta and Auth0 API clients,
token minting and the shared token cache."""
