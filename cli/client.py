"""A client of the invoke API: mints the caller's access token from an Okta custom authorization
server with a ``private_key_jwt`` client assertion (DPoP-bound when the app requires it), then
calls the API with it (``Authorization: Bearer``, or ``DPoP`` plus a fresh proof per request)."""

from __future__ import annotations

import time
from typing import Any

import requests

from okta_auth0_sync.base.errors import PermissionDenied, RequestRejected, TokenRejected, UpstreamError
from okta_auth0_sync.clients.http import HttpClient, json_body
from okta_auth0_sync.clients.tokens.auth import AccessTokenAuth
from okta_auth0_sync.clients.tokens.cache import TokenCache, TokenSource
from okta_auth0_sync.runtime.connections import minter
from okta_auth0_sync.settings import OktaConnection

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def api_error(response: requests.Response) -> UpstreamError:
    body = json_body(response)
    message = body.get("message") or body.get("error") or response.reason
    kwargs = {"tenant": "invoke-api", "status": response.status_code, "code": body.get("error")}
    challenge = response.headers.get("WWW-Authenticate", "")
    if response.status_code == 401:
        return TokenRejected(f"the invoke API refused the token: {message} ({challenge})", **kwargs)
    if response.status_code == 403:
        return PermissionDenied(f"the invoke API refused the call: {message} ({challenge})", **kwargs)
    return RequestRejected(f"the invoke API answered {response.status_code}: {message}", **kwargs)


class InvokeApiClient:
    def __init__(self, api_url: str, caller: OktaConnection) -> None:
        if not caller.authorization_server:
            raise ValueError("the caller's secret must name its custom 'authorization_server'")
        self.minter = minter(caller)
        self.tokens = TokenSource(self.minter, TokenCache(None))
        self.http = HttpClient(api_url, "invoke-api", error_mapper=api_error, auth=AccessTokenAuth(self.tokens))

    def start_provisioning(self, role_id: str, group_id: str, dry_run: bool = False) -> dict[str, Any]:
        return self.http.request(
            "POST",
            "/provisioning/runs",
            retry_post=False,
            json={"role_id": role_id, "group_id": group_id, "dry_run": dry_run},
        ).json()

    def sync_user(self, okta_user_id: str) -> dict[str, Any]:
        return self.http.request("POST", "/users/{id}/sync", path_params={"id": okta_user_id}).json()

    def status(self, execution_id: str) -> dict[str, Any]:
        return self.http.request("GET", "/executions/{id}", path_params={"id": execution_id}).json()

    def wait(self, execution_id: str, *, timeout: float = 900.0, interval: float = 2.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(execution_id)
            if status["status"] in TERMINAL or time.monotonic() > deadline:
                return status
            time.sleep(interval)
