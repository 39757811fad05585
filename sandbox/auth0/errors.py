"""Auth0's wire errors: Management API (``statusCode``/``error``/``message``/``errorCode``)
and Authentication API (``error``/``error_description``)."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from okta_auth0_sync_sandbox.server import HTTPError, Response


def api_error(
    status: int,
    message: str,
    error_code: str | None = None,
    *,
    extra: dict[str, Any] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    body: dict[str, Any] = {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}
    if error_code:
        body["errorCode"] = error_code
    if extra:
        body.update(extra)
    return Response.json(body, status, headers)


def raise_api(status: int, message: str, error_code: str | None = None, **kwargs: Any) -> HTTPError:
    return HTTPError(api_error(status, message, error_code, **kwargs))


def query_error(message: str, prop: str) -> HTTPError:
    return raise_api(400, f"Query validation error: '{message}' on property {prop}.", "invalid_query_string")


def payload_error(message: str, prop: str | None = None) -> HTTPError:
    where = f" on property {prop}" if prop else ""
    return raise_api(400, f"Payload validation error: '{message}'{where}.", "invalid_body")


def user_not_found() -> HTTPError:
    return raise_api(404, "The user does not exist.", "inexistent_user")


def not_found(message: str, error_code: str) -> HTTPError:
    """404 of the session / refresh-token family (OAS wording: "User not found", "Session not found")."""
    return raise_api(404, message, error_code)


def feature_not_enabled() -> HTTPError:
    """What a tenant whose plan lacks a feature answers. Auth0 does not document it for the
    session and refresh-token endpoints (Enterprise only); this is the plan/feature gate Auth0
    uses elsewhere: 403 with ``errorCode`` ``feature_not_enabled`` (auth0-deploy-cli tests for that
    code on Actions, Triggers and Organizations) and the message terraform-provider-auth0 #1362
    shows for a gated feature. It never reads "Insufficient scope"."""
    return raise_api(403, "This feature is not enabled for this tenant.", "feature_not_enabled")


def oauth_error(status: int, error: str, description: str, headers: Iterable[tuple[str, str]] = ()) -> HTTPError:
    return HTTPError(
        Response.json(
            {"error": error, "error_description": description},
            status,
            [("Cache-Control", "no-store"), ("Pragma", "no-cache"), *headers],
        )
    )
