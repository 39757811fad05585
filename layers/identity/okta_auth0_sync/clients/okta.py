"""The Okta client: just the calls this package needs, over the shared HTTP layer."""

from __future__ import annotations

import re
from typing import Any

import requests

from okta_auth0_sync.base.errors import (
    AlreadyExists,
    DpopRequired,
    NotFound,
    PermissionDenied,
    RequestRejected,
    TokenRejected,
    UpstreamDetails,
    UpstreamError,
    UserStatusConflict,
)
from okta_auth0_sync.clients.http import HttpClient, json_body, next_link, request_id
from okta_auth0_sync.domain.identities import OktaUser


class OktaClient:
    tenant = "okta"

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def get_user(self, user_id: str) -> OktaUser:
        """``GET /api/v1/users/{idOrLogin}`` (strongly consistent; scope ``okta.users.read``). A login
        is percent-encoded as one path segment; the DPoP proof's ``htu`` uses the decoded path."""
        response = self.http.request("GET", "/api/v1/users/{id}", path_params={"id": user_id})
        return OktaUser.from_api(response.json())

    def find_user(self, login: str) -> OktaUser | None:
        try:
            return self.get_user(login)
        except NotFound:
            return None

    def create_user(
        self, profile: dict[str, Any], *, group_ids: list[str], activate: bool = True, federated: bool = False
    ) -> OktaUser:
        """``POST /api/v1/users`` with ``groupIds``: created and in the group(s) in one call.
        Federated users have no password (``provider=true`` + a FEDERATION credential provider).
        Raises :class:`AlreadyExists` on E0000001 (login taken). A 5xx is not retried here: the
        create may have happened, and the caller resolves it through AlreadyExists."""
        body: dict[str, Any] = {"profile": profile, "groupIds": group_ids}
        params = {"activate": str(activate).lower()}
        if federated:
            body["credentials"] = {"provider": {"type": "FEDERATION", "name": "FEDERATION"}}
            params["provider"] = "true"
        response = self.http.request("POST", "/api/v1/users", params=params, json=body)
        return OktaUser.from_api(response.json())

    def add_to_group(self, group_id: str, user_id: str) -> None:
        """``PUT /api/v1/groups/{gid}/users/{uid}`` (204; idempotent; scope ``okta.groups.manage``)."""
        self.http.request(
            "PUT", "/api/v1/groups/{group_id}/users/{user_id}", path_params={"group_id": group_id, "user_id": user_id}
        )

    def remove_from_group(self, group_id: str, user_id: str) -> None:
        """``DELETE /api/v1/groups/{gid}/users/{uid}`` (204; idempotent; scope ``okta.groups.manage``)."""
        self.http.request(
            "DELETE",
            "/api/v1/groups/{group_id}/users/{user_id}",
            path_params={"group_id": group_id, "user_id": user_id},
        )

    def user_group_ids(self, user_id: str) -> set[str]:
        """``GET /api/v1/users/{id}/groups``: the ids of every group the user is in (one page holds
        them all for any realistic user; ``Link`` paging followed anyway)."""
        return {
            group["id"]
            for page in self.http.paginate("/api/v1/users/{id}/groups", path_params={"id": user_id})
            for group in page
            if isinstance(group, dict) and "id" in group
        }

    def lifecycle(self, user_id: str, operation: str) -> None:
        """``POST /api/v1/users/{id}/lifecycle/{op}`` for ``suspend``, ``unsuspend``, ``deactivate``
        or ``activate`` (no e-mail sent; scope ``okta.users.manage``). Okta answers 403 E0000038
        when the user's status does not allow it (:class:`UserStatusConflict`, a
        :class:`RequestRejected`)."""
        if operation not in ("suspend", "unsuspend", "deactivate", "activate"):
            raise ValueError(f"unsupported lifecycle operation {operation!r}")
        params = {"sendEmail": "false"} if operation in ("activate", "deactivate") else None
        self.http.request(
            "POST",
            "/api/v1/users/{id}/lifecycle/" + operation,
            path_params={"id": user_id},
            params=params,
            retry_post=True,  # a repeated lifecycle change is refused by status, never duplicated
        )

    def system_log_page(
        self, *, next_url: str | None = None, params: dict[str, str] | None = None
    ) -> tuple[list[Any], str | None]:
        """One page of ``GET /api/v1/logs`` (scope ``okta.logs.read``): the events and the
        ``rel="next"`` link. Either the query (``params``, a first read) or a ``next`` link from an
        earlier page (checked to lead back to this org). Paced like every call, on the small
        System Log bucket's own headers."""
        response = self.http.request("GET", "/api/v1/logs", url=next_url, params=None if next_url else params)
        events = response.json()
        if not isinstance(events, list):
            raise UpstreamError("Okta GET /api/v1/logs answered something other than a list", tenant="okta")
        return events, next_link(response)

    def search_users_page(
        self, search: str | None = None, *, next_url: str | None = None
    ) -> tuple[list[Any], str | None]:
        """One page (up to 200) of ``GET /api/v1/users?search=...`` (scope ``okta.users.read``; the
        ``search`` syntax, which may name ``status`` and ``id``, e.g. ``status eq "DEPROVISIONED"``)
        and the ``rel="next"`` link to resume from (checked to lead back to this org)."""
        params = None if next_url else {"search": search or "", "limit": "200"}
        response = self.http.request("GET", "/api/v1/users", url=next_url, params=params)
        users = response.json()
        if not isinstance(users, list):
            raise UpstreamError("Okta GET /api/v1/users answered something other than a list", tenant="okta")
        return users, next_link(response)

    def get_group(self, group_id: str) -> dict[str, Any]:
        """``GET /api/v1/groups/{id}`` (scope ``okta.groups.read``)."""
        group: dict[str, Any] = self.http.request("GET", "/api/v1/groups/{id}", path_params={"id": group_id}).json()
        return group


_SCOPE = re.compile(r'scope="([^"]+)"')
_ERROR = re.compile(r'error="([^"]+)"')


def okta_error(response: requests.Response) -> UpstreamError:
    """Map an Okta error response to a typed error with a message an operator can act on."""
    body = json_body(response)
    code = body.get("errorCode") or body.get("error")
    summary = (body.get("errorSummary") or body.get("error_description") or "")[:300]
    causes = "; ".join(c.get("errorSummary", "") for c in body.get("errorCauses") or [] if isinstance(c, dict))
    status = response.status_code
    challenge = response.headers.get("WWW-Authenticate", "")
    kwargs: UpstreamDetails = {"tenant": "okta", "status": status, "code": code, "request_id": request_id(response)}
    challenge_error = (_ERROR.search(challenge) or [None, None])[1]
    if challenge_error in ("invalid_dpop_proof", "use_dpop_nonce") or code == "invalid_dpop_proof":
        return DpopRequired(
            f"Okta rejected the DPoP proof: {summary or challenge[:200]}. With a DPoP-bound "
            "token each request needs a proof whose htu is the decoded path.",
            **kwargs,
        )
    if status == 401:
        return TokenRejected(
            f"Okta rejected the access token ({code or 'invalid_token'}): the token must come from this org's "
            "authorization server (/oauth2/v1/token, not a custom one), be unexpired, and be sent as "
            "'Bearer' (or 'DPoP' with a proof when DPoP-bound); an SSWS token may be revoked or expired "
            "(30 days unused).",
            **kwargs,
        )
    if code == "E0000038":  # a 403, but about the user's status, not the caller's rights
        return UserStatusConflict(f"Okta: {summary or 'operation not allowed in the user status'}", **kwargs)
    if status == 403:
        scope = (_SCOPE.search(challenge) or [None, None])[1]
        if scope:
            return PermissionDenied(
                f"Okta denied the call: the token lacks scope {scope}. Grant it on the app's 'Okta API Scopes' "
                "tab and add it to 'scopes' in the Okta secret.",
                missing_scope=scope,
                **kwargs,
            )
        return PermissionDenied(
            f"Okta denied the call ({code}): {summary} The app's admin role may not cover this resource.", **kwargs
        )
    if status == 404:
        return NotFound(f"Okta: {summary or 'not found'}", **kwargs)
    if code == "E0000001" and "already exists" in causes:
        return AlreadyExists(f"Okta: {causes}", **kwargs)
    detail = f"{summary}: {causes}" if causes else summary
    return RequestRejected(f"Okta rejected the request ({code or status}): {detail}", **kwargs)
