"""Auth0 tenant logs over the Management API (scope ``read:logs``), on the Auth0 client's HTTP
layer (retries, pacing, counting). auth0-python's ``logs.list`` has no checkpoint parameters, so
the checkpoint mode is called directly.

- :func:`logs_after`: ``GET /api/v2/logs?from=<log_id>&take=<n>``: logs newer than the
  checkpoint, ordered by ``log_id`` (not by date: a late record is not skipped), no 1,000 cap;
- :func:`newest_log_id`: ``GET /api/v2/logs?sort=date:-1&per_page=1``: where a first poll starts.
"""

from __future__ import annotations

from typing import Any

from okta_auth0_sync.base.errors import UpstreamError
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.auth0_logs import LOG_ID


def logs_after(client: Auth0Client, log_id: str, take: int = 100) -> list[dict[str, Any]]:
    body = client.http.request("GET", "/api/v2/logs", params={"from": log_id, "take": take}).json()
    if not isinstance(body, list):
        raise UpstreamError("Auth0 GET /api/v2/logs (checkpoint) did not return an array", tenant="auth0")
    return [log for log in body if isinstance(log, dict)]


def newest_log_id(client: Auth0Client) -> str | None:
    body = client.http.request(
        "GET", "/api/v2/logs", params={"sort": "date:-1", "per_page": 1, "page": 0, "fields": "log_id"}
    ).json()
    logs = body.get("logs") if isinstance(body, dict) else body
    if not isinstance(logs, list):
        raise UpstreamError("Auth0 GET /api/v2/logs did not return an array", tenant="auth0")
    first = logs[0] if logs and isinstance(logs[0], dict) else {}
    log_id = first.get("log_id")
    return str(log_id) if ids.matches(LOG_ID, log_id) else None
