"""Management API routes for sessions, refresh tokens and device credentials.

Enterprise plans only (``tenant.plan == "enterprise"``), checkpoint paging:

``GET|DELETE /api/v2/users/{id}/sessions``          ``read:sessions`` / ``delete:sessions``
``GET|DELETE /api/v2/sessions/{id}``                same scopes
``POST /api/v2/sessions/{id}/revoke``               ``delete:sessions`` and ``delete:refresh_tokens``
``GET|DELETE /api/v2/users/{id}/refresh-tokens``    ``read:refresh_tokens`` / ``delete:refresh_tokens``
``GET|DELETE /api/v2/refresh-tokens/{id}``          same scopes
``POST /api/v2/users/{id}/revoke-access``           ``delete:sessions`` and ``delete:refresh_tokens``

Every plan, offset paging: ``GET /api/v2/device-credentials``, ``DELETE /api/v2/device-credentials/{id}``.

Deletions answer 202 (device credentials: 204) and take effect at once. On other plans the
Enterprise routes answer 403 ``feature_not_enabled`` (see :func:`errors.feature_not_enabled`),
after authentication and the scope check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from okta_auth0_sync_sandbox.auth0 import errors
from okta_auth0_sync_sandbox.auth0.api import bool_arg, checkpoint_response, offset_page, select_fields
from okta_auth0_sync_sandbox.auth0.service import json_type
from okta_auth0_sync_sandbox.server import BadRequestBody, Request, Response

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

ENTERPRISE = "enterprise"
READ_SESSIONS = (("read:sessions",),)
DELETE_SESSIONS = (("delete:sessions",),)
READ_REFRESH_TOKENS = (("read:refresh_tokens",),)
DELETE_REFRESH_TOKENS = (("delete:refresh_tokens",),)
REVOKE = (("delete:sessions", "delete:refresh_tokens"),)
READ_DEVICE_CREDENTIALS = (("read:device_credentials",),)
# the current_user scopes belong to user tokens, which the sandbox never issues for this API
DELETE_DEVICE_CREDENTIALS = (
    ("delete:device_credentials",),
    ("update:current_user",),
    ("delete:current_user_device_credentials",),
)
DEVICE_CREDENTIAL_TYPES = ("public_key", "refresh_token", "rotating_refresh_token")
_TYPE_PROPERTY = (
    "type (Type of credentials to retrieve. Must be `public_key`, `refresh_token` or `rotating_refresh_token`.)"
)
#: user sub-resources that count only against the global bucket (no users_* bucket)
USER_SUBRESOURCES = frozenset(
    {"/api/v2/users/{id}/sessions", "/api/v2/users/{id}/refresh-tokens", "/api/v2/users/{id}/revoke-access"}
)


def _json_or_form(request: Request) -> dict[str, Any]:
    """A JSON or form-encoded object body (form ``true``/``false`` become booleans)."""
    try:
        if request.content_type == "application/x-www-form-urlencoded":
            return {k: v.lower() == "true" if v.lower() in ("true", "false") else v for k, v in request.form().items()}
        body = request.json() or {}
    except BadRequestBody as exc:
        raise errors.raise_api(400, "Invalid request payload JSON format", "invalid_body") from exc
    if not isinstance(body, dict):
        raise errors.payload_error(f"Expected type object but found type {json_type(body)}")
    return body


class SessionApi:
    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant
        self.auth = tenant.auth
        self.sessions = tenant.sessions

    def register(self, add: Callable[..., None]) -> None:
        add("GET", "/api/v2/users/{id}/sessions", self.list_user_sessions)
        add("DELETE", "/api/v2/users/{id}/sessions", self.delete_user_sessions)
        add("GET", "/api/v2/users/{id}/refresh-tokens", self.list_user_refresh_tokens)
        add("DELETE", "/api/v2/users/{id}/refresh-tokens", self.delete_user_refresh_tokens)
        add("POST", "/api/v2/users/{id}/revoke-access", self.revoke_access)
        add("GET", "/api/v2/sessions/{id}", self.get_session)
        add("DELETE", "/api/v2/sessions/{id}", self.delete_session)
        add("POST", "/api/v2/sessions/{id}/revoke", self.revoke_session)
        add("GET", "/api/v2/refresh-tokens/{id}", self.get_refresh_token)
        add("DELETE", "/api/v2/refresh-tokens/{id}", self.delete_refresh_token)
        add("GET", "/api/v2/device-credentials", self.list_device_credentials)
        add("DELETE", "/api/v2/device-credentials/{id}", self.delete_device_credential)

    def _enterprise(self, request: Request, scopes: tuple[tuple[str, ...], ...]) -> None:
        self.auth.require(request, *scopes)
        if self.tenant.plan != ENTERPRISE:
            raise errors.feature_not_enabled()

    # -- sessions ---------------------------------------------------------------------------------
    def list_user_sessions(self, request: Request) -> Response:
        self._enterprise(request, READ_SESSIONS)
        bool_arg(request, "include_totals")  # accepted; the body is always {"sessions", "next"}
        found = {s.id: s for s in self.sessions.user_sessions(request.params["id"])}
        return checkpoint_response(request, list(found), "s", "sessions", lambda k: found[k].to_json())

    def delete_user_sessions(self, request: Request) -> Response:
        self._enterprise(request, DELETE_SESSIONS)
        self.sessions.delete_sessions([s.id for s in self.sessions.user_sessions(request.params["id"])])
        return Response.empty(202)

    def get_session(self, request: Request) -> Response:
        self._enterprise(request, READ_SESSIONS)
        return Response.json(self.sessions.session(request.params["id"]).to_json())

    def delete_session(self, request: Request) -> Response:
        self._enterprise(request, DELETE_SESSIONS)
        self.sessions.delete_sessions([request.params["id"]])  # no 404 in the OAS: unknown ids are accepted
        return Response.empty(202)

    def revoke_session(self, request: Request) -> Response:
        self._enterprise(request, REVOKE)
        session = self.sessions.session(request.params["id"])
        self.sessions.delete_sessions([session.id], with_tokens=True)
        return Response.empty(202)

    # -- refresh tokens ---------------------------------------------------------------------------
    def list_user_refresh_tokens(self, request: Request) -> Response:
        self._enterprise(request, READ_REFRESH_TOKENS)
        bool_arg(request, "include_totals")
        found = {t.id: t for t in self.sessions.user_tokens(request.params["id"])}
        return checkpoint_response(request, list(found), "t", "tokens", lambda k: found[k].to_json())

    def delete_user_refresh_tokens(self, request: Request) -> Response:
        self._enterprise(request, DELETE_REFRESH_TOKENS)
        self.sessions.delete_tokens(t.id for t in self.sessions.user_tokens(request.params["id"]))
        return Response.empty(202)

    def get_refresh_token(self, request: Request) -> Response:
        self._enterprise(request, READ_REFRESH_TOKENS)
        return Response.json(self.sessions.token(request.params["id"]).to_json())

    def delete_refresh_token(self, request: Request) -> Response:
        self._enterprise(request, DELETE_REFRESH_TOKENS)
        self.sessions.delete_tokens([request.params["id"]])  # no 404 in the OAS
        return Response.empty(202)

    def revoke_access(self, request: Request) -> Response:
        self._enterprise(request, REVOKE)
        body = self._revoke_access_body(request)
        preserve = body.get("preserve_refresh_tokens", False)
        self.sessions.revoke_access(request.params["id"], body.get("session_id"), preserve)
        return Response.empty(202)

    @staticmethod
    def _revoke_access_body(request: Request) -> dict[str, Any]:
        """``{"session_id"?: str ≤ 50, "preserve_refresh_tokens"?: bool}``; ``null``s and an empty
        body count as absent."""
        body = {k: v for k, v in _json_or_form(request).items() if v is not None}
        unknown = sorted(set(body) - {"session_id", "preserve_refresh_tokens"})
        if unknown:
            raise errors.payload_error(f"Additional properties not allowed: {','.join(unknown)}")
        for key, kind, name in (("session_id", str, "string"), ("preserve_refresh_tokens", bool, "boolean")):
            if key in body and not isinstance(body[key], kind):
                raise errors.payload_error(f"Expected type {name} but found type {json_type(body[key])}", key)
        session_id = body.get("session_id", "")
        if len(session_id) > 50:
            raise errors.payload_error(f"String is too long ({len(session_id)} chars), maximum 50", "session_id")
        return body

    # -- device credentials (every plan) ----------------------------------------------------------
    def list_device_credentials(self, request: Request) -> Response:
        self.auth.require(request, *READ_DEVICE_CREDENTIALS)
        kind = request.arg("type") or "refresh_token"
        if kind not in DEVICE_CREDENTIAL_TYPES:
            raise errors.query_error(f'No enum match for: "{kind}"', _TYPE_PROPERTY)
        bool_arg(request, "include_fields")
        include_totals = bool_arg(request, "include_totals")
        # public keys (WebAuthn / Guardian enrolments) are not modelled: that type is always empty
        tokens = self.sessions.tokens(user_id=request.arg("user_id"), client_id=request.arg("client_id"), kind=kind)
        start, per_page, window = offset_page(request, tokens)
        body = [select_fields(t.device_credential(), request) for t in window]
        if include_totals:
            return Response.json({"start": start, "limit": per_page, "total": len(tokens), "device_credentials": body})
        return Response.json(body)

    def delete_device_credential(self, request: Request) -> Response:
        self.auth.require(request, *DELETE_DEVICE_CREDENTIALS)
        self.sessions.delete_tokens([request.params["id"]])  # no 404 in the OAS
        return Response.empty(204)
