"""Okta's wire errors: the management API error object and OAuth 2.0 errors."""

from __future__ import annotations

from collections.abc import Iterable

from okta_auth0_sync_sandbox.server import HTTPError, Response
from okta_auth0_sync_sandbox.util import random_id

OAUTH_ALGS = "RS256 RS384 RS512 ES256 ES384 ES512"


def error_id() -> str:
    return random_id("oae", 25)


def api_error(
    status: int,
    code: str,
    summary: str,
    causes: Iterable[str] = (),
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """``{"errorCode","errorSummary","errorLink","errorId","errorCauses"}``."""
    body = {
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": error_id(),
        "errorCauses": [{"errorSummary": c} for c in causes],
    }
    return Response.json(body, status, headers)


def raise_api(
    status: int, code: str, summary: str, causes: Iterable[str] = (), headers: Iterable[tuple[str, str]] = ()
) -> HTTPError:
    return HTTPError(api_error(status, code, summary, causes, headers))


def not_found(resource_id: str, kind: str) -> HTTPError:
    return raise_api(404, "E0000007", f"Not found: Resource not found: {resource_id} ({kind})")


def validation_failed(field: str, *causes: str) -> HTTPError:
    return raise_api(400, "E0000001", f"Api validation failed: {field}", causes)


def oauth_error(status: int, error: str, description: str, headers: Iterable[tuple[str, str]] = ()) -> HTTPError:
    body = {"error": error, "error_description": description}
    return HTTPError(Response.json(body, status, [("Cache-Control", "no-store"), ("Pragma", "no-cache"), *headers]))


def www_authenticate(
    scheme: str,
    base_url: str,
    *,
    error: str,
    description: str,
    scope: str | None = None,
    resource: str | None = None,
) -> str:
    """The challenge Okta returns from resource endpoints (Bearer or DPoP scheme)."""
    parts = []
    if scheme == "DPoP":
        parts.append(f'algs="{OAUTH_ALGS}"')
    parts.append(f'authorization_uri="{base_url}/oauth2/v1/authorize"')
    parts.append(f'realm="{base_url}"')
    if scope:
        parts.append(f'scope="{scope}"')
    parts.append(f'error="{error}"')
    parts.append(f'error_description="{description}"')
    if resource:
        parts.append(f'resource="{resource}"')
    return f"{scheme} " + ", ".join(parts)
