"""Management API routes for role membership writes, user deletion and the tenant logs.

``POST   /api/v2/roles/{id}/users``   ``{"users": [ids]}``  ``create:role_members``  200, empty
``GET    /api/v2/users/{id}/roles``   offset paging          ``read:users`` + ``read:roles``
``POST   /api/v2/users/{id}/roles``   ``{"roles": [ids]}``   ``create:role_members``  204
``DELETE /api/v2/users/{id}/roles``   ``{"roles": [ids]}``   ``delete:role_members``  204
``DELETE /api/v2/users/{id}``         ``delete:users``       204 (``sdu`` logged too)
``GET    /api/v2/logs``               ``read:logs``: checkpoint (``from``, ``take``) or search
                                      (``q``/``search``, ``sort``, ``page``, ``per_page``,
                                      ``include_totals``, ``fields``); 1,000-result cap in search
``GET    /api/v2/logs/{id}``          ``read:logs``; 404 "Log not found"

Each write is logged (``sapi``) by the tenant after it succeeds: see :mod:`sandbox.auth0.logs`.
Checkpoint mode: logs whose ``log_id`` sorts after ``from`` (all logs without ``from``), ``take``
1-100 (default 50), a bare array, and a ``Link: <…?from=<last id>&take=n>; rel="next"`` header; an
empty page links to the URL just used (Auth0's documented behaviour).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from okta_auth0_sync_sandbox.auth0 import errors, lucene
from okta_auth0_sync_sandbox.auth0.api import READ_USERS, bool_arg, int_arg, offset_page, select_fields
from okta_auth0_sync_sandbox.auth0.service import json_type
from okta_auth0_sync_sandbox.server import BadRequestBody, Request, Response

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

READ_LOGS = (("read:logs",), ("read:logs_users",))
CREATE_ROLE_MEMBERS = (("create:role_members",),)
DELETE_ROLE_MEMBERS = (("delete:role_members",),)
DELETE_USERS = (("delete:users",),)
USER_ROLES = (("read:users", "read:roles"),)
TAKE = "take (Number of entries to retrieve when using the from parameter.)"


def _body_list(request: Request, key: str) -> list[str]:
    try:
        body = request.json()
    except BadRequestBody as exc:
        raise errors.raise_api(400, "Invalid request payload JSON format", "invalid_body") from exc
    if not isinstance(body, dict):
        raise errors.payload_error(f"Expected type object but found type {json_type(body)}")
    values = body.get(key)
    if values is None:
        raise errors.payload_error(f"Missing required property: {key}")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise errors.payload_error(f"Expected type array but found type {json_type(values)}", key)
    if not values:
        raise errors.payload_error("Array is too short (0), minimum 1", key)
    return values


class LogsApi:
    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant
        self.auth = tenant.auth
        self.service = tenant.service

    def register(self, add: Callable[..., None]) -> None:
        add("POST", "/api/v2/roles/{id}/users", self.assign_users_to_role)
        add("GET", "/api/v2/users/{id}/roles", self.user_roles)
        add("POST", "/api/v2/users/{id}/roles", self.assign_roles_to_user)
        add("DELETE", "/api/v2/users/{id}/roles", self.remove_roles_from_user)
        add("DELETE", "/api/v2/users/{id}", self.delete_user)
        add("GET", "/api/v2/logs", self.list_logs)
        add("GET", "/api/v2/logs/{id}", self.get_log)

    # -- role membership ---------------------------------------------------------------------
    def assign_users_to_role(self, request: Request) -> Response:
        self.auth.require(request, *CREATE_ROLE_MEMBERS)
        role = self.service.role(request.params["id"])
        users = _body_list(request, "users")
        for uid in users:
            self.service.user(uid)
        role.members.update(users)
        return Response.empty(200)

    def user_roles(self, request: Request) -> Response:
        self.auth.require(request, *USER_ROLES)
        uid = self.service.user(request.params["id"])["user_id"]
        roles = sorted((r for r in self.service.store.roles.values() if uid in r.members), key=lambda r: r.name)
        start, per_page, window = offset_page(request, roles)
        body = [r.to_json() for r in window]
        if bool_arg(request, "include_totals"):
            return Response.json({"roles": body, "start": start, "limit": per_page, "total": len(roles)})
        return Response.json(body)

    def assign_roles_to_user(self, request: Request) -> Response:
        self.auth.require(request, *CREATE_ROLE_MEMBERS)
        uid = self.service.user(request.params["id"])["user_id"]
        roles = [self.service.role(r) for r in _body_list(request, "roles")]
        for role in roles:
            role.members.add(uid)
        return Response.empty(204)

    def remove_roles_from_user(self, request: Request) -> Response:
        self.auth.require(request, *DELETE_ROLE_MEMBERS)
        uid = self.service.user(request.params["id"])["user_id"]
        roles = [self.service.role(r) for r in _body_list(request, "roles")]
        for role in roles:
            role.members.discard(uid)
        return Response.empty(204)

    # -- users -------------------------------------------------------------------------------
    def delete_user(self, request: Request) -> Response:
        claims = self.auth.require(request, *DELETE_USERS)
        store = self.service.store
        user = store.users.get(request.params["id"])
        if user is None:  # Auth0 answers 204 for an unknown id too (idempotent delete)
            return Response.empty(204)
        uid = user["user_id"]
        store.reindex_email(uid, user.get("email"), None)
        del store.users[uid]
        for role in store.roles.values():
            role.members.discard(uid)
        for sid in [s.id for s in store.sessions.values() if s.user_id == uid]:
            store.sessions.pop(sid, None)
        for tid in [t.id for t in store.refresh_tokens.values() if t.user_id == uid]:
            store.remove_refresh_token(tid)
        request.context["deleted_user"] = user
        request.context["deleted_by"] = str(claims.get("azp", ""))
        return Response.empty(204)

    # -- logs --------------------------------------------------------------------------------
    def get_log(self, request: Request) -> Response:
        self.auth.require(request, *READ_LOGS)
        log = self.tenant.tenant_logs.get(request.params["id"])
        if log is None:
            raise errors.raise_api(404, "Log not found", "inexistent_log")
        return Response.json(log)

    def list_logs(self, request: Request) -> Response:
        self.auth.require(request, *READ_LOGS)
        if request.has_arg("from") or request.has_arg("take"):
            return self._checkpoint(request)
        logs = self.tenant.tenant_logs.all()
        query = request.arg("q") or request.arg("search")
        if query:
            try:
                parsed = lucene.parse(query)
            except lucene.LuceneError as exc:
                raise errors.raise_api(400, f"Invalid query: {exc}", "invalid_query") from exc
            logs = [log for log in logs if lucene.matches(parsed, log)]
        field, _, direction = (request.arg("sort") or "date:-1").partition(":")
        if direction not in ("1", "-1") or not field:
            raise errors.query_error("Object didn't pass validation for format sort", "sort")
        logs.sort(key=lambda x: (str(x.get(field, "")), x["log_id"]), reverse=direction == "-1")
        start, per_page, window = offset_page(request, logs)
        body = [select_fields(log, request) for log in window]
        if bool_arg(request, "include_totals"):
            return Response.json(
                {"start": start, "limit": per_page, "length": len(body), "total": len(logs), "logs": body}
            )
        return Response.json(body)

    def _checkpoint(self, request: Request) -> Response:
        take = int_arg(request, "take", 50, 1, 100, TAKE)
        after = request.arg("from") or None
        page = self.tenant.tenant_logs.after(after)[:take]
        cursor = page[-1]["log_id"] if page else after
        params: dict[str, Any] = {"take": take}
        if cursor:
            params = {"from": cursor, "take": take}
        link = f"{self.tenant.base_url}/api/v2/logs?{urlencode(params)}"
        return Response.json(page, headers=[("Link", f'<{link}>; rel="next"')])


__all__ = ["READ_USERS", "LogsApi"]
