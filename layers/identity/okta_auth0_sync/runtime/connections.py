"""Wiring, in one place: connection secret -> token minter -> shared token cache -> HTTP client
-> tenant client. Built once per container and rebuilt only when the secret changes.

Handlers and domain code ask for ``connections.auth0()`` / ``connections.okta()`` and never see a
secret or a token. Secrets are re-read through Powertools' cache (``SECRET_MAX_AGE_SECONDS``); when
a token endpoint refuses our credentials the secret is re-read at once (``force_fetch``), so a
rotated credential is picked up without waiting for the cache to age.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import requests

from okta_auth0_sync import settings
from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import AuthenticationFailed
from okta_auth0_sync.clients.auth0 import Auth0Client, auth0_error
from okta_auth0_sync.clients.http import HttpClient, Timeouts
from okta_auth0_sync.clients.okta import OktaClient, okta_error
from okta_auth0_sync.clients.tokens.auth import AccessTokenAuth, SswsAuth
from okta_auth0_sync.clients.tokens.cache import TokenCache, TokenSource
from okta_auth0_sync.clients.tokens.models import AccessToken
from okta_auth0_sync.settings import Auth0Connection, OktaConnection
from okta_auth0_sync.store.secrets import load_secret

if TYPE_CHECKING:
    from okta_auth0_sync.clients.tokens.auth0 import Auth0ClientCredentials
    from okta_auth0_sync.clients.tokens.okta import OktaServiceApp
    from okta_auth0_sync.clients.tokens.okta_web import LeaseGuard, OktaWebApp

# Written by the functions themselves at each refresh (authorization_code mode): not a change of
# the connection, so no reason to rebuild its clients.
_ROTATING_FIELDS = ("refresh_token", "refresh_token_revoked")

_Client = TypeVar("_Client")


class _Tenant(Generic[_Client]):
    """One tenant connection: its current secret, clients and token source.

    It is also the *minter* the token cache sees: it forwards to the minter built for the current
    secret and re-reads the secret once when the credentials are refused.
    """

    def __init__(
        self,
        kind: str,
        secret_env: str,
        parse: Callable[[Mapping[str, Any], str], Auth0Connection | OktaConnection],
        client_cls: Callable[[HttpClient], _Client],
    ) -> None:
        self.kind = kind
        self.secret_env = secret_env
        self._parse = parse
        self._client_cls = client_cls
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        # Rebuilt by refresh() for each new secret, and None before the first: an Auth0Connection or
        # OktaConnection, a _Client, and the minter (None for an SSWS connection, which mints nothing).
        self.connection: Any = None
        self.client: Any = None
        self.minter: Any = None
        self.source: TokenSource | None = None
        self.session = requests.Session()

    # -- current connection ----------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> bool:
        """Load the secret (Powertools-cached unless ``force``); rebuild if it changed."""
        s = settings.current()
        secret_id = getattr(s, f"{self.kind}_secret_id")
        data = load_secret(secret_id, max_age=s.secret_max_age, force_fetch=force, env_name=self.secret_env)
        stable = {k: v for k, v in data.items() if k not in _ROTATING_FIELDS}
        fingerprint = hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if fingerprint == self._fingerprint:
                return False
            self.connection = self._parse(data, secret_id)
            http = http_client(
                self.connection,
                session=self.session,
                timeouts=Timeouts(s.http_connect_timeout, s.http_read_timeout),
                sharers=s.rate_limit_sharers,
            )
            self.minter = minter(self.connection, http)
            if self.minter is None:
                self.source = None
                http.auth = SswsAuth(self.connection.api_token)
            else:
                self.source = TokenSource(self, token_cache())
                http.auth = AccessTokenAuth(self.source)
            self.client = self._client_cls(http)
            self._fingerprint = fingerprint
            return True

    def get_client(self) -> _Client:
        self.refresh()
        client: _Client = self.client
        return client

    # -- Minter protocol (seen by the token cache, which exists only once a minter was built) ----
    @property
    def cache_key(self) -> str:
        key: str = self.connection.cache_key
        return key

    def secret_material(self) -> bytes:
        material: bytes = self.minter.secret_material()
        return material

    def mint(self) -> AccessToken:
        token: AccessToken
        try:
            token = self.minter.mint()
        except AuthenticationFailed:
            if not self.refresh(force=True) or self.minter is None:
                raise
            token = self.minter.mint()
        return token

    @property
    def exclusive(self) -> bool:
        """The minter must never run twice at once (Okta refresh-token rotation)."""
        return bool(getattr(self.minter, "exclusive", False))

    @property
    def lease_seconds(self) -> float:
        return float(getattr(self.minter, "lease_seconds", 10.0))

    def mint_fenced(self, lease: LeaseGuard) -> AccessToken:
        token: AccessToken
        try:
            token = self.minter.mint_fenced(lease)
        except AuthenticationFailed:
            if not self.refresh(force=True) or self.minter is None:
                raise
            token = self.minter.mint_fenced(lease)
        return token

    def token(self) -> AccessToken | None:
        """A valid token in the shared cache (minted if needed); None for SSWS connections."""
        self.refresh()
        return self.source.current() if self.source else None


def http_client(connection: Auth0Connection | OktaConnection, **kwargs: Any) -> HttpClient:
    """The HTTP client of a tenant connection (no auth attached)."""
    if isinstance(connection, Auth0Connection):
        return HttpClient(connection.base_url, "auth0", error_mapper=auth0_error, **kwargs)
    return HttpClient(connection.base_url, "okta", error_mapper=okta_error, **kwargs)


def minter(
    connection: Auth0Connection | OktaConnection, http: HttpClient | None = None
) -> Auth0ClientCredentials | OktaServiceApp | OktaWebApp | None:
    """What mints tokens for a connection (None for an SSWS API token: nothing to mint). An
    authorization_code connection refreshes through its secret (``connection.source``, the secret
    id) in Secrets Manager."""
    http = http or http_client(connection)
    if isinstance(connection, Auth0Connection):
        from okta_auth0_sync.clients.tokens.auth0 import Auth0ClientCredentials

        return Auth0ClientCredentials(connection, http)
    if connection.mode == "ssws":
        return None
    if connection.mode == "authorization_code":
        from okta_auth0_sync.clients.tokens.okta_web import OktaWebApp

        return OktaWebApp(connection, http)
    from okta_auth0_sync.clients.tokens.okta import OktaServiceApp

    return OktaServiceApp(connection, http)


_cache: TokenCache | None = None
_tenants: dict[str, _Tenant[Any]] = {}


def token_cache() -> TokenCache:
    global _cache
    if _cache is None:
        s = settings.current()
        _cache = TokenCache(s.token_cache_table, refresh_margin=s.token_refresh_margin)
    return _cache


@overload
def tenant(kind: Literal["auth0"]) -> _Tenant[Auth0Client]: ...


@overload
def tenant(kind: Literal["okta"]) -> _Tenant[OktaClient]: ...


@overload
def tenant(kind: str) -> _Tenant[Any]: ...


def tenant(kind: str) -> _Tenant[Any]:
    existing = _tenants.get(kind)
    if existing is not None:
        return existing
    made: _Tenant[Any]
    if kind == "auth0":
        made = _Tenant("auth0", "AUTH0_SECRET_ID", Auth0Connection.from_secret, Auth0Client)
    elif kind == "okta":
        made = _Tenant("okta", "OKTA_SECRET_ID", OktaConnection.from_secret, OktaClient)
    else:
        raise ValueError(f"unknown connection {kind!r}: expected 'auth0' or 'okta'")
    return _tenants.setdefault(kind, made)


def auth0() -> Auth0Client:
    return tenant("auth0").get_client()


def okta() -> OktaClient:
    return tenant("okta").get_client()


@container.on_new_container
def reset() -> None:
    """Forget everything built in this process, Powertools' secret cache included: what a
    brand-new container would have. (The shared DynamoDB tier is untouched: that is its point.)"""
    from aws_lambda_powertools.utilities import parameters

    global _cache
    _cache = None
    _tenants.clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools leaves clear_caches() unannotated
