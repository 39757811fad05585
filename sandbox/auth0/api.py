"""Auth0 Management API routes (``/api/v2/...``): users, users-by-email, roles."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from okta_auth0_sync_sandbox.auth0 import errors, lucene
from okta_auth0_sync_sandbox.server import BadRequestBody, Request, Response
from okta_auth0_sync_sandbox.util import decode_cursor, encode_cursor, parse_bool, parse_int

if TYPE_CHECKING:
    from okta_auth0_sync_sandbox.auth0.tenant import Auth0Tenant

T = TypeVar("T")
READ_USERS = (("read:users",),)
READ_ROLES = (("read:roles",),)
ROLE_MEMBERS = (("read:users", "read:roles"), ("read:role_members",))
RESULT_CAP = 1000
_CAP_MESSAGE = (
    "You can only page through the first 1000 records. "
    "See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation"
)


PER_PAGE = "Number of results per page. Defaults to 50."
PAGE = "Page index of the results to return. First page is 0."
FROM = "from (Optional Id from which to start selection.)"


def select_fields(obj: dict[str, Any], request: Request) -> dict[str, Any]:
    """Apply ``fields`` / ``include_fields`` (default true)."""
    fields = request.arg("fields")
    if not fields:
        return obj
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    include = parse_bool(request.arg("include_fields"), True)
    if include is False:
        return {k: v for k, v in obj.items() if k not in wanted}
    return {k: obj[k] for k in wanted if k in obj}


def int_arg(request: Request, name: str, default: int, low: int, high: int | None, description: str) -> int:
    value = parse_int(request.arg(name), default)
    if value is None:
        raise errors.query_error("Expected type integer but found type string", f"{name} ({description})")
    if value < low:
        raise errors.query_error(f"Too small: must be at least {low}", f"{name} ({description})")
    if high is not None and value > high:
        raise errors.query_error(f"Too big: must be at most {high}", f"{name} ({description})")
    return value


def bool_arg(request: Request, name: str) -> bool:
    value = parse_bool(request.arg(name), False)
    if value is None:
        raise errors.query_error("Expected type boolean but found type string", name)
    return value


def is_checkpoint(request: Request) -> bool:
    return request.has_arg("take") or request.has_arg("from")


def checkpoint_page(request: Request, keys: list[str], tag: str) -> tuple[list[str], str | None]:
    """Checkpoint paging over sorted ``keys``: ``take`` 1-100 (default 50) after the ``from``
    cursor; returns the page and the next cursor (``None`` on the last page)."""
    take = int_arg(request, "take", 50, 1, 100, PER_PAGE)
    cursor = request.arg("from")
    if cursor:
        after = decode_cursor(cursor)
        if after is None or not after.startswith(f"{tag}:"):
            raise errors.query_error("Invalid checkpoint", FROM)
        keys = [k for k in keys if k > after[len(tag) + 1 :]]
    page = keys[:take]
    return page, encode_cursor(f"{tag}:{page[-1]}") if len(keys) > take else None


def checkpoint_candidates(request: Request, ids: Iterable[str], existing: Container[str], tag: str) -> list[str]:
    """The ``take`` + 1 smallest of ``ids`` (those in ``existing``) after the ``from`` cursor, sorted:
    all :func:`checkpoint_page` needs, found in one pass instead of sorting every id for each page
    (a role of 100,000 members is read in 1,000 pages). A bad ``take`` or cursor is left for
    :func:`checkpoint_page` to refuse."""
    take = parse_int(request.arg("take"), 50)
    if take is None or not 1 <= take <= 100:
        return sorted(i for i in ids if i in existing)
    after = decode_cursor(request.arg("from")) if request.arg("from") else f"{tag}:"
    if after is None or not after.startswith(f"{tag}:"):
        return sorted(i for i in ids if i in existing)
    bound = after[len(tag) + 1 :]
    return heapq.nsmallest(take + 1, (i for i in ids if i > bound and i in existing))


def checkpoint_response(
    request: Request, keys: list[str], tag: str, key: str, render: Callable[[str], Any]
) -> Response:
    """``{key: [...], "next": cursor}`` (no ``next`` on the last page)."""
    page, cursor = checkpoint_page(request, keys, tag)
    body: dict[str, Any] = {key: [render(k) for k in page]}
    if cursor:
        body["next"] = cursor
    return Response.json(body)


def offset_page(
    request: Request, items: list[T], *, min_per_page: int = 1, per_page_description: str = PER_PAGE
) -> tuple[int, int, list[T]]:
    """Offset paging (``page``, ``per_page`` ≤ 100, default 50) capped at the first 1,000
    results: ``(start, per_page, window)``."""
    per_page = int_arg(request, "per_page", 50, min_per_page, 100, per_page_description)
    page = int_arg(request, "page", 0, 0, None, PAGE)
    start = page * per_page
    if per_page and start >= RESULT_CAP:
        raise errors.raise_api(400, _CAP_MESSAGE, "invalid_paging")
    return start, per_page, items[:RESULT_CAP][start : start + per_page]


class Auth0Api:
    def __init__(self, tenant: Auth0Tenant) -> None:
        self.tenant = tenant
        self.service = tenant.service
        self.auth = tenant.auth

    def register(self, add: Callable[..., None]) -> None:
        add("GET", "/api/v2/users-by-email", self.users_by_email)
        add("GET", "/api/v2/users", self.list_users)
        add("GET", "/api/v2/users/{id}", self.get_user)
        add("PATCH", "/api/v2/users/{id}", self.patch_user)
        add("GET", "/api/v2/roles", self.list_roles)
        add("GET", "/api/v2/roles/{id}", self.get_role)
        add("GET", "/api/v2/roles/{id}/users", self.role_users)

    # -- users ------------------------------------------------------------------------------
    def users_by_email(self, request: Request) -> Response:
        self.auth.require(request, *READ_USERS)
        email = request.arg("email")
        if email is None:
            raise errors.query_error(
                "Missing required property: email", "email (Email address to search for (case-sensitive).)"
            )
        bool_arg(request, "include_fields")
        store = self.service.store
        found = [select_fields(store.users[uid], request) for uid in store.by_email.get(email, [])]
        return Response.json(found)

    def get_user(self, request: Request) -> Response:
        self.auth.require(request, *READ_USERS)
        return Response.json(select_fields(self.service.user(request.params["id"]), request))

    def patch_user(self, request: Request) -> Response:
        try:
            body = request.json()
        except BadRequestBody as exc:
            raise errors.raise_api(400, "Invalid request payload JSON format", "invalid_body") from exc
        self.auth.require(request, *self.service.patch_scopes(body))
        return Response.json(self.service.patch_user(request.params["id"], body))

    def list_users(self, request: Request) -> Response:
        self.auth.require(request, *READ_USERS)
        engine = request.arg("search_engine")
        if engine is not None and engine != "v3":
            raise errors.raise_api(
                400,
                f"You are not allowed to use search_engine={engine}. Use search_engine=v3 instead.",
                "operation_not_supported",
            )
        include_totals = bool_arg(request, "include_totals")
        store = self.service.store.users
        users = list(store.values())
        q = request.arg("q")
        if q:
            try:
                query = lucene.parse(q)
            except lucene.LuceneError as exc:
                raise errors.raise_api(400, f"Invalid query: {exc}", "invalid_query") from exc
            pinned = lucene.exact_user_ids(query)
            if pinned is not None:  # an index lookup instead of a scan (ordered by user_id)
                users = [store[i] for i in sorted(pinned) if i in store]
            users = [u for u in users if lucene.matches(query, u)]
        connection = request.arg("connection")
        if connection:
            users = [u for u in users if any(i.get("connection") == connection for i in u.get("identities", []))]
        sort = request.arg("sort")
        if sort:
            field, _, direction = sort.partition(":")
            if direction not in ("1", "-1") or not field:
                raise errors.query_error("Object didn't pass validation for format sort", "sort")
            users.sort(key=lambda u: (u.get(field) is None, str(u.get(field, ""))), reverse=direction == "-1")
        start, per_page, window = offset_page(
            request, users, min_per_page=0, per_page_description="Number of results per page."
        )
        body = [select_fields(u, request) for u in window]
        if include_totals:
            return Response.json(
                {"start": start, "limit": per_page, "length": len(body), "total": len(users), "users": body}
            )
        return Response.json(body)

    # -- roles ------------------------------------------------------------------------------
    def list_roles(self, request: Request) -> Response:
        self.auth.require(request, *READ_ROLES)
        per_page = int_arg(request, "per_page", 50, 1, 100, PER_PAGE)
        page = int_arg(request, "page", 0, 0, None, PAGE)
        include_totals = bool_arg(request, "include_totals")
        name_filter = (request.arg("name_filter") or "").lower()
        roles = sorted(self.service.store.roles.values(), key=lambda r: r.name)
        if name_filter:
            roles = [r for r in roles if name_filter in r.name.lower()]
        window = [r.to_json() for r in roles[page * per_page : (page + 1) * per_page]]
        if include_totals:
            return Response.json({"roles": window, "start": page * per_page, "limit": per_page, "total": len(roles)})
        return Response.json(window)

    def get_role(self, request: Request) -> Response:
        self.auth.require(request, *READ_ROLES)
        return Response.json(self.service.role(request.params["id"]).to_json())

    def role_users(self, request: Request) -> Response:
        self.auth.require(request, *ROLE_MEMBERS)
        role = self.service.role(request.params["id"])
        users = self.service.store.users

        def member(uid: str) -> dict[str, Any]:
            u = users[uid]
            return {"user_id": uid, "email": u.get("email"), "picture": u.get("picture"), "name": u.get("name")}

        if is_checkpoint(request):
            return checkpoint_response(
                request, checkpoint_candidates(request, role.members, users, "u"), "u", "users", member
            )
        members = sorted(m for m in role.members if m in users)
        start, per_page, window = offset_page(request, members)
        body = [member(m) for m in window]
        if bool_arg(request, "include_totals"):
            return Response.json({"start": start, "limit": per_page, "total": len(members), "users": body})
        return Response.json(body)
