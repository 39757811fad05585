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
from collections.abc import Callable
from typing import Any

import requests

from . import runtime
from .auth0 import Auth0Client, auth0_error
from .config import Auth0Connection, OktaConnection, Settings, load_secret
from .errors import AuthenticationFailed
from .http import HttpClient, Timeouts
from .okta import OktaClient, okta_error
from .tokens.auth import AccessTokenAuth, SswsAuth
from .tokens.cache import TokenCache, TokenSource
from .tokens.models import AccessToken


class _Tenant:
    """One tenant connection: its current secret, clients and token source.

    It is also the *minter* the token cache sees: it forwards to the minter built for the current
    secret and re-reads the secret once when the credentials are refused.
    """

    def __init__(self, kind: str, secret_env: str, parse: Callable[[dict, str], Any],
                 build_minter: Callable[[Any, HttpClient], Any] | None, error_mapper, client_cls) -> None:
        self.kind = kind
        self.secret_env = secret_env
        self._parse = parse
        self._build_minter = build_minter
        self._error_mapper = error_mapper
        self._client_cls = client_cls
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self.connection: Any = None
        self.client: Any = None
        self.minter: Any = None
        self.source: TokenSource | None = None
        self.session = requests.Session()

    # -- current connection ----------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> bool:
        """Load the secret (Powertools-cached unless ``force``); rebuild if it changed."""
        s = settings()
        secret_id = getattr(s, f"{self.kind}_secret_id")
        data = load_secret(secret_id, max_age=s.secret_max_age, force_fetch=force, env_name=self.secret_env)
        fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if fingerprint == self._fingerprint:
                return False
            self.connection = self._parse(data, secret_id)
            http = HttpClient(self.connection.base_url, self.kind, error_mapper=self._error_mapper,
                              session=self.session,
                              timeouts=Timeouts(s.http_connect_timeout, s.http_read_timeout))
            if getattr(self.connection, "api_token", None):
                self.minter, self.source = None, None
                http.auth = SswsAuth(self.connection.api_token)
            else:
                self.minter = self._build_minter(self.connection, http)
                self.source = TokenSource(self, token_cache())
                http.auth = AccessTokenAuth(self.source)
            self.client = self._client_cls(http)
            self._fingerprint = fingerprint
            return True

    def get_client(self):
        self.refresh()
        return self.client

    # -- Minter protocol (seen by the token cache) -------------------------------------------
    @property
    def cache_key(self) -> str:
        return self.connection.cache_key

    def secret_material(self) -> bytes:
        return self.minter.secret_material()

    def mint(self) -> AccessToken:
        try:
            return self.minter.mint()
        except AuthenticationFailed:
            if not self.refresh(force=True) or self.minter is None:
                raise
            return self.minter.mint()

    def token(self) -> AccessToken | None:
        """A valid token in the shared cache (minted if needed); None for SSWS connections."""
        self.refresh()
        return self.source.current() if self.source else None


def _auth0_minter(connection: Auth0Connection, http: HttpClient):
    from .tokens.auth0 import Auth0ClientCredentials

    return Auth0ClientCredentials(connection, http)


def _okta_minter(connection: OktaConnection, http: HttpClient):
    from .tokens.okta import OktaServiceApp

    return OktaServiceApp(connection, http)


_settings: Settings | None = None
_cache: TokenCache | None = None
_tenants: dict[str, _Tenant] = {}


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def token_cache() -> TokenCache:
    global _cache
    if _cache is None:
        s = settings()
        _cache = TokenCache(s.token_cache_table, refresh_margin=s.token_refresh_margin)
    return _cache


def tenant(kind: str) -> _Tenant:
    existing = _tenants.get(kind)
    if existing is not None:
        return existing
    if kind == "auth0":
        made = _Tenant("auth0", "AUTH0_SECRET_ID", Auth0Connection.from_secret, _auth0_minter, auth0_error,
                       Auth0Client)
    elif kind == "okta":
        made = _Tenant("okta", "OKTA_SECRET_ID", OktaConnection.from_secret, _okta_minter, okta_error, OktaClient)
    else:
        raise ValueError(f"unknown connection {kind!r}: expected 'auth0' or 'okta'")
    return _tenants.setdefault(kind, made)


def auth0() -> Auth0Client:
    return tenant("auth0").get_client()


def okta() -> OktaClient:
    return tenant("okta").get_client()


@runtime.on_new_container
def reset() -> None:
    """Forget everything built in this process, Powertools' secret cache included: what a
    brand-new container would have. (The shared DynamoDB tier is untouched: that is its point.)"""
    from aws_lambda_powertools.utilities import parameters

    global _settings, _cache
    _settings = None
    _cache = None
    _tenants.clear()
    parameters.clear_caches()
