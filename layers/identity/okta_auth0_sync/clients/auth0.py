"""The Auth0 Management API client: just the calls this package needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from okta_auth0_sync.base.errors import (
    NotFound,
    PermissionDenied,
    RequestRejected,
    TokenRejected,
    UpstreamDetails,
    UpstreamError,
)
from okta_auth0_sync.clients.http import HttpClient, json_body, request_id
from okta_auth0_sync.domain.identities import Auth0User

LOOKUP_FIELDS = ("user_id", "email", "identities", "app_metadata", "user_metadata", "blocked")
PROFILE_FIELDS = (
    "user_id",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "user_metadata",
    "blocked",
    "identities",
)
# Auth0 rejects over-long query strings (414): ids per search query, well inside the limit.
SEARCH_IDS_PER_QUERY = 50


class Auth0Client:
    tenant = "auth0"

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def users_by_email(self, email: str, fields: tuple[str, ...] = LOOKUP_FIELDS) -> list[Auth0User]:
        """``GET /api/v2/users-by-email``: exact, case-sensitive, immediately consistent; every match
        (one email can exist in several connections). The email goes through ``params`` so ``+``
        is sent as ``%2B``."""
        response = self.http.request(
            "GET",
            "/api/v2/users-by-email",
            params={"email": email, "fields": ",".join(fields), "include_fields": "true"},
        )
        body = response.json()
        if not isinstance(body, list):
            raise UpstreamError(
                "Auth0 users-by-email did not return an array", tenant="auth0", status=response.status_code
            )
        return [Auth0User.from_api(u) for u in body]

    def role_member_ids(self, role_id: str, take: int = 100) -> Iterator[str]:
        """Every member of a role: ``GET /api/v2/roles/{id}/users`` with **checkpoint** pagination
        (``take``/``from``, following ``next`` to the end; offset paging stops at 1,000)."""
        params: dict[str, Any] = {"take": take}
        while True:
            response = self.http.request("GET", "/api/v2/roles/{id}/users", path_params={"id": role_id}, params=params)
            body = response.json()
            users = body.get("users", []) if isinstance(body, dict) else body
            for user in users:
                yield user["user_id"]
            cursor = body.get("next") if isinstance(body, dict) else None
            if not cursor or not users:
                return
            params = {"take": take, "from": cursor}

    def blocked_user_ids(self, per_page: int = 100, max_pages: int = 10) -> tuple[set[str], bool]:
        """Ids of blocked users (``q=blocked:true``, search v3), and whether that is all of them:
        search serves the first 1,000 matches only (10 pages of 100), so a tenant with more
        blocked users gets ``complete=False`` (the caller says so in its report)."""
        found: set[str] = set()
        for page in range(max_pages):
            response = self.http.request(
                "GET",
                "/api/v2/users",
                params={
                    "q": "blocked:true",
                    "search_engine": "v3",
                    "per_page": per_page,
                    "page": page,
                    "fields": "user_id",
                    "include_fields": "true",
                },
            )
            body = response.json()
            users = body.get("users", []) if isinstance(body, dict) else body
            if not isinstance(users, list):
                raise UpstreamError("Auth0 user search did not return a list", tenant="auth0")
            found.update(u["user_id"] for u in users if isinstance(u, dict) and isinstance(u.get("user_id"), str))
            if len(users) < per_page:
                return found, True
        return found, False

    def users_by_id(self, user_ids: list[str], fields: tuple[str, ...] = PROFILE_FIELDS) -> dict[str, dict[str, Any]]:
        """Many users' profiles in few calls: ``GET /api/v2/users?q=user_id:("a" OR "b" ...)``
        (search v3, ``SEARCH_IDS_PER_QUERY`` ids a call). Search is eventually consistent, so ids
        it does not return yet are read one by one (``GET /api/v2/users/{id}``); ids Auth0 does
        not know are absent from the result."""
        found: dict[str, dict[str, Any]] = {}
        wanted = list(dict.fromkeys(user_ids))
        for start in range(0, len(wanted), SEARCH_IDS_PER_QUERY):
            chunk = wanted[start : start + SEARCH_IDS_PER_QUERY]
            query = "user_id:(" + " OR ".join(lucene_quote(i) for i in chunk) + ")"
            response = self.http.request(
                "GET",
                "/api/v2/users",
                params={
                    "q": query,
                    "search_engine": "v3",
                    "per_page": len(chunk),
                    "page": 0,
                    "fields": ",".join(fields),
                    "include_fields": "true",
                },
            )
            body = response.json()
            for user in body.get("users", []) if isinstance(body, dict) else body:
                found[user["user_id"]] = user
        for user_id in wanted:
            if user_id not in found:
                try:
                    found[user_id] = self.get_raw_user(user_id, fields)
                except NotFound:
                    continue
        return found

    def user_ids_by_email_search(self, email: str) -> list[str]:
        """Ids of every user whose email equals ``email`` **ignoring letter case**: search v3
        (``email`` is a case-insensitive field there). Search is eventually consistent, so it
        only *discovers* ids; read each user with a consistent call before acting on it."""
        response = self.http.request(
            "GET",
            "/api/v2/users",
            params={
                "q": f"email:{lucene_quote(email)}",
                "search_engine": "v3",
                "per_page": 100,
                "page": 0,
                "fields": "user_id,email",
                "include_fields": "true",
            },
        )
        body = response.json()
        users = body.get("users", []) if isinstance(body, dict) else body
        if not isinstance(users, list):
            raise UpstreamError("Auth0 user search did not return a list", tenant="auth0", status=response.status_code)
        return [u["user_id"] for u in users if isinstance(u, dict) and isinstance(u.get("user_id"), str)]

    def search_users_page(
        self, query: str, *, page: int, per_page: int, fields: tuple[str, ...], sort: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of ``GET /api/v2/users?q=...&search_engine=v3&include_totals=true``: the users
        and the query's total (search pages through the first 1,000 matches at most)."""
        params: dict[str, Any] = {
            "q": query,
            "search_engine": "v3",
            "per_page": per_page,
            "page": page,
            "include_totals": "true",
            "fields": ",".join(fields),
            "include_fields": "true",
        }
        if sort:
            params["sort"] = sort
        body = self.http.request("GET", "/api/v2/users", params=params).json()
        users = body.get("users") if isinstance(body, dict) else body
        if not isinstance(users, list):
            raise UpstreamError("Auth0 user search did not return a list", tenant="auth0")
        total = body.get("total") if isinstance(body, dict) else None
        return [u for u in users if isinstance(u, dict)], total if isinstance(total, int) else len(users)

    # -- access revocation ------------------------------------------------------------------
    def delete_user_sessions(self, user_id: str) -> None:
        """``DELETE /api/v2/users/{id}/sessions`` (Enterprise; ``delete:sessions``): 202, asynchronous."""
        self.http.request("DELETE", "/api/v2/users/{id}/sessions", path_params={"id": user_id})

    def delete_user_refresh_tokens(self, user_id: str) -> None:
        """``DELETE /api/v2/users/{id}/refresh-tokens`` (Enterprise; ``delete:refresh_tokens``): 202."""
        self.http.request("DELETE", "/api/v2/users/{id}/refresh-tokens", path_params={"id": user_id})

    def refresh_token_credential_ids(self, user_id: str) -> list[str]:
        """Every refresh token of a user as a device credential (all plans;
        ``read:device_credentials``). Rotating refresh tokens are a type of their own."""
        ids: list[str] = []
        for kind in ("refresh_token", "rotating_refresh_token"):
            page = 0
            while True:
                response = self.http.request(
                    "GET",
                    "/api/v2/device-credentials",
                    params={
                        "user_id": user_id,
                        "type": kind,
                        "page": page,
                        "per_page": 100,
                        "fields": "id",
                        "include_fields": "true",
                    },
                )
                body = response.json()
                items = body.get("device_credentials", []) if isinstance(body, dict) else body
                ids.extend(i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str))
                if len(items) < 100 or page >= 9:  # offset paging stops at 1,000 results
                    break
                page += 1
        return ids

    def delete_device_credential(self, credential_id: str) -> None:
        """``DELETE /api/v2/device-credentials/{id}`` (``delete:device_credentials``): 204."""
        self.http.request("DELETE", "/api/v2/device-credentials/{id}", path_params={"id": credential_id}, accept=(404,))

    def get_raw_user(self, user_id: str, fields: tuple[str, ...] = PROFILE_FIELDS) -> dict[str, Any]:
        response = self.http.request(
            "GET",
            "/api/v2/users/{id}",
            path_params={"id": user_id},
            params={"fields": ",".join(fields), "include_fields": "true"},
        )
        user: dict[str, Any] = response.json()
        return user

    def update_user(self, user_id: str, changes: dict[str, Any]) -> Auth0User:
        """``PATCH /api/v2/users/{id}``. Auth0 merges ``app_metadata``/``user_metadata`` at the top
        level only: callers send each top-level key's complete sub-object (see ``deactivation``)."""
        if not changes:
            raise ValueError("refusing to send an empty PATCH")
        for name in ("app_metadata", "user_metadata"):
            if name in changes and not changes[name]:
                raise ValueError(f"refusing to send an empty {name}: Auth0 would wipe it")
        response = self.http.request("PATCH", "/api/v2/users/{id}", path_params={"id": user_id}, json=changes)
        return Auth0User.from_api(response.json())


def lucene_quote(value: str) -> str:
    r"""A Lucene phrase: ``"auth0|abc"`` with ``\`` and ``"`` escaped (ids carry ``|`` and more)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def auth0_error(response: requests.Response) -> UpstreamError:
    body = json_body(response)
    code = body.get("errorCode") or body.get("error")
    message = (body.get("message") or body.get("error_description") or "")[:300]
    status = response.status_code
    kwargs: UpstreamDetails = {"tenant": "auth0", "status": status, "code": code, "request_id": request_id(response)}
    if status == 401:
        return TokenRejected(
            f"Auth0 rejected the Management API token: {message or 'Unauthorized'}. The token "
            "must be for audience https://{domain}/api/v2/ and unexpired.",
            **kwargs,
        )
    if status == 403:
        missing = message.split("expected any of:", 1)[-1].strip() if "expected" in message else None
        hint = (
            f"grant scope(s) {missing} to the M2M application on the Auth0 Management API"
            if missing
            else "check the M2M application's grant on the Auth0 Management API"
        )
        return PermissionDenied(f"Auth0 denied the call: {message}; {hint}.", missing_scope=missing, **kwargs)
    if status == 404:
        return NotFound(f"Auth0: {message or 'not found'}", **kwargs)
    return RequestRejected(f"Auth0 rejected the request ({code or status}): {message}", **kwargs)
