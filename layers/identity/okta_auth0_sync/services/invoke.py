"""The invoke API: its routes and scopes, its resource server, and what its routes start.

Routes (REST API, Lambda REQUEST authorizer, see ``api_auth``):

- ``POST /provisioning/runs``             scope ``sync.provision``: a provisioning run
  (``{"role_id", "group_id", "dry_run"}``); 202 with the execution id;
- ``POST /users/{oktaUserId}/sync``       scope ``sync.users``: sync one Okta user's current
  status (deactivated / suspended / active) to Auth0 now; 202 with the execution id;
- ``GET /executions/{executionId}``       scope ``sync.read``: status and report of a run;
- ``POST /reconciliation/runs``           scope ``sync.reconcile``: a full-state reconciliation
  (``{"dry_run"}``); 202 with the execution id.

Execution ids are ``<flow>.<execution name>`` (``provisioning.api-…``, ``user-sync.api-…``; no
character that needs encoding in a path): only this package's state machines can be read through
the API, never an arbitrary ARN.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from okta_auth0_sync import settings
from okta_auth0_sync.base import container
from okta_auth0_sync.base.errors import InvalidInput, NotFound, cause_message
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.payloads.invoke import ExecutionStatus, StartedExecution
from okta_auth0_sync.jose.jwks import JwksCache
from okta_auth0_sync.jose.resource_server import ResourceServer, ResourceServerNotConfigured
from okta_auth0_sync.store.replay import ProofReplayCache

ROUTE_SCOPES = {
    ("POST", "/provisioning/runs"): "sync.provision",
    ("POST", "/users/{oktaUserId}/sync"): "sync.users",
    ("GET", "/executions/{executionId}"): "sync.read",
    ("POST", "/reconciliation/runs"): "sync.reconcile",
}
# Each flow the API starts or reads, and the setting holding its state machine's ARN.
FLOWS = {
    "provisioning": "provisioning_state_machine_arn",
    "user-sync": "deactivation_state_machine_arn",
    "reconciliation": "reconciliation_state_machine_arn",
}

_server: ResourceServer | None = None


def resource_server() -> ResourceServer:
    """Built once per container from ``API_ISSUER``, ``API_AUDIENCE`` (and ``API_JWKS_URI``).

    Without an issuer (the template's default ``ApiIssuer`` is empty) or an audience, raises
    :class:`ResourceServerNotConfigured`: a ``ConfigurationError`` that is also an ``AuthFailure``
    (401), so the authorizer refuses every caller with the reason logged, never a 500."""
    global _server
    if _server is None:
        config = settings.current()
        issuer = (config.api_issuer or "").strip()
        audience = (config.api_audience or "").strip()
        if not issuer or not audience:
            raise ResourceServerNotConfigured(
                "the invoke API is not configured: set ApiIssuer (API_ISSUER) and ApiAudience (API_AUDIENCE)"
            )
        parts = urlsplit(issuer)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ResourceServerNotConfigured(
                "the invoke API is not configured: ApiIssuer (API_ISSUER) must be the authorization server's "
                "issuer URL, https://{org}/oauth2/{authServerId}"
            )
        jwks_uri = config.api_jwks_uri or issuer.rstrip("/") + "/v1/keys"
        _server = ResourceServer(
            issuer=issuer.rstrip("/"),
            audience=audience,
            jwks=JwksCache(jwks_uri, _fetch_json),
            replay=ProofReplayCache(config.proof_replay_table),
        )
    return _server


@container.on_new_container
def _forget_server() -> None:
    global _server
    _server = None


def _fetch_json(url: str) -> dict[str, Any]:
    """The issuer's JWKS. A caller is waiting on the authorizer: two attempts (a blip is retried
    once, within half a second), not the six of a background task; the cache serves stale keys
    through longer outages, and with none cached the gateway answers 503 with Retry-After."""
    from urllib.parse import urlsplit

    from okta_auth0_sync.clients.http import HttpClient, RetryPolicy
    from okta_auth0_sync.clients.okta import okta_error

    parts = urlsplit(url)
    client = HttpClient(
        f"{parts.scheme}://{parts.netloc}",
        "okta",
        error_mapper=okta_error,
        retry=RetryPolicy(max_attempts=2, base_delay=0.25, max_delay=0.5),
    )
    document: dict[str, Any] = client.request("GET", parts.path, auth=False).json()
    return document


def request_url(event: dict[str, Any], public_base_url: str | None = None) -> str:
    """The URL the caller used (what a DPoP proof's ``htu`` must name): the public base URL when
    one is configured (custom domain, CloudFront), else the API's domain and stage path."""
    ctx = event.get("requestContext") or {}
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    path = event.get("path") or ctx.get("resourcePath") or "/"
    if public_base_url:
        return public_base_url.rstrip("/") + path
    domain = ctx.get("domainName") or headers.get("host", "")
    scheme = headers.get("x-forwarded-proto", "https")  # set by API Gateway
    return f"{scheme}://{domain}{ctx.get('path') or path}"


def start(flow: str, payload: dict[str, Any]) -> StartedExecution:
    from okta_auth0_sync.store import executions

    name = f"api-{uuid.uuid4()}"
    result = executions.start(_machine_arn(flow), name, payload)
    if result.status != "started":
        raise RuntimeError(f"could not start the {flow} execution: {result.error or result.status}")
    return StartedExecution(f"{flow}.{name}")


def describe(execution_id: str) -> ExecutionStatus:
    from okta_auth0_sync.store import executions

    flow, _, name = execution_id.partition(".")
    if flow not in FLOWS or not ids.matches(ids.API_EXECUTION_NAME, name):
        raise InvalidInput("execution id must look like provisioning.<name>, user-sync.<name> or reconciliation.<name>")
    arn = _machine_arn(flow).replace(":stateMachine:", ":execution:") + ":" + name
    try:
        described = executions.client().describe_execution(executionArn=arn)
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            raise NotFound(f"no execution {execution_id}") from None
        raise
    stopped = described.get("stopDate")
    return ExecutionStatus(
        execution_id=execution_id,
        status=described["status"],
        started_at=described["startDate"].isoformat(),
        stopped_at=stopped.isoformat() if stopped else None,
        output=described.get("output"),
        error=described.get("error"),
        cause=cause_message(described.get("cause")),
    )


def _machine_arn(flow: str) -> str:
    return settings.current().require(FLOWS[flow])
