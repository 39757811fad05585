"""Okta management API routes (``/api/v1/...``): users, lifecycle, groups, System Log."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from okta_auth0_sync_sandbox.okta import errors
from okta_auth0_sync_sandbox.okta.expressions import ExpressionError, compile_expression
from okta_auth0_sync_sandbox.okta.service import LIFECYCLE_OPS
from okta_auth0_sync_sandbox.server import BadRequestBody, Request, Response
from okta_auth0_sync_sandbox.util import decode_cursor, encode_cursor, parse_bool, parse_int, parse_iso8601

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.okta.tenant import OktaTenant

USERS_READ = ("okta.users.read", "okta.users.manage")
USERS_MANAGE = ("okta.users.manage",)
GROUPS_READ = ("okta.groups.read", "okta.groups.manage")
GROUPS_MANAGE = ("okta.groups.manage",)
LOGS_READ = ("okta.logs.read",)

_FILTER_PATHS = {
    "status", "lastUpdated", "id", "profile.login", "profile.email", "profile.firstName", "profile.lastName",
    "type.id", "created", "activated", "statusChanged",
}  # fmt: skip


def link_header(url: str, rel: str) -> tuple[str, str]:
    return ("Link", f'<{url}>; rel="{rel}"')


class OktaApi:
    def __init__(self, tenant: OktaTenant) -> None:
        self.tenant = tenant
        self.service = tenant.service
        self.auth = tenant.auth

    def register(self, add: Callable[..., None]) -> None:
        add("GET", "/api/v1/users", self.list_users)
        add("POST", "/api/v1/users", self.create_user)
        add("GET", "/api/v1/users/{id}", self.get_user)
        add("DELETE", "/api/v1/users/{id}", self.delete_user)
        add("POST", "/api/v1/users/{id}/lifecycle/{op}", self.lifecycle)
        add("GET", "/api/v1/users/{id}/groups", self.list_user_groups)
        add("GET", "/api/v1/groups", self.list_groups)
        add("GET", "/api/v1/groups/{id}", self.get_group)
        add("GET", "/api/v1/groups/{id}/users", self.list_group_users)
        add("PUT", "/api/v1/groups/{id}/users/{userId}", self.add_group_member)
        add("DELETE", "/api/v1/groups/{id}/users/{userId}", self.remove_group_member)
        add("GET", "/api/v1/logs", self.list_logs)

    # -- helpers ----------------------------------------------------------------------------
    def _page_links(
        self, request: Request, next_after: str | None, drop: tuple[str, ...] = ()
    ) -> list[tuple[str, str]]:
        """``self``, and ``next`` (the same query ``after`` the cursor, without the ``drop``
        parameters: a System Log cursor replaces ``since``)."""
        links = [link_header(request.url, "self")]
        if next_after is not None:
            params = [(k, v) for k, vs in request.query.items() if k != "after" and k not in drop for v in vs]
            params.append(("after", next_after))
            query = urlencode(params, quote_via=quote)
            links.append(link_header(f"{self.tenant.base_url}{request.raw_path}?{query}", "next"))
        return links

    @staticmethod
    def _limit(request: Request, default: int, maximum: int) -> int:
        value = parse_int(request.arg("limit"), default)
        if value is None or value < 1:
            raise errors.validation_failed("limit", "limit: The limit must be a positive integer")
        return min(value, maximum)

    def _body(self, request: Request) -> Any:
        try:
            return request.json()
        except BadRequestBody as exc:
            raise errors.raise_api(400, "E0000003", "The request body was not well-formed.") from exc

    # -- users ------------------------------------------------------------------------------
    def list_users(self, request: Request) -> Response:
        self.auth.authenticate(request, USERS_READ)
        directory = self.service.directory
        search, filt, q = request.arg("search"), request.arg("filter"), request.arg("q")
        try:
            if search:
                predicate = compile_expression(search, fold_case=True)
            elif filt:
                predicate = compile_expression(
                    filt,
                    fold_case=False,
                    allowed_paths=_FILTER_PATHS.__contains__,
                    allowed_ops=("eq", "gt", "ge", "lt", "le"),
                )
            else:
                predicate = None
        except ExpressionError as exc:
            raise errors.raise_api(400, "E0000031", "Invalid search criteria.", [str(exc)]) from exc
        if q is not None and not (search or filt):
            limit = self._limit(request, 10, 200)
            prefix = q.lower()
            found = []
            for uid in directory.sorted_ids:
                user = directory.users[uid]
                if user.status == "DEPROVISIONED":
                    continue
                if any(
                    str(user.profile.get(a) or "").lower().startswith(prefix)
                    for a in ("firstName", "lastName", "email")
                ):
                    found.append(user.to_json(self.tenant.base_url))
                    if len(found) >= limit:
                        break
            return Response.json(found, headers=[link_header(request.url, "self")])
        limit = self._limit(request, 200, 200)
        page, more = [], False
        for uid in directory.users_after(request.arg("after")):
            user = directory.users[uid]
            if predicate is None:
                if user.status == "DEPROVISIONED":
                    continue
            elif not predicate(user.search_view()):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(user)
        body = [u.to_json(self.tenant.base_url) for u in page]
        return Response.json(body, headers=self._page_links(request, page[-1].id if more else None))

    def get_user(self, request: Request) -> Response:
        self.auth.authenticate(request, USERS_READ)
        user = self.service.user(request.params["id"])
        etag = f'W/"{int(user.last_updated * 1000):x}"'
        return Response.json(user.to_json(self.tenant.base_url), headers=[("ETag", etag)])

    def create_user(self, request: Request) -> Response:
        principal = self.auth.authenticate(request, USERS_MANAGE)
        activate = parse_bool(request.arg("activate"), True)
        provider = parse_bool(request.arg("provider"), False)
        if activate is None or provider is None:
            raise errors.validation_failed("activate", "activate: The value must be true or false")
        user = self.service.create_user(
            self._body(request),
            activate=activate,
            provider=provider,
            next_login=request.arg("nextLogin"),
            actor=principal.actor,
            request=request,
        )
        return Response.json(user.to_json(self.tenant.base_url))

    def delete_user(self, request: Request) -> Response:
        principal = self.auth.authenticate(request, USERS_MANAGE)
        self.service.delete_user(request.params["id"], actor=principal.actor, request=request)
        return Response.empty(204)

    def lifecycle(self, request: Request) -> Response:
        principal = self.auth.authenticate(request, USERS_MANAGE)
        op = request.params["op"]
        if op not in LIFECYCLE_OPS:
            raise errors.raise_api(404, "E0000022", "The endpoint does not support the provided HTTP method")
        send_email = parse_bool(request.arg("sendEmail"), True)
        body = self.service.lifecycle(
            request.params["id"], op, actor=principal.actor, request=request, send_email=send_email is not False
        )
        return Response.json(body)

    def list_user_groups(self, request: Request) -> Response:
        """``GET /api/v1/users/{id}/groups``: every group the user is in (one page; scope okta.users.read)."""
        self.auth.authenticate(request, USERS_READ)
        user = self.service.user(request.params["id"])
        groups = self.service.directory.groups
        body = [groups[g].to_json(self.tenant.base_url) for g in sorted(groups) if user.id in groups[g].members]
        return Response.json(body, headers=[link_header(request.url, "self")])

    # -- groups -----------------------------------------------------------------------------
    def list_groups(self, request: Request) -> Response:
        self.auth.authenticate(request, GROUPS_READ)
        limit = self._limit(request, 10000, 10000)
        q = (request.arg("q") or "").lower()
        filt = request.arg("filter") or request.arg("search")
        try:
            predicate = compile_expression(filt, fold_case=False) if filt else None
        except ExpressionError as exc:
            raise errors.raise_api(400, "E0000031", "Invalid search criteria.", [str(exc)]) from exc
        after = request.arg("after")
        page, more = [], False
        for gid in sorted(self.service.directory.groups):
            if after and gid <= after:
                continue
            group = self.service.directory.groups[gid]
            if q and not group.name.lower().startswith(q):
                continue
            if predicate is not None and not predicate(group.to_json(self.tenant.base_url)):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(group)
        body = [g.to_json(self.tenant.base_url) for g in page]
        return Response.json(body, headers=self._page_links(request, page[-1].id if more else None))

    def get_group(self, request: Request) -> Response:
        self.auth.authenticate(request, GROUPS_READ)
        return Response.json(self.service.group(request.params["id"]).to_json(self.tenant.base_url))

    def list_group_users(self, request: Request) -> Response:
        self.auth.authenticate(request, GROUPS_READ)
        group = self.service.group(request.params["id"])
        limit = self._limit(request, 1000, 10000)
        after = request.arg("after")
        members = sorted(group.members)
        if after:
            members = [m for m in members if m > after]
        page = members[:limit]
        more = len(members) > limit
        users = self.service.directory.users
        body = [users[m].to_json(self.tenant.base_url) for m in page if m in users]
        return Response.json(body, headers=self._page_links(request, page[-1] if more else None))

    def add_group_member(self, request: Request) -> Response:
        principal = self.auth.authenticate(request, GROUPS_MANAGE)
        self.service.add_member(request.params["id"], request.params["userId"], actor=principal.actor, request=request)
        return Response.empty(204)

    def remove_group_member(self, request: Request) -> Response:
        principal = self.auth.authenticate(request, GROUPS_MANAGE)
        self.service.remove_member(
            request.params["id"], request.params["userId"], actor=principal.actor, request=request
        )
        return Response.empty(204)

    # -- System Log -------------------------------------------------------------------------
    def list_logs(self, request: Request) -> Response:
        self.auth.authenticate(request, LOGS_READ)
        now = self.tenant.now()
        try:
            until = parse_iso8601(request.arg("until") or "") if request.arg("until") else None
            since = parse_iso8601(request.arg("since") or "") if request.arg("since") else None
        except ValueError as exc:
            raise errors.raise_api(400, "E0000030", "Bad request. Invalid date format.", [str(exc)]) from exc
        if since is not None and request.arg("after"):
            raise errors.validation_failed("after", "after: since and after cannot be used together")
        upper = until if until is not None else now
        # A page after a cursor (a next link) has no since: the cursor says where it starts.
        since = since if since is not None else (float("-inf") if request.arg("after") else upper - 7 * 86400)
        order = (request.arg("sortOrder") or "ASCENDING").upper()
        if order not in ("ASCENDING", "DESCENDING"):
            raise errors.validation_failed("sortOrder", "sortOrder: must be ASCENDING or DESCENDING")
        limit = self._limit(request, 100, 1000)
        try:
            predicate = (
                compile_expression(request.arg("filter") or "", fold_case=False) if request.arg("filter") else None
            )
        except ExpressionError as exc:
            raise errors.raise_api(400, "E0000031", "Invalid search criteria.", [str(exc)]) from exc
        keywords = [k.lower() for k in (request.arg("q") or "").split()]
        cursor = request.arg("after")
        after_seq: int | None = None
        if cursor:
            decoded = decode_cursor(cursor)
            if decoded is None or not decoded.startswith("seq:") or not decoded[4:].isdigit():
                raise errors.validation_failed("after", "after: The cursor is invalid")
            after_seq = int(decoded[4:])
        events: Iterable[Any] = self.service.logs if order == "ASCENDING" else reversed(self.service.logs)
        page, more = [], False
        for entry in events:
            if after_seq is not None and (entry.seq <= after_seq if order == "ASCENDING" else entry.seq >= after_seq):
                continue
            if entry.published < since or (until is not None and entry.published > until):
                continue
            if predicate is not None and not predicate(entry.event):
                continue
            if keywords and not all(k in _keyword_text(entry.event) for k in keywords):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(entry)
        polling = order == "ASCENDING" and until is None
        if polling and not page:
            # Polling: an empty page's next link is the request itself (read it again later).
            links = [link_header(request.url, "self"), link_header(request.url, "next")]
            return Response.json([], headers=links)
        next_after = encode_cursor(f"seq:{page[-1].seq}") if page and (more or polling) else None
        return Response.json([e.event for e in page], headers=self._page_links(request, next_after, drop=("since",)))


def _keyword_text(event: dict[str, Any]) -> str:
    parts = [event.get("eventType", ""), event.get("displayMessage", "")]
    for target in event.get("target") or []:
        parts.extend(str(target.get(k, "")) for k in ("id", "alternateId", "displayName"))
    actor = event.get("actor") or {}
    parts.extend(str(actor.get(k, "")) for k in ("id", "alternateId", "displayName"))
    return " ".join(parts).lower()
