"""Settings (environment) and connection secrets (AWS Secrets Manager).

Secrets are read through Powertools ``parameters`` with a bounded cache age, validated once, and
turned into immutable connection objects whose ``repr`` never shows a secret. A malformed
secret raises :class:`ConfigurationError` naming the secret and the field, never the value.

Secret shapes (JSON):

- Auth0: ``{"domain", "client_id", "client_secret"}`` plus optional ``"audience"`` (defaults to
  ``https://{domain}/api/v2/``) and ``"base_url"`` (defaults to ``https://{domain}``; points the
  same code at the sandbox).
- Okta, OAuth service app: ``{"domain", "client_id", "private_key", "key_id", "scopes"}`` where
  ``private_key`` is a PEM (PKCS#8 or traditional) or a private JWK object, ``scopes`` a list or a
  space-separated string; optional ``"base_url"``, ``"dpop"`` (bool), ``"dpop_private_key"``,
  ``"keys"`` (a list of ``{"private_key","key_id"}`` for rotation, preferred first).
- Okta, API token: ``{"domain", "api_token"}`` (+ optional ``"base_url"``).
- A caller of the invoke API (operator CLI): the OAuth service-app shape plus
  ``"authorization_server"`` (the custom authorization server's id).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from okta_auth0_sync.base.errors import ConfigurationError

_DOMAIN = re.compile(r"^[A-Za-z0-9.-]+(:\d+)?$")
_Number = TypeVar("_Number", int, float)


@overload
def _text(data: Mapping[str, Any], key: str, source: str, *, required: Literal[True] = True) -> str: ...


@overload
def _text(data: Mapping[str, Any], key: str, source: str, *, required: bool) -> str | None: ...


def _text(data: Mapping[str, Any], key: str, source: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ConfigurationError(f"secret {source}: field '{key}' is missing or empty")
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"secret {source}: field '{key}' must be a string")
    return value.strip()


def _domain(data: Mapping[str, Any], source: str) -> str:
    domain = _text(data, "domain", source)
    domain = re.sub(r"^https?://", "", domain).rstrip("/")
    if not _DOMAIN.match(domain):
        raise ConfigurationError(f"secret {source}: 'domain' must be a host name such as acme.okta.com")
    return domain


def _base_url(data: Mapping[str, Any], domain: str, source: str) -> str:
    base = _text(data, "base_url", source, required=False)
    if base is None:
        return f"https://{domain}"
    if not re.match(r"^https?://", base):
        raise ConfigurationError(f"secret {source}: 'base_url' must start with https:// (or http:// for a sandbox)")
    return base.rstrip("/")


@dataclass(frozen=True)
class Auth0Connection:
    domain: str
    client_id: str
    client_secret: str = field(repr=False)
    base_url: str
    audience: str
    source: str = ""

    @classmethod
    def from_secret(cls, data: Mapping[str, Any], source: str = "auth0") -> Auth0Connection:
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"secret {source}: must be a JSON object")
        domain = _domain(data, source)
        return cls(
            domain=domain,
            client_id=_text(data, "client_id", source),
            client_secret=_text(data, "client_secret", source),
            base_url=_base_url(data, domain, source),
            # The audience always names the canonical tenant domain, with the trailing slash.
            audience=_text(data, "audience", source, required=False) or f"https://{domain}/api/v2/",
            source=source,
        )

    @property
    def cache_key(self) -> str:
        return f"auth0#{self.domain}#{self.client_id}"


@dataclass(frozen=True)
class AssertionKey:
    key_id: str | None
    private_key: Any = field(repr=False)  # PEM text or a private JWK mapping
    alg: str | None = None  # RS256/384/512, ES256/384/512; default from the key type


_ASSERTION_ALGS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"})


@dataclass(frozen=True)
class OktaConnection:
    domain: str
    base_url: str
    client_id: str | None = None
    keys: tuple[AssertionKey, ...] = ()
    scopes: tuple[str, ...] = ()
    api_token: str | None = field(default=None, repr=False)
    dpop: bool = False
    dpop_private_key: Any = field(default=None, repr=False)
    authorization_server: str | None = None  # a custom AS id (callers of the invoke API); None: the org AS
    source: str = ""

    @property
    def mode(self) -> str:
        return "ssws" if self.api_token else "private_key_jwt"

    @property
    def token_path(self) -> str:
        if self.authorization_server:
            return f"/oauth2/{self.authorization_server}/v1/token"
        return "/oauth2/v1/token"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}{self.token_path}"

    @property
    def cache_key(self) -> str:
        server = f"#{self.authorization_server}" if self.authorization_server else ""
        return f"okta#{self.domain}#{self.client_id or 'ssws'}{server}"

    @classmethod
    def from_secret(cls, data: Mapping[str, Any], source: str = "okta") -> OktaConnection:
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"secret {source}: must be a JSON object")
        domain = _domain(data, source)
        base_url = _base_url(data, domain, source)
        api_token = _text(data, "api_token", source, required=False)
        if api_token:
            return cls(domain=domain, base_url=base_url, api_token=api_token, source=source)
        client_id = _text(data, "client_id", source)
        keys = _signing_keys(data, source)
        scopes = data.get("scopes")
        if isinstance(scopes, str):
            scopes = scopes.split()
        if not scopes or not isinstance(scopes, list | tuple) or not all(isinstance(s, str) for s in scopes):
            raise ConfigurationError(
                f"secret {source}: 'scopes' must list the Okta scopes granted to the app, e.g. [\"okta.users.read\"]"
            )
        dpop = data.get("dpop", False)
        if not isinstance(dpop, bool):
            raise ConfigurationError(f"secret {source}: 'dpop' must be true or false")
        server = data.get("authorization_server")
        if server is not None and (not isinstance(server, str) or not re.match(r"^[A-Za-z0-9]{1,64}$", server)):
            raise ConfigurationError(f"secret {source}: 'authorization_server' must be a custom AS id such as aus1...")
        return cls(
            domain=domain,
            base_url=base_url,
            client_id=client_id,
            keys=keys,
            scopes=tuple(scopes),
            dpop=dpop,
            dpop_private_key=data.get("dpop_private_key"),
            authorization_server=server,
            source=source,
        )


def _signing_keys(data: Mapping[str, Any], source: str) -> tuple[AssertionKey, ...]:
    entries = data.get("keys")
    if entries is None:
        entries = [{"private_key": data.get("private_key"), "key_id": data.get("key_id")}]
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"secret {source}: 'keys' must be a non-empty list")
    keys = []
    for i, entry in enumerate(entries):
        where = "" if "keys" not in data else f" (keys[{i}])"
        if not isinstance(entry, Mapping):
            raise ConfigurationError(f"secret {source}: keys[{i}] must be an object")
        pem_or_jwk = entry.get("private_key")
        private: str | dict[str, Any]
        if isinstance(pem_or_jwk, str) and "PRIVATE KEY" in pem_or_jwk:
            private = pem_or_jwk
        elif isinstance(pem_or_jwk, Mapping) and "d" in pem_or_jwk:
            private = dict(pem_or_jwk)
        else:
            raise ConfigurationError(
                f"secret {source}: 'private_key'{where} must be a PEM private key or a private JWK "
                "(either this is an SSWS connection missing 'api_token', or the key is missing)"
            )
        kid = entry.get("key_id") or (pem_or_jwk.get("kid") if isinstance(pem_or_jwk, Mapping) else None)
        alg = entry.get("alg") or (data.get("alg") if "keys" not in data else None)
        if alg is not None and alg not in _ASSERTION_ALGS:
            raise ConfigurationError(
                f"secret {source}: 'alg'{where} must be one of {', '.join(sorted(_ASSERTION_ALGS))}"
            )
        keys.append(AssertionKey(key_id=kid, private_key=private, alg=alg))
    return tuple(keys)


@dataclass(frozen=True)
class Settings:
    """Environment of a function. Every variable is documented in docs/configuration.md."""

    auth0_secret_id: str | None = None
    okta_secret_id: str | None = None
    token_cache_table: str | None = None
    secret_max_age: int = 300
    token_refresh_margin: int = 300
    http_connect_timeout: float = 3.05
    http_read_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def number(name: str, default: _Number, kind: Callable[[str], _Number]) -> _Number:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = kind(raw)
            except ValueError:
                raise ConfigurationError(f"environment variable {name} must be a number") from None
            if value < 0:
                raise ConfigurationError(f"environment variable {name} must not be negative")
            return value

        return cls(
            auth0_secret_id=env.get("AUTH0_SECRET_ID") or None,
            okta_secret_id=env.get("OKTA_SECRET_ID") or None,
            token_cache_table=env.get("TOKEN_CACHE_TABLE") or None,
            secret_max_age=number("SECRET_MAX_AGE_SECONDS", 300, int),
            token_refresh_margin=number("TOKEN_REFRESH_MARGIN_SECONDS", 300, int),
            http_connect_timeout=number("HTTP_CONNECT_TIMEOUT_SECONDS", 3.05, float),
            http_read_timeout=number("HTTP_READ_TIMEOUT_SECONDS", 10.0, float),
        )
