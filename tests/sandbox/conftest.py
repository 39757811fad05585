"""Fixtures for the sandbox conformance suite.

One sandbox (both tenants) serves the whole session; every test starts from a reset
(fixture data, no rate limits, no faults, empty call log) with a fresh :class:`FakeClock`
set to the current time.  Credentials (keys, secrets, SSWS token) are made once per session
and survive resets, like in a real org.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import requests

import okta_auth0_sync_sandbox as sandbox
from okta_auth0_sync_sandbox.clients import rewriting_client
from tests.sandbox.support import AUTH0, OKTA, HookReceiver, okta_assertion, token_form


@dataclass
class Creds:
    """Session credentials (never printed)."""

    okta_key: sandbox.GeneratedKey
    okta_dpop_key: sandbox.GeneratedKey
    okta_readonly_key: sandbox.GeneratedKey
    as_key: sandbox.GeneratedKey
    as_dpop_key: sandbox.GeneratedKey
    as_reader_secret: str
    ssws: str
    auth0_secret: str
    auth0_readonly_secret: str
    auth0_api_secret: str
    auth0_limited_secret: str
    auth0_jwt_key: sandbox.GeneratedKey
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="session")
def clock() -> sandbox.FakeClock:
    return sandbox.FakeClock()


@pytest.fixture(scope="session")
def sb(clock: sandbox.FakeClock) -> Iterator[sandbox.Sandbox]:
    instance = sandbox.start(clock=clock, fault_seed=7)
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def creds(sb: sandbox.Sandbox) -> Creds:
    okta, auth0 = sb.okta, sb.auth0
    return Creds(
        okta_key=okta.register_app_key(OKTA.app),  # type: ignore[arg-type]
        okta_dpop_key=okta.register_app_key(OKTA.dpop_app),  # type: ignore[arg-type]
        okta_readonly_key=okta.register_app_key(OKTA.readonly_app),  # type: ignore[arg-type]
        as_key=okta.register_app_key(OKTA.as_provisioner, auth_server=OKTA.auth_server),  # type: ignore[arg-type]
        as_dpop_key=okta.register_app_key(OKTA.as_dpop, auth_server=OKTA.auth_server),  # type: ignore[arg-type]
        as_reader_secret=okta.register_client_secret(OKTA.as_reader, OKTA.auth_server),
        ssws=okta.register_api_token("conformance"),
        auth0_secret=auth0.register_client_secret(AUTH0.client),
        auth0_readonly_secret=auth0.register_client_secret(AUTH0.readonly_client),
        auth0_api_secret=auth0.register_client_secret(AUTH0.api_client),
        auth0_limited_secret=auth0.register_client_secret(AUTH0.limited_client),
        auth0_jwt_key=auth0.register_client_key(AUTH0.jwt_client),  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def fresh(sb: sandbox.Sandbox, clock: sandbox.FakeClock, creds: Creds) -> Iterator[None]:
    clock.set(time.time())
    sb.reset()
    yield
    sb.okta.hooks.stop_background()


@pytest.fixture
def okta_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Isolate the Okta SDK from the machine: no OKTA_* variables, temp HOME and cwd."""
    import os

    for name in list(os.environ):
        if name.startswith("OKTA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def okta_config(sb: sandbox.Sandbox, creds: Creds, okta_env: None) -> Callable[..., dict[str, Any]]:
    def make(mode: str = "private_key", **overrides: Any) -> dict[str, Any]:
        common = {"orgUrl": sb.okta.base_url, "requestTimeout": 30, "rateLimit": {"maxRetries": 2}}
        if mode == "ssws":
            cfg = {**common, "authorizationMode": "SSWS", "token": creds.ssws}
        elif mode == "dpop":
            key = creds.okta_dpop_key
            cfg = {
                **common,
                "authorizationMode": "PrivateKey",
                "clientId": OKTA.dpop_app,
                "scopes": OKTA.scopes,
                "privateKey": key.private_key_pem,
                "kid": key.kid,
                "dpopEnabled": True,
            }
        else:
            key = creds.okta_key
            cfg = {
                **common,
                "authorizationMode": "PrivateKey",
                "clientId": OKTA.app,
                "scopes": OKTA.scopes,
                "privateKey": key.private_key_pem,
                "kid": key.kid,
            }
        cfg.update(overrides)
        return cfg

    return make


@pytest.fixture
def okta_token(sb: sandbox.Sandbox, creds: Creds) -> Callable[..., str]:
    """A Bearer access token of the org AS for the main service app."""
    import requests

    def mint(
        scope: str = " ".join(OKTA.scopes), client: str = OKTA.app, key: sandbox.GeneratedKey | None = None
    ) -> str:
        key = key or creds.okta_key
        url = f"{sb.okta.base_url}/oauth2/v1/token"
        resp = requests.post(
            url, data=token_form(okta_assertion(key.private_key_pem, client, url, kid=key.kid), scope), timeout=10
        )
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    return mint


# -- Auth0 helpers -----------------------------------------------------------------------------
@pytest.fixture
def auth0_token(sb: sandbox.Sandbox, creds: Creds) -> Callable[..., str]:
    import requests

    def mint(client: str = AUTH0.client, secret: str | None = None, audience: str | None = None) -> str:
        resp = requests.post(
            f"{sb.auth0.base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client,
                "client_secret": secret or creds.auth0_secret,
                "audience": audience or sb.auth0.management_audience,
            },
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    return mint


@pytest.fixture
def auth0_mgmt(sb: sandbox.Sandbox, creds: Creds, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``ManagementClient`` pointed at the sandbox: its API calls and its own token provider
    go through an httpx transport that rewrites ``https://<domain>`` to the loopback URL."""
    import auth0.management.token_provider as token_provider
    from auth0.management import ManagementClient

    mapping = {sb.auth0.domain: sb.auth0.base_url}
    monkeypatch.setattr(token_provider, "httpx", SimpleNamespace(Client=lambda *a, **k: rewriting_client(mapping)))
    clients = []

    def make(client_id: str = AUTH0.client, secret: str | None = None) -> ManagementClient:
        http = rewriting_client(mapping, timeout=10)
        clients.append(http)
        return ManagementClient(
            domain=sb.auth0.domain, client_id=client_id, client_secret=secret or creds.auth0_secret, httpx_client=http
        )

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    hook_receiver = HookReceiver(secret="Basic c2FuZGJveDpob29rLXNlY3JldA==")
    yield hook_receiver
    hook_receiver.close()


@pytest.fixture
def mgmt(auth0_token: Callable[..., str]) -> Iterator[requests.Session]:
    """A requests session holding a Management API token of the main M2M client."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {auth0_token()}"
    yield session
    session.close()
