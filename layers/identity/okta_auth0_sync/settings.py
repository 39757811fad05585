"""Configuration, validated once: the environment of a function (:class:`Settings`) and the
shapes of the connection secrets (:class:`Auth0Connection`, :class:`OktaConnection`).

**Environment.** Every variable any function reads is a field of :class:`Settings`, parsed by
:meth:`Settings.from_env` and nowhere else; :func:`current` parses it once per container (a new
container, :func:`okta_auth0_sync.base.container.new_container`, reads it again). A malformed value
raises :class:`ConfigurationError` naming the variable; a variable that a function needs and does
not have raises it when the function asks for it (:meth:`Settings.require`). The domain's policies
(:class:`~okta_auth0_sync.domain.deactivation.SyncPolicy`,
:class:`~okta_auth0_sync.domain.provisioning.ProvisioningPolicy`) are built here from their
variables. Each variable is listed in docs/configuration.md; ``POWERTOOLS_*`` are read by Powertools
and ``AWS_ENDPOINT_URL`` by boto3, not here.

**Secrets** (AWS Secrets Manager) are read through Powertools ``parameters`` with a bounded cache
age, validated once, and turned into immutable connection objects whose ``repr`` never shows a
secret. A malformed secret raises :class:`ConfigurationError` naming the secret and the field,
never the value. They live here, with the environment, because they are the same kind of thing:
configuration that an operator sets, validated into typed values before any client is built, each
mistake reported as a :class:`ConfigurationError` (the domain holds no configuration).

Secret shapes (JSON):

- Auth0: ``{"domain", "client_id", "client_secret"}`` plus optional ``"audience"`` (defaults to
  ``https://{domain}/api/v2/``) and ``"base_url"`` (defaults to ``https://{domain}``; points the
  same code at the sandbox).
- Okta, OAuth service app: ``{"domain", "client_id", "private_key", "key_id", "scopes"}`` where
  ``private_key`` is a PEM (PKCS#8 or traditional) or a private JWK object, ``scopes`` a list or a
  space-separated string; optional ``"base_url"``, ``"dpop"`` (bool), ``"dpop_private_key"``,
  ``"keys"`` (a list of ``{"private_key","key_id"}`` for rotation, preferred first).
- Okta, API token: ``{"domain", "api_token"}`` (+ optional ``"base_url"``).
- Okta, web app acting for an admin (authorization code + refresh token):
  ``{"mode": "authorization_code", "domain", "client_id", "scopes"}`` plus the app's client
  authentication, ``"client_secret"`` or ``"private_key"``/``"key_id"`` (or ``"keys"``); optional
  ``"redirect_uri"`` (a loopback ``http://127.0.0.1:<port>/<path>``, default
  ``http://127.0.0.1:8765/callback``), ``"dpop"``, ``"base_url"``. The consent command writes
  ``"refresh_token"`` (and ``"dpop_private_key"`` when DPoP is on and none is set); the functions
  replace ``"refresh_token"`` at each rotation and set ``"refresh_token_revoked"`` (a time) when
  Okta refuses it.
- A caller of the invoke API (operator CLI): the OAuth service-app shape plus
  ``"authorization_server"`` (the custom authorization server's id).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar, overload

from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.auth0_logs import ON_BLOCK, ON_DELETE, ReverseSyncPolicy
from okta_auth0_sync.domain.deprovisioning import LIFECYCLE_ACTIONS, DeprovisionPolicy
from okta_auth0_sync.domain.events import ACTIONS, DEFAULT_EVENT_TYPES
from okta_auth0_sync.domain.policies import (
    DEFAULT_PROFILE_MAPPING,
    TARGETS,
    ProvisioningPolicy,
    RevocationPolicy,
    SyncPolicy,
)
from okta_auth0_sync.domain.provisioning import RoleGroupMapping

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
    if not isinstance(value, str) or not _encodable(value):
        raise ConfigurationError(f"secret {source}: field '{key}' must be a string")
    return value.strip()


def _encodable(value: str) -> bool:
    """Whether ``value`` is text that UTF-8 can encode (JSON's "\\ud800" decodes to a lone
    surrogate, which no request can carry: UnicodeEncodeError at the first call)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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


OKTA_MODES = ("private_key_jwt", "authorization_code")
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
_LOOPBACK_REDIRECT = re.compile(r"^http://(127\.0\.0\.1|localhost|\[::1\]):(\d{1,5})(/[A-Za-z0-9._~/-]*)$")


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
    # "authorization_code" mode (a web app acting for the admin who consented)
    grant: str = "client_credentials"  # or "authorization_code"
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_revoked: str | None = None  # when the functions found it refused (re-run consent)
    redirect_uri: str = DEFAULT_REDIRECT_URI

    @property
    def mode(self) -> str:
        if self.api_token:
            return "ssws"
        return "authorization_code" if self.grant == "authorization_code" else "private_key_jwt"

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
        mode = data.get("mode")
        if mode is not None and mode not in OKTA_MODES:
            raise ConfigurationError(
                f"secret {source}: 'mode' must be one of {', '.join(OKTA_MODES)} (or absent: an API token "
                "with 'api_token', else private_key_jwt)"
            )
        api_token = _text(data, "api_token", source, required=False)
        if api_token and mode is None:
            return cls(domain=domain, base_url=base_url, api_token=api_token, source=source)
        if api_token:
            raise ConfigurationError(f"secret {source}: 'api_token' and 'mode' {mode} do not go together")
        if mode == "authorization_code":
            return cls._web_app(data, domain, base_url, source)
        client_id = _text(data, "client_id", source)
        keys = _signing_keys(data, source)
        scopes = _scopes(data, source)
        dpop = _dpop(data, source)
        server = data.get("authorization_server")
        if server is not None and not ids.matches(ids.OKTA_ID, server):
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

    @classmethod
    def _web_app(cls, data: Mapping[str, Any], domain: str, base_url: str, source: str) -> OktaConnection:
        """The authorization-code mode: the app's client authentication (a client secret or
        private_key_jwt keys, not both), its scopes, the loopback redirect URI of the consent
        command, and the refresh token once consent has run."""
        client_id = _text(data, "client_id", source)
        client_secret = _text(data, "client_secret", source, required=False)
        has_key = data.get("private_key") is not None or data.get("keys") is not None
        if client_secret and has_key:
            raise ConfigurationError(
                f"secret {source}: give the web app's 'client_secret' or its 'private_key', not both"
            )
        if not client_secret and not has_key:
            raise ConfigurationError(
                f"secret {source}: the web app authenticates with 'client_secret' (Client secret) or "
                "'private_key' and 'key_id' (Public key / Private key): give one"
            )
        scopes = tuple(s for s in _scopes(data, source) if s != "offline_access")
        redirect_uri = _text(data, "redirect_uri", source, required=False) or DEFAULT_REDIRECT_URI
        match = _LOOPBACK_REDIRECT.match(redirect_uri)
        if not match or not 1 <= int(match.group(2)) <= 65535:
            raise ConfigurationError(
                f"secret {source}: 'redirect_uri' must be a loopback URL with a port, such as "
                f"{DEFAULT_REDIRECT_URI} (the consent command listens on it)"
            )
        refresh_token = data.get("refresh_token")
        if refresh_token is not None and not (isinstance(refresh_token, str) and refresh_token.strip()):
            raise ConfigurationError(f"secret {source}: 'refresh_token' must be a non-empty string (run consent)")
        revoked = data.get("refresh_token_revoked")
        if revoked is not None and not isinstance(revoked, str):
            raise ConfigurationError(f"secret {source}: 'refresh_token_revoked' must be a time (string)")
        dpop_key = data.get("dpop_private_key")
        if dpop_key is not None and not (isinstance(dpop_key, Mapping) and "d" in dpop_key):
            raise ConfigurationError(f"secret {source}: 'dpop_private_key' must be a private JWK")
        return cls(
            domain=domain,
            base_url=base_url,
            client_id=client_id,
            keys=() if client_secret else _signing_keys(data, source),
            scopes=scopes,
            dpop=_dpop(data, source),
            dpop_private_key=dict(dpop_key) if dpop_key is not None else None,
            source=source,
            grant="authorization_code",
            client_secret=client_secret,
            refresh_token=refresh_token.strip() if refresh_token else None,
            refresh_token_revoked=revoked,
            redirect_uri=redirect_uri,
        )


# RFC 6749 section 3.3: a scope token is printable ASCII but for the quote and the backslash (a
# lone surrogate or a control character in a scope made the token request fail, UnicodeEncodeError).
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+\Z")


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _scopes(data: Mapping[str, Any], source: str) -> tuple[str, ...]:
    scopes = data.get("scopes")
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not scopes or not isinstance(scopes, list | tuple) or not all(_matches(_SCOPE_TOKEN, s) for s in scopes):
        raise ConfigurationError(
            f"secret {source}: 'scopes' must list the Okta scopes granted to the app, e.g. [\"okta.users.read\"]"
        )
    return tuple(scopes)


def _dpop(data: Mapping[str, Any], source: str) -> bool:
    dpop = data.get("dpop", False)
    if not isinstance(dpop, bool):
        raise ConfigurationError(f"secret {source}: 'dpop' must be true or false")
    return dpop


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
        if kid is not None and not (isinstance(kid, str) and kid.isprintable() and " " not in kid):
            raise ConfigurationError(f"secret {source}: 'key_id'{where} must be a string without spaces")
        alg = entry.get("alg") or (data.get("alg") if "keys" not in data else None)
        if alg is not None and alg not in _ASSERTION_ALGS:
            raise ConfigurationError(
                f"secret {source}: 'alg'{where} must be one of {', '.join(sorted(_ASSERTION_ALGS))}"
            )
        keys.append(AssertionKey(key_id=kid, private_key=private, alg=alg))
    return tuple(keys)


# ------------------------------------------------------------------------------------ environment

_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})
_STATE_MACHINE_ARN = re.compile(r"^arn:[A-Za-z0-9-]+:states:\S+$")
_METADATA_KEY = re.compile(r"^[^.$]{1,100}$")
_ATTRIBUTE = re.compile(r"^[A-Za-z0-9_]{1,100}$")


def _invalid(name: str, problem: str, value: str) -> ConfigurationError:
    return ConfigurationError(f"environment variable {name} {problem}, not {value[:40]!r}")


class _Environment:
    """Reads and checks variables; remembers each name it was asked for (:meth:`Settings.variables`)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.names: list[str] = []

    def is_set(self, name: str) -> bool:
        self.names.append(name)
        return name in self._env

    def text(self, name: str) -> str | None:
        """The value, or None when the variable is unset or empty."""
        self.names.append(name)
        return self._env.get(name) or None

    def flag(self, name: str, default: bool) -> bool:
        """``true``/``false`` (also ``1``/``0``, ``yes``/``no``; any letter case)."""
        value = self.text(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word not in _TRUE | _FALSE:
            raise _invalid(name, "must be true or false", value)
        return word in _TRUE

    def number(
        self, name: str, default: _Number, kind: Callable[[str], _Number], low: _Number, high: _Number | None = None
    ) -> _Number:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = kind(value.strip())
        except ValueError:
            raise _invalid(name, f"must be a {'whole ' if kind is int else ''}number", value) from None
        if number < low or (high is not None and number > high):
            raise _invalid(
                name, f"must be at least {low}" if high is None else f"must be between {low} and {high}", value
            )
        return number

    def matching(self, name: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = self.text(name)
        if value is not None and not pattern.match(value):
            raise _invalid(name, f"must be {what}", value)
        return value

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self.text(name) or default
        if value not in options:
            raise _invalid(name, f"must be one of {', '.join(options)}", value)
        return value


def _variable(name: str, *, kind: str = "text") -> Any:
    """A field read from one variable as text (``kind="state_machine"``: a state machine's ARN)."""
    return field(default=None, metadata={"env": name, "kind": kind})


def _read(env: _Environment, name: str, kind: str) -> str | None:
    if kind == "state_machine":
        return env.matching(name, _STATE_MACHINE_ARN, "a Step Functions ARN (arn:aws:states:...:stateMachine:...)")
    return env.text(name)


def _handled_event_types(env: _Environment) -> tuple[str, ...]:
    """``HANDLED_EVENT_TYPES``: comma separated, each a lifecycle event this package can sync."""
    configured = env.text("HANDLED_EVENT_TYPES")
    if configured is None:
        return DEFAULT_EVENT_TYPES
    types = tuple(t.strip() for t in configured.split(",") if t.strip())
    unknown = [t for t in types if t not in ACTIONS]
    if unknown or not types:
        raise ConfigurationError(
            f"environment variable HANDLED_EVENT_TYPES: cannot sync {', '.join(unknown) or 'nothing'} "
            f"(it lists Okta event types among {', '.join(ACTIONS)})"
        )
    return types


def _sync_policy(env: _Environment) -> SyncPolicy:
    key = env.text("METADATA_KEY") or "okta_sync"
    if not _METADATA_KEY.match(key):
        raise _invalid("METADATA_KEY", "must be a plain key of at most 100 characters (no '.' or '$')", key)
    return SyncPolicy(
        target=env.choice("METADATA_TARGET", "app_metadata", TARGETS),
        key=key,
        block_users=env.flag("BLOCK_DEACTIVATED_USERS", True),
        clear_legacy_flag=env.flag("CLEAR_LEGACY_FLAG", True),
        revoke=RevocationPolicy(
            sessions=env.flag("REVOKE_SESSIONS", True),
            refresh_tokens=env.flag("REVOKE_REFRESH_TOKENS", True),
        ),
    )


def _profile_mapping(env: _Environment) -> dict[str, list[str]]:
    mapping = dict(DEFAULT_PROFILE_MAPPING)
    raw = env.text("PROFILE_MAPPING")
    if raw is None:
        return mapping
    try:
        custom = json.loads(raw)
    except ValueError:
        raise ConfigurationError(
            'environment variable PROFILE_MAPPING must be JSON: {"firstName": ["given_name", ...]}'
        ) from None
    if not isinstance(custom, dict) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in custom.values()
    ):
        raise ConfigurationError("environment variable PROFILE_MAPPING maps Okta attributes to lists of Auth0 paths")
    mapping.update(custom)
    return mapping


def _mastered_attribute(env: _Environment) -> str | None:
    """``MASTERED_ATTRIBUTE``: unset, the default attribute; set but empty, none at all."""
    if not env.is_set("MASTERED_ATTRIBUTE"):
        return "auth0_mastered"
    value = (env.text("MASTERED_ATTRIBUTE") or "").strip()
    if value and not _ATTRIBUTE.match(value):
        raise _invalid("MASTERED_ATTRIBUTE", "must be an Okta profile attribute name (or empty for none)", value)
    return value or None


def _provisioning_policy(env: _Environment) -> ProvisioningPolicy:
    return ProvisioningPolicy(
        activate=env.flag("ACTIVATE_ON_CREATE", True),
        federated=env.flag("FEDERATED_USERS", True),
        mastered_attribute=_mastered_attribute(env),
        profile_mapping=_profile_mapping(env),
        skip_blocked=env.flag("SKIP_BLOCKED_AUTH0_USERS", True),
        batch_size=env.number("PROVISIONING_BATCH_SIZE", 50, int, 1, 500),
        verified_email_connections=_connection_names(env, "VERIFIED_EMAIL_CONNECTIONS"),
    )


def _deprovision_policy(env: _Environment) -> DeprovisionPolicy:
    return DeprovisionPolicy(
        enabled=env.flag("DEPROVISIONING", True),
        lifecycle=env.choice("DEPROVISION_LIFECYCLE", "none", LIFECYCLE_ACTIONS),
        adopted_users=env.flag("DEPROVISION_ADOPTED_USERS", False),
        max_percent=env.number("DEPROVISION_MAX_PERCENT", 10.0, float, 0.0, 100.0),
        event_window_seconds=60 * env.number("DEPROVISION_EVENT_WINDOW_MINUTES", 60, int, 1, 1440),
    )


_CONNECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,127}")


def _connection_names(env: _Environment, name: str) -> frozenset[str]:
    """A comma-separated list of Auth0 connection names (empty: none)."""
    names = [n.strip() for n in (env.text(name) or "").split(",") if n.strip()]
    for connection in names:
        if not _CONNECTION_NAME.fullmatch(connection):
            raise _invalid(name, "must be Auth0 connection names separated by commas", connection)
    return frozenset(names)


def _provisioning_mappings(env: _Environment) -> tuple[RoleGroupMapping, ...]:
    """``PROVISIONING_MAPPINGS``: the JSON list of ``{"role_id", "group_id"}`` the stack maps (the
    template writes the single mapping as a list of one); empty or unset: none."""
    raw = env.text("PROVISIONING_MAPPINGS")
    if raw is None:
        return ()
    try:
        items = json.loads(raw)
        if not isinstance(items, list):
            raise ValueError
        return tuple(RoleGroupMapping.from_payload(item) for item in items if item.get("role_id"))
    except (ValueError, AttributeError, InvalidInput):
        raise ConfigurationError(
            'environment variable PROVISIONING_MAPPINGS must be a JSON list such as [{"role_id": "rol_...", '
            '"group_id": "00g..."}]'
        ) from None


def _reverse_sync_policy(env: _Environment) -> ReverseSyncPolicy:
    return ReverseSyncPolicy(
        on_block=env.choice("REVERSE_SYNC_ON_BLOCK", "suspend", ON_BLOCK),
        on_delete=env.choice("REVERSE_SYNC_ON_DELETE", "deactivate", ON_DELETE),
        adopted_users=env.flag("REVERSE_SYNC_ADOPTED_USERS", False),
    )


@dataclass(frozen=True)
class Settings:
    """The environment: every variable of every function. The template gives each function the
    variables it uses (``Globals`` and its own); the others keep the defaults below."""

    # Every function (the template's Globals)
    auth0_secret_id: str | None = _variable("AUTH0_SECRET_ID")
    okta_secret_id: str | None = _variable("OKTA_SECRET_ID")
    token_cache_table: str | None = _variable("TOKEN_CACHE_TABLE")
    secret_max_age: int = 300  # SECRET_MAX_AGE_SECONDS
    token_refresh_margin: int = 300  # TOKEN_REFRESH_MARGIN_SECONDS
    http_connect_timeout: float = 3.05  # HTTP_CONNECT_TIMEOUT_SECONDS (not set by the template)
    http_read_timeout: float = 10.0  # HTTP_READ_TIMEOUT_SECONDS (not set by the template)
    # How many of this function's invocations may run at once (its reserved concurrency), sharing
    # the tenants' token buckets: the HTTP layer's pacer gives each its share of the refill.
    rate_limit_sharers: int = 1  # RATE_LIMIT_SHARERS
    xray_sdk_tracing: bool = False  # XRAY_SDK_TRACING
    # The event hook receiver
    event_hook_secret_id: str | None = _variable("EVENT_HOOK_SECRET_ID")
    handled_event_types: tuple[str, ...] = DEFAULT_EVENT_TYPES  # HANDLED_EVENT_TYPES
    # The state machines a function starts (event hook receiver, invoke API)
    deactivation_state_machine_arn: str | None = _variable("DEACTIVATION_STATE_MACHINE_ARN", kind="state_machine")
    provisioning_state_machine_arn: str | None = _variable("PROVISIONING_STATE_MACHINE_ARN", kind="state_machine")
    reconciliation_state_machine_arn: str | None = _variable("RECONCILIATION_STATE_MACHINE_ARN", kind="state_machine")
    # The metadata update
    ledger_table: str | None = _variable("LEDGER_TABLE")
    sync_policy: SyncPolicy = field(default_factory=SyncPolicy)  # METADATA_*, BLOCK_*, CLEAR_*, REVOKE_*
    # Provisioning
    state_table: str | None = _variable("STATE_TABLE")
    provisioning_bucket: str | None = _variable("PROVISIONING_BUCKET")
    provisioning_concurrency: int = 4  # PROVISIONING_CONCURRENCY (the Distributed Map's MaxConcurrency)
    provisioning_policy: ProvisioningPolicy = field(default_factory=ProvisioningPolicy)  # and its variables
    deprovision_policy: DeprovisionPolicy = field(default_factory=DeprovisionPolicy)  # DEPROVISION*
    # The invoke API's authorizer
    # (the issuer is checked by the resource server: an invoke API without one refuses every caller)
    api_issuer: str | None = _variable("API_ISSUER")
    api_audience: str | None = _variable("API_AUDIENCE")
    api_jwks_uri: str | None = _variable("API_JWKS_URI")  # default: {API_ISSUER}/v1/keys
    public_base_url: str | None = _variable("PUBLIC_BASE_URL")
    proof_replay_table: str | None = _variable("PROOF_REPLAY_TABLE")
    # The Auth0 -> Okta direction (Auth0 log stream / poll, reverse lifecycle sync, role events)
    auth0_lifecycle_state_machine_arn: str | None = _variable("AUTH0_LIFECYCLE_STATE_MACHINE_ARN", kind="state_machine")
    provisioning_mappings: tuple[RoleGroupMapping, ...] = ()  # PROVISIONING_MAPPINGS
    reverse_sync_policy: ReverseSyncPolicy = field(default_factory=ReverseSyncPolicy)  # REVERSE_SYNC_*
    auth0_log_poll_pages: int = 10  # AUTH0_LOG_POLL_PAGES (GET /api/v2/logs requests per poll)
    # Log pollers: the System Log sweep (and any poller keeping its place in the checkpoint table)
    checkpoint_table: str | None = _variable("CHECKPOINT_TABLE")
    system_log_backfill_hours: int = 24  # SYSTEM_LOG_BACKFILL_HOURS (a first sweep reads this far back)
    system_log_page_size: int = 1000  # SYSTEM_LOG_PAGE_SIZE (events per /api/v1/logs request)
    system_log_max_pages: int = 20  # SYSTEM_LOG_MAX_PAGES (requests per sweep; the rest waits for the next)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Every variable, parsed and checked (``environ`` defaults to the process environment)."""
        return cls._read(_Environment(os.environ if environ is None else environ))

    @classmethod
    def _read(cls, env: _Environment) -> Settings:
        named: dict[str, Any] = {
            f.name: _read(env, f.metadata["env"], f.metadata["kind"]) for f in fields(cls) if "env" in f.metadata
        }
        return cls(
            **named,
            secret_max_age=env.number("SECRET_MAX_AGE_SECONDS", 300, int, 0),
            token_refresh_margin=env.number("TOKEN_REFRESH_MARGIN_SECONDS", 300, int, 0),
            http_connect_timeout=env.number("HTTP_CONNECT_TIMEOUT_SECONDS", 3.05, float, 0.0),
            http_read_timeout=env.number("HTTP_READ_TIMEOUT_SECONDS", 10.0, float, 0.0),
            rate_limit_sharers=env.number("RATE_LIMIT_SHARERS", 1, int, 1, 1000),
            xray_sdk_tracing=env.flag("XRAY_SDK_TRACING", False),
            handled_event_types=_handled_event_types(env),
            sync_policy=_sync_policy(env),
            provisioning_concurrency=env.number("PROVISIONING_CONCURRENCY", 4, int, 1, 40),
            provisioning_policy=_provisioning_policy(env),
            deprovision_policy=_deprovision_policy(env),
            provisioning_mappings=_provisioning_mappings(env),
            reverse_sync_policy=_reverse_sync_policy(env),
            auth0_log_poll_pages=env.number("AUTH0_LOG_POLL_PAGES", 10, int, 1, 100),
            system_log_backfill_hours=env.number("SYSTEM_LOG_BACKFILL_HOURS", 24, int, 0, 2160),
            system_log_page_size=env.number("SYSTEM_LOG_PAGE_SIZE", 1000, int, 1, 1000),
            system_log_max_pages=env.number("SYSTEM_LOG_MAX_PAGES", 20, int, 1, 1000),
        )

    @staticmethod
    def variables() -> tuple[str, ...]:
        """The name of every variable :meth:`from_env` reads."""
        env = _Environment({})
        Settings._read(env)
        return tuple(dict.fromkeys(env.names))

    def require(self, attribute: str) -> str:
        """The value of a variable the calling function cannot do without (``"ledger_table"``), or
        :class:`ConfigurationError` naming the variable (``LEDGER_TABLE``)."""
        value = getattr(self, attribute)
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"environment variable {_VARIABLES[attribute]} is not set")
        return value


_VARIABLES = {f.name: str(f.metadata["env"]) for f in fields(Settings) if "env" in f.metadata}
_current: Settings | None = None


def current() -> Settings:
    """This container's settings: the environment is read and checked on first use, once."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


@container.on_new_container
def reset() -> None:
    """Forget this container's settings: the next :func:`current` reads the environment again."""
    global _current
    _current = None
