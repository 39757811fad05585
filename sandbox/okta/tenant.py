"""The Okta sandbox tenant: wiring of state, auth, routes, rate limits, hooks; Python API.

Routes
------
=========================================  =============================================
``GET  /.well-known/oauth-authorization-server``  org AS metadata
``GET  /oauth2/v1/keys``                   org AS signing keys (JWKS)
``POST /oauth2/v1/token``                  client credentials, ``private_key_jwt`` (+DPoP); for web
                                           apps authorization_code and refresh_token (rotation)
``GET  /oauth2/v1/authorize``              authorization code with PKCE (see :mod:`sandbox.okta.grants`)
``GET  /oauth2/{as}/.well-known/oauth-authorization-server``, ``/oauth2/{as}/v1/keys``,
``POST /oauth2/{as}/v1/token``             custom authorization servers
``/api/v1/users…``, ``/api/v1/groups…``, ``/api/v1/logs``   see :mod:`sandbox.okta.api`
=========================================  =============================================

Rate-limit buckets (fixed windows, default 60 s, all unlimited until configured):
``token``, ``users``, ``user``, ``user_write``, ``groups``, ``group``, ``logs``, ``other``;
plus an optional org concurrency limit (:meth:`OktaTenant.set_concurrency_limit`).

Credentials (app keys, client secrets, SSWS tokens, AS signing keys) are generated or
registered at run time, never read from the fixture, and survive :meth:`reset`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from okta_auth0_sync_sandbox.jose import (
    GeneratedKey,
    JtiCache,
    NonceManager,
    SigningKey,
    client_key,
    random_token,
    sha256_hex,
)
from okta_auth0_sync_sandbox.okta import errors
from okta_auth0_sync_sandbox.okta.admin import OktaAdmin
from okta_auth0_sync_sandbox.okta.api import OktaApi
from okta_auth0_sync_sandbox.okta.auth import OktaAuth
from okta_auth0_sync_sandbox.okta.grants import Grants
from okta_auth0_sync_sandbox.okta.hooks import EventHook, EventHooks
from okta_auth0_sync_sandbox.okta.log_stream import LogStream, LogStreamAdmin
from okta_auth0_sync_sandbox.okta.models import AuthorizationServer, OAuthClient
from okta_auth0_sync_sandbox.okta.service import OktaService
from okta_auth0_sync_sandbox.ratelimit import Decision
from okta_auth0_sync_sandbox.server import HTTPError, Request, Response, Router
from okta_auth0_sync_sandbox.tenant import SandboxApiError, Tenant
from okta_auth0_sync_sandbox.util import random_id

ORG_SCOPES = frozenset(
    {
        "okta.users.read", "okta.users.manage", "okta.groups.read", "okta.groups.manage",
        "okta.logs.read", "okta.eventHooks.read", "okta.eventHooks.manage", "okta.logStreams.read",
        "okta.logStreams.manage", "okta.apps.read", "okta.apps.manage", "okta.schemas.read",
        "okta.schemas.manage", "okta.userTypes.read", "okta.workflows.invoke.manage",
    }
)  # fmt: skip
BUCKETS = ("token", "users", "user", "user_write", "groups", "group", "logs", "other")


class OktaTenant(Tenant):
    kind = "okta"
    rate_limit_model = "fixed_window"

    def __init__(self, fixture: dict[str, Any], *, domain: str | None = None, **kwargs: Any) -> None:
        # credentials: not part of the fixture, survive reset()
        self.api_tokens: dict[str, dict[str, Any]] = {}
        self._client_keys: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
        self._client_secrets: dict[tuple[str | None, str], list[str]] = {}
        self._as_keys: dict[str | None, list[SigningKey]] = {}
        self._nonces: dict[str | None, NonceManager] = {}
        self._extra_clients: list[tuple[str | None, OAuthClient]] = []
        self.jti_cache = JtiCache()
        self.service = OktaService(self)
        self.auth = OktaAuth(self)
        self.grants = Grants(self)
        self.hooks = EventHooks(lambda: self.base_url, lambda: self.now())
        self.log_stream = LogStream(lambda: self.domain)
        self.org_as: AuthorizationServer
        self.auth_servers: dict[str, AuthorizationServer] = {}
        super().__init__(fixture, domain=domain or fixture.get("domain", "sandbox.okta.test"), **kwargs)

    # == wiring =============================================================================
    def register_routes(self) -> None:
        add = self.router.add
        add("GET", "/.well-known/oauth-authorization-server", lambda r: self.auth.metadata(self.org_as))
        add("GET", "/oauth2/v1/keys", lambda r: self.auth.keys(self.org_as))
        add("POST", "/oauth2/v1/token", lambda r: self.auth.token(r, self.org_as))
        add("GET", "/oauth2/v1/authorize", self.grants.authorize)
        add("GET", "/oauth2/{as}/.well-known/oauth-authorization-server", lambda r: self.auth.metadata(self._as(r)))
        add("GET", "/oauth2/{as}/v1/keys", lambda r: self.auth.keys(self._as(r)))
        add("POST", "/oauth2/{as}/v1/token", lambda r: self.auth.token(r, self._as(r)))
        OktaApi(self).register(add)

    def _as(self, request: Request) -> AuthorizationServer:
        server = self.auth_servers.get(request.params["as"])
        if server is None:
            raise errors.not_found(request.params["as"], "AuthorizationServer")
        return server

    def load_fixture(self, fixture: dict[str, Any]) -> None:
        self.service.load(fixture)
        self.hooks.clear()
        self.log_stream.clear()
        self.org_as = AuthorizationServer(
            id=None,
            name="Okta org authorization server",
            audience=None,
            scopes=set(ORG_SCOPES),
            keys=self._signing_keys(None),
            nonces=self._nonce_manager(None),
        )
        for spec in fixture.get("service_apps", []):
            self._add_client(None, self._client_from_spec(spec, default_auth="private_key_jwt"))
        self.auth_servers = {}
        for spec in fixture.get("authorization_servers", []):
            server = AuthorizationServer(
                id=spec["id"],
                name=spec.get("name", spec["id"]),
                audience=spec.get("audience", "api://default"),
                scopes=set(spec.get("scopes", [])),
                keys=self._signing_keys(spec["id"]),
                nonces=self._nonce_manager(spec["id"]),
                token_lifetime=int(spec.get("token_lifetime", 3600)),
            )
            self.auth_servers[server.id] = server  # type: ignore[index]
            for client_spec in spec.get("clients", []):
                self._add_client(server.id, self._client_from_spec(client_spec, default_auth="private_key_jwt"))
        for as_id, template in self._extra_clients:
            server = self.auth_server(as_id)
            if template.client_id not in server.clients:
                self._add_client(as_id, OAuthClient(**{**template.__dict__, "scopes": set(template.scopes)}))

    @staticmethod
    def _client_from_spec(spec: dict[str, Any], default_auth: str) -> OAuthClient:
        return OAuthClient(
            client_id=spec["client_id"],
            name=spec.get("name", spec["client_id"]),
            scopes=set(spec.get("scopes", [])),
            dpop_bound=bool(spec.get("dpop_bound", False)),
            auth_method=spec.get("auth", default_auth),
        )

    def _add_client(self, as_id: str | None, client: OAuthClient) -> None:
        key = (as_id, client.client_id)
        client.keys = self._client_keys.setdefault(key, [])
        client.secret_hashes = self._client_secrets.setdefault(key, [])
        self.auth_server(as_id).clients[client.client_id] = client

    def _signing_keys(self, as_id: str | None) -> list[SigningKey]:
        if as_id not in self._as_keys:
            self._as_keys[as_id] = [SigningKey.generate(kid=random_token(24)[:43])]
        return self._as_keys[as_id]

    def _nonce_manager(self, as_id: str | None) -> NonceManager:
        if as_id not in self._nonces:
            self._nonces[as_id] = NonceManager(lambda: self.now())
        return self._nonces[as_id]

    # == pipeline hooks =====================================================================
    def rate_limit_buckets(self) -> tuple[str, ...]:
        return BUCKETS

    def classify(self, request: Request) -> list[str]:
        template, method = request.route or "", request.method
        if template.endswith("/v1/token"):
            return ["token"]
        if template == "/api/v1/users":
            return ["users"]
        if template.startswith("/api/v1/users/{id}"):
            return ["user"] if method == "GET" else ["user_write"]
        if template == "/api/v1/groups":
            return ["groups"]
        if template.startswith("/api/v1/groups/{id}"):
            return ["group"]
        if template == "/api/v1/logs":
            return ["logs"]
        if template.startswith("/api/v1/"):
            return ["other"]
        return []

    def rate_limit_headers(self, decision: Decision) -> list[tuple[str, str]]:
        return [
            ("X-Rate-Limit-Limit", str(decision.limit)),
            ("X-Rate-Limit-Remaining", str(decision.remaining)),
            ("X-Rate-Limit-Reset", str(decision.reset)),
        ]

    def _too_many(self) -> Response:
        return errors.api_error(429, "E0000047", "API call exceeded rate limit due to too many requests.")

    def rate_limited(self, request: Request, decision: Decision) -> Response:
        return self._too_many()

    def concurrency_limited(self, request: Request) -> Response:
        return self._concurrency_429()

    def _concurrency_429(self) -> Response:
        response = self._too_many()
        for name, value in (
            ("X-Rate-Limit-Limit", "0"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", str(math.ceil(self.now()) + 1)),
        ):
            response.set_header(name, value)
        return response

    def fault_response(self, status: int) -> Response:
        if status == 429:
            return self._concurrency_429()
        if status == 500:
            return errors.api_error(500, "E0000009", "Internal Server Error")
        if status in (502, 503, 504):
            return Response.html(status)
        return errors.api_error(
            status,
            "E0000009" if status >= 500 else "E0000001",
            "Internal Server Error" if status >= 500 else "Api validation failed",
        )

    def not_found(self, request: Request) -> Response:
        return errors.api_error(404, "E0000007", f"Not found: Resource not found: {request.path} (Page)")

    def method_not_allowed(self, request: Request) -> Response:
        return errors.api_error(405, "E0000022", "The endpoint does not support the provided HTTP method")

    def length_required(self, request: Request) -> Response | None:
        return Response.html(411) if request.method in ("POST", "PUT") else None

    def decorate(self, request: Request, response: Response) -> None:
        super().decorate(request, response)
        response.set_header("X-Okta-Request-Id", request.context.get("request_id") or self.new_request_id())

    def reset(self, fixture: dict[str, Any] | None = None) -> None:
        super().reset(fixture)
        self.jti_cache.clear()
        self.grants.clear()

    # == Python API: credentials ============================================================
    def auth_server(self, as_id: str | None = None) -> AuthorizationServer:
        """The org AS (``None``) or a custom AS by id."""
        if as_id is None:
            return self.org_as
        try:
            return self.auth_servers[as_id]
        except KeyError:
            raise KeyError(f"no authorization server {as_id!r}") from None

    def client(self, client_id: str, auth_server: str | None = None) -> OAuthClient:
        try:
            return self.auth_server(auth_server).clients[client_id]
        except KeyError:
            raise KeyError(f"no client {client_id!r} on authorization server {auth_server or 'org'}") from None

    def register_service_app(
        self,
        client_id: str | None = None,
        *,
        name: str = "sandbox-service-app",
        scopes: Iterable[str] = (),
        dpop_bound: bool = False,
    ) -> OAuthClient:
        """Create an API Services app on the org AS (``private_key_jwt`` only)."""
        return self._register_client(None, client_id, name, scopes, dpop_bound, "private_key_jwt")

    def register_as_client(
        self,
        auth_server: str,
        client_id: str | None = None,
        *,
        name: str = "sandbox-client",
        scopes: Iterable[str] = (),
        auth: str = "private_key_jwt",
        dpop_bound: bool = False,
    ) -> OAuthClient:
        """Create a client on a custom AS; ``auth`` is ``private_key_jwt`` or ``client_secret``."""
        if auth not in ("private_key_jwt", "client_secret"):
            raise ValueError("auth must be 'private_key_jwt' or 'client_secret'")
        return self._register_client(auth_server, client_id, name, scopes, dpop_bound, auth)

    def _register_client(
        self, as_id: str | None, client_id: str | None, name: str, scopes: Iterable[str], dpop_bound: bool, auth: str
    ) -> OAuthClient:
        server = self.auth_server(as_id)
        unknown = set(scopes) - server.scopes
        if unknown:
            raise ValueError(f"scopes not defined on the authorization server: {sorted(unknown)}")
        client = OAuthClient(client_id or random_id("0oa"), name, set(scopes), dpop_bound, auth)
        with self.lock:
            self._add_client(as_id, client)
            self._extra_clients.append((as_id, OAuthClient(client.client_id, name, set(scopes), dpop_bound, auth)))
        return client

    def register_web_app(
        self,
        client_id: str | None = None,
        *,
        name: str = "sandbox-web-app",
        scopes: Iterable[str] = (),
        redirect_uris: Iterable[str] = (),
        auth: str = "client_secret",
        dpop_bound: bool = False,
        rotation: str = "ROTATE",
        leeway: int = 30,
        pkce_required: bool = True,
        grant_types: Iterable[str] = ("authorization_code", "refresh_token"),
    ) -> OAuthClient:
        """Create an OIDC web app on the org AS (authorization code + refresh token), its Okta API
        scopes granted; ``auth`` is ``client_secret`` (then :meth:`register_client_secret`) or
        ``private_key_jwt`` (then :meth:`register_app_key`)."""
        if auth not in ("private_key_jwt", "client_secret"):
            raise ValueError("auth must be 'private_key_jwt' or 'client_secret'")
        if rotation not in ("ROTATE", "STATIC") or not 0 <= leeway <= 60:
            raise ValueError("rotation is ROTATE or STATIC, leeway 0 to 60 seconds")
        unknown = set(scopes) - self.org_as.scopes
        if unknown:
            raise ValueError(f"scopes not defined on the authorization server: {sorted(unknown)}")
        settings: dict[str, Any] = {
            "app_type": "web",
            "redirect_uris": list(redirect_uris),
            "grant_types": set(grant_types),
            "pkce_required": pkce_required,
            "refresh_rotation": rotation,
            "refresh_leeway": leeway,
        }
        client = OAuthClient(client_id or random_id("0oa"), name, set(scopes), dpop_bound, auth, **settings)
        with self.lock:
            self._add_client(None, client)
            template = OAuthClient(client.client_id, name, set(scopes), dpop_bound, auth, **settings)
            self._extra_clients.append((None, template))
        return client

    def set_refresh_rotation(self, client_id: str, rotation: str = "ROTATE", leeway: int = 30) -> None:
        client = self.client(client_id)
        client.refresh_rotation, client.refresh_leeway = rotation, leeway

    def sign_in(self, login: str | None, *, decision: str = "approve") -> None:
        """Test only: an admin is signed in to the org in "the browser", and ``/authorize``
        answers as if they approved (``decision="deny"``: as if they refused); ``None`` signs out."""
        if login is None:
            self.grants.signed_in = None
            return
        user = self.service.directory.find_user(login)
        if user is None or user.status != "ACTIVE":
            raise ValueError(f"no active user {login!r} to sign in")
        if decision not in ("approve", "deny"):
            raise ValueError("decision is 'approve' or 'deny'")
        self.grants.signed_in = (user.id, decision)

    def register_app_key(
        self,
        client_id: str,
        *,
        public_jwk: dict[str, Any] | None = None,
        alg: str = "RS256",
        kid: str | None = None,
        auth_server: str | None = None,
    ) -> GeneratedKey | None:
        """Register a public key for a client (several keys = rotation).  Without
        ``public_jwk`` a key pair is generated and returned (the PEM is not kept)."""
        client = self.client(client_id, auth_server)
        jwk, generated = client_key(public_jwk, alg, kid)
        with self.lock:
            client.keys.append(jwk)
        return generated

    def remove_app_key(self, client_id: str, kid: str, auth_server: str | None = None) -> None:
        client = self.client(client_id, auth_server)
        with self.lock:
            client.keys[:] = [k for k in client.keys if k.get("kid") != kid]

    def register_client_secret(self, client_id: str, auth_server: str | None = None) -> str:
        """Generate a client secret for a ``client_secret`` client (custom AS, or an org-AS web app)."""
        client = self.client(client_id, auth_server)
        if client.auth_method != "client_secret":
            raise ValueError(f"client {client_id} authenticates with {client.auth_method}")
        secret = random_token(30)
        with self.lock:
            client.secret_hashes.append(sha256_hex(secret))
        return secret

    def set_dpop_bound(self, client_id: str, bound: bool = True, auth_server: str | None = None) -> None:
        self.client(client_id, auth_server).dpop_bound = bound

    def register_api_token(self, name: str = "sandbox") -> str:
        """Create an SSWS API token (full admin privileges).  Returns the token."""
        token = "00" + random_token(30)[:40]
        with self.lock:
            self.api_tokens[sha256_hex(token)] = {"name": name, "created": self.now()}
        return token

    def jwks(self, auth_server: str | None = None) -> dict[str, Any]:
        """The public JWKS of an authorization server (what ``/v1/keys`` serves)."""
        return {"keys": [k.jwk() for k in self.auth_server(auth_server).keys]}

    def rotate_signing_key(self, auth_server: str | None = None, keep_previous: bool = True) -> str:
        """Make a new active signing key; the old one stays published unless told not to."""
        keys = self.auth_server(auth_server).keys
        new = SigningKey.generate(kid=random_token(24)[:43])
        with self.lock:
            keys[:] = [new, *keys] if keep_previous else [new]
        return new.kid

    def rotate_dpop_nonce(self, auth_server: str | None = None) -> None:
        self.auth_server(auth_server).nonces.rotate()

    # == Python API: rate limits ==============================================================
    def set_rate_limit(self, bucket: str, limit: int | None = None, window: float | None = None) -> None:  # type: ignore[override]
        """``set_rate_limit("users", 600)`` or ``…, window=6``; ``limit=None`` removes it."""
        if limit is None:
            self.remove_rate_limit(bucket)
            return
        params: dict[str, Any] = {"limit": limit}
        if window:
            params["window"] = window
        super().set_rate_limit(bucket, **params)

    def set_window(self, seconds: float) -> None:
        """Default window for every bucket (scale time down for benchmarks)."""
        self.rate_limiter.set_window(seconds)

    def set_concurrency_limit(self, limit: int | None) -> None:
        """At most ``limit`` requests in flight; more get 429 with Limit/Remaining 0."""
        self.concurrency_limit = limit

    def configure_rate_limits(self, spec: dict[str, Any]) -> None:
        spec = dict(spec)
        if "window" in spec:
            self.set_window(float(spec.pop("window")))
        if "concurrency" in spec:
            value = spec.pop("concurrency")
            self.set_concurrency_limit(None if value is None else int(value))
        super().configure_rate_limits(spec)

    # == Python API: data =====================================================================
    def get_user(self, id_or_login: str) -> dict[str, Any] | None:
        with self.lock:
            user = self.service.directory.find_user(id_or_login)
            return user.to_json(self.base_url) if user else None

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            d = self.service.directory
            return [d.users[i].to_json(self.base_url) for i in d.sorted_ids]

    def groups(self) -> list[dict[str, Any]]:
        with self.lock:
            return [g.to_json(self.base_url) for g in self.service.directory.groups.values()]

    def group_member_ids(self, group_id: str) -> list[str]:
        with self.lock:
            return sorted(self.service.group(group_id).members)

    def add_user(
        self,
        profile: dict[str, Any],
        *,
        status: str = "ACTIVE",
        group_ids: Iterable[str] = (),
        provider: str = "OKTA",
        user_id: str | None = None,
    ) -> dict[str, Any]:
        """Seed a user directly (no System Log event, no validation beyond uniqueness)."""
        with self.lock:
            spec = {
                "id": user_id,
                "status": status,
                "profile": profile,
                "credentials": {"provider": {"type": provider, "name": provider}},
            }
            if profile.get("login", "").lower() in self.service.directory.by_login:
                raise ValueError(f"login {profile.get('login')} already exists")
            user = self.service.user_from_fixture(spec, self.now())
            self.service.directory.add_user(user)
            for gid in group_ids:
                self.service.group(gid).members.add(user.id)
            return user.to_json(self.base_url)

    def bulk_add_users(self, count: int, **kwargs: Any) -> list[str]:
        """Seed ``count`` users fast (``login_template="bulk.user{n}@example.com"``,
        ``status``, ``group_ids``, ``profile``, ``start``).  Returns the ids."""
        with self.lock:
            return self.service.bulk_add_users(count, **kwargs)

    def lifecycle(self, user_id: str, op: str) -> dict[str, Any]:
        """Apply a lifecycle operation as an admin in the Admin Console (writes the System Log
        event, which queues event-hook deliveries).  Raises ``SandboxApiError`` on rule errors."""
        with self.lock:
            try:
                return self.service.lifecycle(user_id, op)
            except HTTPError as exc:
                raise SandboxApiError(exc.response) from None

    def deactivate_user(self, user_id: str) -> None:
        self.lifecycle(user_id, "deactivate")

    def activate_user(self, user_id: str) -> None:
        self.lifecycle(user_id, "activate")

    def log_events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [e.event for e in self.service.logs if event_type is None or e.event["eventType"] == event_type]

    def admin_actor(self) -> dict[str, Any]:
        return self.service.admin

    # == Python API: event hooks ==============================================================
    def register_event_hook(
        self, url: str, event_types: Iterable[str], authorization: str | None = None, **kwargs: Any
    ) -> EventHook:
        """Register (and by default verify) an event hook; see :class:`EventHooks`."""
        return self.hooks.register(url, list(event_types), authorization, **kwargs)

    def flush_event_hooks(self) -> list[Any]:
        return self.hooks.flush()

    def stop(self) -> None:
        self.hooks.stop_background()
        super().stop()

    # == admin endpoints =======================================================================
    def admin_routes(self, router: Router) -> None:
        OktaAdmin(self).register(router)
        LogStreamAdmin(self.log_stream).register(router)

    def snapshot(self) -> dict[str, Any]:
        d = self.service.directory
        return {
            "tenant": "okta",
            "domain": self.domain,
            "base_url": self.base_url,
            "users": [d.users[i].to_json(self.base_url) for i in d.sorted_ids],
            "groups": [{**g.to_json(self.base_url), "members": sorted(g.members)} for g in d.groups.values()],
            "user_schema": {"custom": self.service.custom_attributes},
            "service_apps": [c.public_view() for c in self.org_as.clients.values()],
            "authorization_servers": [
                {
                    "id": s.id,
                    "name": s.name,
                    "issuer": s.issuer(self.base_url),
                    "audience": s.audience,
                    "scopes": sorted(s.scopes),
                    "key_ids": [k.kid for k in s.keys],
                    "clients": [c.public_view() for c in s.clients.values()],
                }
                for s in self.auth_servers.values()
            ],
            "api_tokens": [{"name": t["name"]} for t in self.api_tokens.values()],
            "event_hooks": [h.public_view(self.base_url) for h in self.hooks.hooks.values()],
            "system_log_events": len(self.service.logs),
            "rate_limits": self.rate_limits,
            "concurrency_limit": self.concurrency_limit,
        }
