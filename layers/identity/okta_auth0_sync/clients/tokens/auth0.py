"""Auth0 Management API tokens: client credentials (client secret, JSON body)."""

from __future__ import annotations

import time

import requests

from okta_auth0_sync.base.errors import (
    AuthenticationFailed,
    PermissionDenied,
    RequestRejected,
    UpstreamDetails,
    UpstreamError,
)
from okta_auth0_sync.clients.http import HttpClient, json_body, request_id
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.settings import Auth0Connection


class Auth0ClientCredentials:
    """Mints a Management API token: ``POST /oauth/token`` with the M2M app's client secret."""

    def __init__(self, connection: Auth0Connection, http: HttpClient) -> None:
        self.connection = connection
        self.http = http

    @property
    def cache_key(self) -> str:
        return self.connection.cache_key

    def secret_material(self) -> bytes:
        """What the cache encryption key derives from: only holders of the secret can read the token."""
        return f"{self.connection.client_id}\0{self.connection.client_secret}".encode()

    def mint(self) -> AccessToken:
        c = self.connection
        response = self.http.request(
            "POST",
            "/oauth/token",
            auth=False,
            retry_post=True,
            accept=(400, 401, 403),
            json={
                "grant_type": "client_credentials",
                "client_id": c.client_id,
                "client_secret": c.client_secret,
                "audience": c.audience,
            },
        )
        if response.status_code != 200:
            raise token_error(response, c)
        body = json_body(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError(
                "Auth0 /oauth/token answered 200 without an access_token", tenant="auth0", status=response.status_code
            )
        now = time.time()
        return AccessToken(
            value=token,
            token_type=body.get("token_type", "Bearer"),
            expires_at=now + float(body.get("expires_in", 86400)),
            scope=body.get("scope", ""),
            minted_at=now,
        )


def token_error(response: requests.Response, c: Auth0Connection) -> UpstreamError:
    body = json_body(response)
    code = body.get("error") or body.get("errorCode")
    detail = body.get("error_description") or body.get("message") or ""
    kwargs: UpstreamDetails = {
        "tenant": "auth0",
        "status": response.status_code,
        "code": code,
        "request_id": request_id(response),
    }
    if response.status_code == 401 or code in ("invalid_client", "unauthorized_client"):
        return AuthenticationFailed(
            f"Auth0 rejected the client credentials of client_id {c.client_id} at {c.domain}: check "
            f"'client_id' and 'client_secret' in secret {c.source or 'auth0'} (rotated secret?)",
            **kwargs,
        )
    if response.status_code == 403:
        return PermissionDenied(
            f"Auth0 refused a token for audience {c.audience} to client_id {c.client_id}: authorize the "
            "M2M application for the Auth0 Management API (APIs > Auth0 Management API > Machine to "
            f"Machine Applications) with the scopes this package needs. Auth0 said: {detail[:200]}",
            **kwargs,
        )
    return RequestRejected(
        f"Auth0 /oauth/token rejected the request: {code or response.status_code} {detail[:200]}", **kwargs
    )
