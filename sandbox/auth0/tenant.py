"""The Auth0 sandbox tenant: wiring of state, auth, routes, rate limits; Python API.

Routes
------
``POST /oauth/token``                     client credentials (JSON or form)
``GET  /.well-known/jwks.json``           tenant signing keys
``GET  /api/v2/users-by-email``           exact, case-sensitive lookup
``GET  /api/v2/users``                    Lucene search, offset paging, 1,000-result cap
``GET|PATCH /api/v2/users/{id}``          read; top-level metadata merge
``GET  /api/v2/roles``, ``/roles/{id}``, ``/roles/{id}/users`` (offset or checkpoint)
``POST /api/v2/roles/{id}/users``, ``GET|POST|DELETE /api/v2/users/{id}/roles``,
``DELETE /api/v2/users/{id}``, ``GET /api/v2/logs`` (checkpoint or search), ``/logs/{id}``: see
:mod:`sandbox.auth0.logs_api`; every successful write is logged (``sapi``, ``sdu``) and can be
streamed as EventBridge envelopes: :mod:`sandbox.auth0.logs`
sessions, refresh tokens, revoke-access (Enterprise plan), device credentials: see
:mod:`sandbox.auth0.session_api`; ``grant_type=refresh_token``: :mod:`sandbox.auth0.auth`

The tenant's ``plan`` (fixture key ``"plan"``, :meth:`Auth0Tenant.set_plan`; default
``enterprise``) gates the Enterprise-only endpoints and the ``device_credentials_write`` bucket.

Rate-limit buckets (token buckets, all unlimited until configured): ``global`` (checked
first for every ``/api/v2`` call), ``users_read``, ``users_write``, ``token``,
``device_credentials_write`` (POST/DELETE ``/device-credentials`` on non-Enterprise plans).

Credentials (client secrets and keys) are generated at run time and survive :meth:`reset`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from okta_auth0_sync_sandbox.auth0 import errors
from okta_auth0_sync_sandbox.auth0.api import Auth0Api
from okta_auth0_sync_sandbox.auth0.auth import Auth0Auth
from okta_auth0_sync_sandbox.auth0.logs import TenantLogs
from okta_auth0_sync_sandbox.auth0.logs_api import LogsApi
from okta_auth0_sync_sandbox.auth0.models import Client, ResourceServer
from okta_auth0_sync_sandbox.auth0.service import Auth0Service
from okta_auth0_sync_sandbox.auth0.session_api import ENTERPRISE, USER_SUBRESOURCES, SessionApi
from okta_auth0_sync_sandbox.auth0.sessions import SessionService
from okta_auth0_sync_sandbox.jose import GeneratedKey, JtiCache, SigningKey, client_key, random_token, sha256_hex
from okta_auth0_sync_sandbox.ratelimit import Decision
from okta_auth0_sync_sandbox.server import HTTPError, Request, Response
from okta_auth0_sync_sandbox.tenant import SandboxApiError, Tenant

BUCKETS = ("global", "users_read", "users_write", "token", "device_credentials_write")
PLANS = ("free", "essentials", "professional", ENTERPRISE)
MANAGEMENT_SCOPES = frozenset(
    {
        "read:users", "update:users", "update:users_app_metadata", "create:users", "delete:users",
        "read:roles", "read:role_members", "create:role_members", "delete:role_members",
        "read:clients", "read:connections", "read:logs", "create:users_app_metadata",
        "read:sessions", "delete:sessions", "read:refresh_tokens", "delete:refresh_tokens",
        "read:device_credentials", "delete:device_credentials",
    }
)  # fmt: skip
_RATE_MESSAGE = "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers."


class Auth0Tenant(Tenant):
    kind = "auth0"
    rate_limit_model = "token_bucket"

    def __init__(self, fixture: dict[str, Any], *, domain: str | None = None, **kwargs: Any) -> None:
        self._client_secrets: dict[str, list[str]] = {}
        self._client_keys: dict[str, list[dict[str, Any]]] = {}
        self._extra_clients: list[Client] = []
        self._extra_apis: list[ResourceServer] = []
        self.jti_cache = JtiCache()
        #: overrides every API's token lifetime when set (seconds)
        self.token_lifetime: int | None = None
        domain = domain or fixture.get("domain", "sandbox.auth0.test")
        self.signing_keys = [SigningKey.generate(kid=random_token(16), certificate_subject=domain)]
        self.service = Auth0Service(self)
        self.sessions = SessionService(self)
        self.auth = Auth0Auth(self)
        #: the tenant log (``sapi``/``sdu`` for the writes performed), served by ``GET /api/v2/logs``
        self.tenant_logs = TenantLogs(self)
        #: "enterprise" (default), "professional", "essentials" or "free"
        self.plan = ENTERPRISE
        self.clients: dict[str, Client] = {}
        self.apis: dict[str, ResourceServer] = {}
        super().__init__(fixture, domain=domain, **kwargs)

    @property
    def management_audience(self) -> str:
        return f"https://{self.domain}/api/v2/"

    # == wiring =============================================================================
    def register_routes(self) -> None:
        add = self.router.add
        add("POST", "/oauth/token", self.auth.token)
        add("GET", "/.well-known/jwks.json", self.auth.jwks)
        Auth0Api(self).register(add)
        SessionApi(self).register(add)
        LogsApi(self).register(add)

    def load_fixture(self, fixture: dict[str, Any]) -> None:
        self.plan = self._known_plan(fixture.get("plan", ENTERPRISE))
        self.service.load(fixture)
        self.apis = {
            self.management_audience: ResourceServer(
                self.management_audience, "Auth0 Management API", set(MANAGEMENT_SCOPES)
            )
        }
        for spec in fixture.get("apis", []):
            api = ResourceServer(
                spec["identifier"],
                spec.get("name", spec["identifier"]),
                set(spec.get("scopes", [])),
                int(spec.get("token_lifetime", 86400)),
            )
            self.apis[api.identifier] = api
        for api in self._extra_apis:
            self.apis.setdefault(api.identifier, api)
        self.clients = {}
        for spec in fixture.get("clients", []):
            grants = {aud: set(scopes) for aud, scopes in spec.get("grants", {}).items()}
            if "management_api_scopes" in spec:
                grants[self.management_audience] = set(spec["management_api_scopes"])
            self._add_client(
                Client(
                    spec["client_id"],
                    spec.get("name", spec["client_id"]),
                    grants,
                    spec.get("token_endpoint_auth_method", "client_secret_post"),
                )
            )
        for template in self._extra_clients:
            if template.client_id not in self.clients:
                self._add_client(
                    Client(
                        template.client_id,
                        template.name,
                        {a: set(s) for a, s in template.grants.items()},
                        template.auth_method,
                    )
                )

    def _add_client(self, client: Client) -> None:
        client.secret_hashes = self._client_secrets.setdefault(client.client_id, [])
        client.keys = self._client_keys.setdefault(client.client_id, [])
        self.clients[client.client_id] = client

    # == pipeline hooks =====================================================================
    def rate_limit_buckets(self) -> tuple[str, ...]:
        return BUCKETS

    def classify(self, request: Request) -> list[str]:
        template, method = request.route or "", request.method
        if template == "/oauth/token":
            return ["token"]
        if template.startswith("/api/v2/"):
            return ["global", *self._endpoint_buckets(template, method)]
        return []

    def _endpoint_buckets(self, template: str, method: str) -> list[str]:
        if template.startswith("/api/v2/device-credentials"):  # "Write Device Credentials" (Essentials/Professional)
            return ["device_credentials_write"] if method in ("POST", "DELETE") and self.plan != ENTERPRISE else []
        if template in USER_SUBRESOURCES:  # sessions & refresh tokens: no bucket of their own
            return []
        if template.startswith("/api/v2/users") or template == "/api/v2/roles/{id}/users":
            return ["users_read" if method == "GET" else "users_write"]
        return []

    def rate_limit_headers(self, decision: Decision) -> list[tuple[str, str]]:
        return [
            ("x-ratelimit-limit", str(decision.limit)),
            ("x-ratelimit-remaining", str(decision.remaining)),
            ("x-ratelimit-reset", str(decision.reset)),
        ]

    def rate_limited(self, request: Request, decision: Decision) -> Response:
        headers = []
        bucket = self.rate_limiter.bucket(decision.bucket)
        if bucket is not None and getattr(bucket, "retry_after", False):
            headers.append(("Retry-After", str(max(math.ceil(decision.retry_after), 1))))
        if decision.bucket == "token":
            return Response.json(
                {"error": "too_many_requests", "error_description": "Global limit has been reached"}, 429, headers
            )
        message = "Global limit has been reached" if decision.bucket == "global" else _RATE_MESSAGE
        return errors.api_error(429, message, "too_many_requests", headers=headers)

    def fault_response(self, status: int) -> Response:
        if status == 429:
            response = errors.api_error(429, "Global limit has been reached", "too_many_requests")
            for name, value in (
                ("x-ratelimit-limit", "0"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", str(math.ceil(self.now()) + 1)),
            ):
                response.set_header(name, value)
            return response
        return errors.api_error(status, "An unexpected error occurred" if status >= 500 else "Bad Request")

    def not_found(self, request: Request) -> Response:
        return errors.api_error(404, "Not Found")

    def method_not_allowed(self, request: Request) -> Response:
        return errors.api_error(405, "Method Not Allowed")

    def decorate(self, request: Request, response: Response) -> None:
        super().decorate(request, response)
        # Auth0 logs every successful Management API write (sapi), and a deletion as sdu too.
        self.tenant_logs.api_write(request, response)
        deleted = request.context.get("deleted_user")
        if deleted is not None:
            self.tenant_logs.user_deleted(deleted, request.context.get("deleted_by", ""))

    def reset(self, fixture: dict[str, Any] | None = None) -> None:
        super().reset(fixture)
        self.jti_cache.clear()
        self.tenant_logs.clear()
        self.token_lifetime = None

    # == Python API: credentials ============================================================
    def register_client(
        self,
        client_id: str | None = None,
        *,
        name: str = "sandbox-m2m",
        management_scopes: Iterable[str] = (),
        grants: dict[str, Iterable[str]] | None = None,
        auth_method: str = "client_secret_post",
    ) -> Client:
        """Create an M2M client; ``management_scopes`` grant the Management API."""
        all_grants = {aud: set(s) for aud, s in (grants or {}).items()}
        if management_scopes:
            all_grants[self.management_audience] = set(management_scopes)
        client = Client(client_id or random_token(24)[:32], name, all_grants, auth_method)
        with self.lock:
            self._add_client(client)
            self._extra_clients.append(
                Client(client.client_id, name, {a: set(s) for a, s in all_grants.items()}, auth_method)
            )
        return client

    def register_api(
        self, identifier: str, scopes: Iterable[str], *, name: str | None = None, token_lifetime: int = 86400
    ) -> ResourceServer:
        api = ResourceServer(identifier, name or identifier, set(scopes), token_lifetime)
        with self.lock:
            self.apis[identifier] = api
            self._extra_apis.append(api)
        return api

    def client(self, client_id: str) -> Client:
        try:
            return self.clients[client_id]
        except KeyError:
            raise KeyError(f"no client {client_id!r}") from None

    def register_client_secret(self, client_id: str) -> str:
        """Generate (another) client secret.  Returns it; only a hash is kept."""
        client = self.client(client_id)
        secret = random_token(48)[:64]
        with self.lock:
            client.secret_hashes.append(sha256_hex(secret))
        return secret

    def register_client_key(
        self, client_id: str, *, public_jwk: dict[str, Any] | None = None, alg: str = "RS256", kid: str | None = None
    ) -> GeneratedKey | None:
        """Register a public key for ``private_key_jwt`` (switches the client to it).
        Without ``public_jwk`` a key pair is generated and returned."""
        client = self.client(client_id)
        with self.lock:
            client.auth_method = "private_key_jwt"
        jwk, generated = client_key(public_jwk, alg, kid)
        with self.lock:
            client.keys.append(jwk)
        return generated

    def set_grant(self, client_id: str, audience: str, scopes: Iterable[str] | None) -> None:
        """Grant ``scopes`` of ``audience`` to a client (``None`` removes the grant)."""
        client = self.client(client_id)
        with self.lock:
            if scopes is None:
                client.grants.pop(audience, None)
            else:
                client.grants[audience] = set(scopes)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.signing_keys]}

    def rotate_signing_key(self, keep_previous: bool = True) -> str:
        new = SigningKey.generate(kid=random_token(16), certificate_subject=self.domain)
        with self.lock:
            self.signing_keys[:] = [new, *self.signing_keys] if keep_previous else [new]
        return new.kid

    # == Python API: plan ====================================================================
    @staticmethod
    def _known_plan(plan: str) -> str:
        if plan not in PLANS:
            raise ValueError(f"unknown Auth0 plan {plan!r}; known: {PLANS}")
        return plan

    def set_plan(self, plan: str) -> None:
        """``"enterprise"``, ``"professional"``, ``"essentials"`` or ``"free"`` (until :meth:`reset`)."""
        with self.lock:
            self.plan = self._known_plan(plan)

    # == Python API: rate limits ==============================================================
    def set_rate_limit(
        self, bucket: str, burst: int | None = None, rate: float | None = None, retry_after: bool = False
    ) -> None:  # type: ignore[override]
        """``set_rate_limit("global", burst=50, rate=16)``; ``burst=None`` removes it."""
        if burst is None:
            self.remove_rate_limit(bucket)
            return
        if rate is None:
            raise ValueError("rate (tokens per second) is required")
        super().set_rate_limit(bucket, burst=burst, rate=rate, retry_after=retry_after)

    # == Python API: data =====================================================================
    def get_user(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            user = self.service.store.users.get(user_id)
            return self.service.store.copy_user(user) if user else None

    def users(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self.service.store.copy_user(u) for u in self.service.store.users.values()]

    def users_by_email(self, email: str) -> list[dict[str, Any]]:
        with self.lock:
            store = self.service.store
            return [store.copy_user(store.users[u]) for u in store.by_email.get(email, [])]

    def roles(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r.to_json() for r in self.service.store.roles.values()]

    def role_member_ids(self, role_id: str) -> list[str]:
        with self.lock:
            return sorted(self.service.role(role_id).members)

    def add_user(self, connection: str = "Username-Password-Authentication", **attributes: Any) -> dict[str, Any]:
        """Seed a user (fixture-style attributes: ``email``, ``name``, ``user_metadata``…)."""
        with self.lock:
            user = self.service.build_user({"connection": connection, **attributes}, self.now())
            self.service.store.add_user(user)
            return self.service.store.copy_user(user)

    def update_user(self, user_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Apply a PATCH body with the API's semantics (raises ``SandboxApiError``)."""
        with self.lock:
            try:
                return self.service.store.copy_user(self.service.patch_user(user_id, patch))
            except HTTPError as exc:
                raise SandboxApiError(exc.response) from None

    def add_role_members(self, role_id: str, user_ids: Iterable[str]) -> None:
        with self.lock:
            role = self.service.role(role_id)
            for uid in user_ids:
                if uid not in self.service.store.users:
                    raise KeyError(f"no user {uid!r}")
                role.members.add(uid)

    def bulk_add_users(
        self,
        count: int,
        *,
        connection: str = "Username-Password-Authentication",
        email_template: str = "bulk.user{n}@example.com",
        role_id: str | None = None,
        user_metadata: dict[str, Any] | None = None,
        start: int = 1,
    ) -> list[str]:
        """Seed ``count`` users quickly (optionally as members of ``role_id``)."""
        with self.lock:
            conn = self.service.connection(connection)
            now = self.now()
            ids = []
            for n in range(start, start + count):
                email = email_template.format(n=n)
                spec: dict[str, Any] = {
                    "connection": conn.name,
                    "email": email,
                    "given_name": "Bulk",
                    "family_name": f"User{n}",
                    "name": f"Bulk User{n}",
                    "picture": "https://cdn.auth0.com/avatars/bu.png",
                }
                if user_metadata is not None:
                    spec["user_metadata"] = dict(user_metadata)
                user = self.service.build_user(spec, now)
                self.service.store.add_user(user)
                ids.append(user["user_id"])
            if role_id is not None:
                self.service.role(role_id).members.update(ids)
            return ids

    # == Python API: sessions and refresh tokens ==============================================
    def login(
        self, user_id: str, client_id: str | None = None, rotating: bool = False, offline_access: bool = True
    ) -> dict[str, str | None]:
        """Simulate a user who logged in (no browser): a new session and, with ``offline_access``,
        a refresh token for ``client_id`` (default: the first public client, else the first
        client). Returns ``{"session_id", "refresh_token" (the value), "refresh_token_id"}``.
        Raises ``SandboxApiError`` (401 ``unauthorized`` "user is blocked") for a blocked user."""
        with self.lock:
            user = self.service.store.users.get(user_id)
            if user is None:
                raise KeyError(f"no user {user_id!r}")
            client = self.client(client_id) if client_id else self._login_client()
            try:
                return self.sessions.login(user, client, rotating=rotating, offline_access=offline_access)
            except HTTPError as exc:
                raise SandboxApiError(exc.response) from None

    def _login_client(self) -> Client:
        clients = list(self.clients.values())
        if not clients:
            raise ValueError("the tenant has no client to log in to")
        return next((c for c in clients if c.auth_method == "none"), clients[0])

    def session_active(self, session_id: str) -> bool:
        """The session exists and has not expired (a block does not end it in the sandbox)."""
        with self.lock:
            session = self.service.store.sessions.get(session_id)
            return session is not None and session.active(self.now())

    def refresh_token_active(self, refresh_token: str) -> bool:
        """The value is the current one of an unrevoked, unexpired refresh token (whether its
        user is blocked is not considered: the exchange would be refused, the token still lives)."""
        with self.lock:
            return self.sessions.live_token(refresh_token) is not None

    def user_sessions(self, user_id: str) -> list[dict[str, Any]]:
        """The user's live sessions as ``GET /api/v2/sessions/{id}`` shows them (KeyError if unknown)."""
        with self.lock:
            return [s.to_json() for s in self._for_user(self.sessions.user_sessions, user_id)]

    def user_refresh_tokens(self, user_id: str) -> list[dict[str, Any]]:
        """The user's live refresh tokens as ``GET /api/v2/refresh-tokens/{id}`` shows them."""
        with self.lock:
            return [t.to_json() for t in self._for_user(self.sessions.user_tokens, user_id)]

    @staticmethod
    def _for_user(lister: Callable[[str], list[Any]], user_id: str) -> list[Any]:
        try:
            return lister(user_id)
        except HTTPError:
            raise KeyError(f"no user {user_id!r}") from None

    def snapshot(self) -> dict[str, Any]:
        store = self.service.store
        return {
            "tenant": "auth0",
            "domain": self.domain,
            "base_url": self.base_url,
            "plan": self.plan,
            "connections": [c.__dict__ for c in store.connections.values()],
            "users": list(store.users.values()),
            "roles": [{**r.to_json(), "members": sorted(r.members)} for r in store.roles.values()],
            "clients": [c.public_view() for c in self.clients.values()],
            "apis": [
                {"identifier": a.identifier, "name": a.name, "scopes": sorted(a.scopes)} for a in self.apis.values()
            ],
            "sessions": [s.to_json() for s in store.sessions.values()],
            "refresh_tokens": [t.to_json() for t in store.refresh_tokens.values()],  # no values, only ids
            "rate_limits": self.rate_limits,
        }


__all__ = ["Auth0Tenant", "GeneratedKey"]
