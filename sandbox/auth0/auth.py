"""Auth0 authentication: ``POST /oauth/token`` and Management API auth.

Token requests may be JSON (``GetToken``) or form-encoded (the ``ManagementClient`` token
provider); ``null`` JSON values are ignored.  Clients authenticate with ``client_secret``
(post or basic) or ``private_key_jwt`` (``aud`` = ``https://{domain}/``; ``exp`` at most
5 minutes ahead; unique ``jti``; RS256/RS384/PS256); public clients
(``token_endpoint_auth_method: none``) send only ``client_id`` and may only refresh.

* ``client_credentials``: the ``audience`` must be the Management API
  (``https://{domain}/api/v2/``, trailing slash) or a registered API, and the client needs a
  grant for it.
* ``refresh_token``: a token from a simulated login (:mod:`sandbox.auth0.sessions`) of the same
  client; 403 ``invalid_grant`` when it is unknown, revoked or expired ("Unknown or invalid
  refresh token.") or the user is blocked ("user is blocked"). Rotating tokens return a new value.
"""

from __future__ import annotations

import base64
import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from okta_auth0_sync_sandbox.auth0 import errors
from okta_auth0_sync_sandbox.auth0.models import Client
from okta_auth0_sync_sandbox.jose import (
    AssertionPolicy,
    JoseError,
    sha256_hex,
    verify_client_assertion,
    verify_own_token,
)
from okta_auth0_sync_sandbox.server import BadRequestBody, HTTPError, Request, Response

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGS = ("RS256", "RS384", "PS256")
UNAUTHORIZED = "Unauthorized"


class Auth0Auth:
    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant

    def jwks(self, request: Request) -> Response:
        return Response.json({"keys": [k.jwk() for k in self.tenant.signing_keys]})

    # -- /oauth/token ------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        params = self._params(request)
        grant_type = params.get("grant_type")
        if not grant_type:
            raise errors.oauth_error(400, "invalid_request", "Missing required parameter: grant_type")
        grant = {"client_credentials": self._client_credentials, "refresh_token": self._refresh_token}.get(grant_type)
        if grant is None:
            raise errors.oauth_error(
                403, "unauthorized_client", f"Grant type '{grant_type}' not allowed for the client."
            )
        return grant(request, params)

    def _client_credentials(self, request: Request, params: dict[str, str]) -> Response:
        client = self._authenticate_client(request, params)
        audience = params.get("audience")
        if not audience:
            raise errors.oauth_error(403, "access_denied", "Non-global clients are not allowed access to APIv1")
        api = self.tenant.apis.get(audience)
        if api is None:
            raise errors.oauth_error(403, "access_denied", f"Service not enabled within domain: {audience}")
        granted = client.grants.get(audience)
        if granted is None:
            raise errors.oauth_error(
                403,
                "access_denied",
                f'Client is not authorized to access "{audience}". You need to create a "client-grant" associated '
                "to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants",
            )
        requested = [s for s in (params.get("scope") or "").split() if s]
        if requested:
            missing = [s for s in requested if s not in granted]
            if missing:
                raise errors.oauth_error(
                    403, "access_denied", f"Client has not been granted scopes: {' '.join(missing)}"
                )
            scopes = list(dict.fromkeys(requested))
        else:
            scopes = sorted(granted)
        lifetime = self.tenant.token_lifetime or api.token_lifetime
        claims = {"sub": f"{client.client_id}@clients", "aud": audience, "gty": "client-credentials"}
        return self._token_response(self._access_token(claims, client, " ".join(scopes), lifetime))

    def _refresh_token(self, request: Request, params: dict[str, str]) -> Response:
        client = self.tenant.clients.get(params.get("client_id") or "")
        if client is None or client.auth_method != "none":  # a public client sends only its id
            client = self._authenticate_client(request, params)
        value = params.get("refresh_token")
        if not value:
            raise errors.oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        token, rotated = self.tenant.sessions.exchange(client, value)
        audiences = [rs["audience"] for rs in token.resource_servers]
        api = self.tenant.apis.get(audiences[0])
        lifetime = self.tenant.token_lifetime or (api.token_lifetime if api else 86400)
        claims = {"sub": token.user_id, "aud": audiences[0] if len(audiences) == 1 else audiences}
        body = self._access_token(claims, client, token.scope, lifetime)
        if "openid" in token.scope.split():
            body["id_token"] = self._id_token(token.user_id, client, token.session_id)
        if rotated:
            body["refresh_token"] = rotated
        return self._token_response(body)

    def _access_token(self, claims: dict[str, Any], client: Client, scope: str, lifetime: int) -> dict[str, Any]:
        now = int(self.tenant.now())
        signed = self.tenant.signing_keys[0].sign(
            {
                "iss": f"https://{self.tenant.domain}/",
                **claims,
                "iat": now,
                "exp": now + lifetime,
                "scope": scope,
                "azp": client.client_id,
            },
            typ="JWT",
        )
        return {"access_token": signed, "scope": scope, "expires_in": lifetime, "token_type": "Bearer"}

    def _id_token(self, user_id: str, client: Client, session_id: str | None) -> str:
        now = int(self.tenant.now())
        claims: dict[str, Any] = {"iss": f"https://{self.tenant.domain}/", "sub": user_id, "aud": client.client_id}
        claims.update(iat=now, exp=now + 36000)  # Auth0's default ID-token lifetime: 10 h
        if session_id:
            claims["sid"] = session_id
        return self.tenant.signing_keys[0].sign(claims, typ="JWT")

    @staticmethod
    def _token_response(body: dict[str, Any]) -> Response:
        return Response.json(body, headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    @staticmethod
    def _params(request: Request) -> dict[str, str]:
        try:
            if request.content_type == "application/json":
                body = request.json()
                if not isinstance(body, dict):
                    raise errors.oauth_error(400, "invalid_request", "The request body must be a JSON object.")
                return {k: str(v) for k, v in body.items() if v is not None}
            if request.content_type in ("application/x-www-form-urlencoded", ""):
                return request.form()
        except BadRequestBody as exc:
            raise errors.oauth_error(400, "invalid_request", "The request body could not be parsed.") from exc
        raise errors.oauth_error(400, "invalid_request", f"Unsupported content type: {request.content_type}")

    def _authenticate_client(self, request: Request, params: dict[str, str]) -> Client:
        assertion = params.get("client_assertion")
        if assertion is not None:
            if params.get("client_assertion_type") != JWT_BEARER:
                raise errors.oauth_error(400, "invalid_request", "Invalid client_assertion_type.")
            host = self.tenant.base_url.split("://", 1)[1]
            policy = AssertionPolicy(
                audiences={f"https://{self.tenant.domain}/", f"{self.tenant.base_url}/", f"https://{host}/"},
                max_lifetime=300.0,
                allowed_algs=ASSERTION_ALGS,
                require_jti=True,
                leeway=10.0,
                iat_skew=10.0,
                max_length=2048,
            )

            def keys_for(client_id: str) -> list[dict[str, Any]] | None:
                client = self.tenant.clients.get(client_id)
                return None if client is None or client.auth_method != "private_key_jwt" else list(client.keys)

            try:
                claims = verify_client_assertion(
                    assertion,
                    keys_for=keys_for,
                    policy=policy,
                    now=self.tenant.now(),
                    jti_cache=self.tenant.jti_cache,
                    client_id=params.get("client_id") or None,
                )
            except JoseError as exc:
                raise errors.oauth_error(401, "invalid_client", f"Invalid client assertion: {exc.reason}") from exc
            return self.tenant.clients[claims["sub"]]
        client_id, secret = params.get("client_id"), params.get("client_secret")
        header = request.header("Authorization") or ""
        if header.lower().startswith("basic "):
            try:
                cid, _, sec = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise errors.oauth_error(401, "access_denied", UNAUTHORIZED) from exc
            client_id, secret = unquote(cid), unquote(sec)
        client = self.tenant.clients.get(client_id or "")
        if client is None or not secret or client.auth_method == "private_key_jwt":
            raise errors.oauth_error(401, "access_denied", UNAUTHORIZED)
        digest = sha256_hex(secret)
        if not any(hmac.compare_digest(digest, h) for h in client.secret_hashes):
            raise errors.oauth_error(401, "access_denied", UNAUTHORIZED)
        return client

    # -- Management API -----------------------------------------------------------------------
    def authenticate(self, request: Request) -> dict[str, Any]:
        """Verify the bearer token of a Management API request; return its claims."""
        header = request.header("Authorization")
        if not header:
            raise self._unauthorized("Missing authentication")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.raise_api(
                400, "Bad HTTP authentication header format", "Bad HTTP authentication header format"
            )
        try:
            claims = verify_own_token(token.strip(), self.tenant.signing_keys)
        except JoseError as exc:
            raise self._unauthorized("Invalid token") from exc
        if claims.get("iss") != f"https://{self.tenant.domain}/":
            raise self._unauthorized("Invalid token")
        if claims.get("aud") != self.tenant.management_audience:
            raise self._unauthorized(f"Bad audience: {claims.get('aud')}")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= self.tenant.now():
            raise self._unauthorized("Expired token")
        request.context["claims"] = claims  # the caller, for the tenant log (sapi client_id)
        return claims

    def require(self, request: Request, *alternatives: tuple[str, ...]) -> dict[str, Any]:
        """Authenticate and check scopes: the token must hold *all* scopes of at least one
        alternative (``require(r, ("read:users",))``)."""
        claims = self.authenticate(request)
        held = set(str(claims.get("scope", "")).split())
        if any(set(alt) <= held for alt in alternatives):
            return claims
        if all(len(alt) == 1 for alt in alternatives):
            expected = "expected any of: " + ",".join(alt[0] for alt in alternatives)
        else:
            expected = "expected all of: " + ",".join(alternatives[0])
        raise errors.raise_api(403, f"Insufficient scope, {expected}", "insufficient_scope")

    @staticmethod
    def _unauthorized(message: str) -> HTTPError:
        return errors.raise_api(
            401,
            message,
            extra={"attributes": {"error": message}},
            headers=[
                ("WWW-Authenticate", f'Bearer realm="Auth0", error="invalid_token", error_description="{message}"')
            ],
        )
