"""The invoke API (behind the Okta access-token authorizer): start a provisioning run or a
one-user sync on demand, and read an execution's status and report. See okta_auth0_sync.invoke.

Every route is registered through :func:`route`, which takes its scope from
``invoke.ROUTE_SCOPES`` (a route without one fails at import) and checks it first, before the body
or anything else is read: a caller whose token (the authorizer's context) lacks it gets a 403
``insufficient_scope`` with the RFC 6750 / RFC 9449 challenge in its own scheme (``DPoP`` for a
DPoP-bound token), and nothing is started or written.

A request body is read here, not by Powertools' ``json_body`` (whose decoding and parsing errors
escaped as a Lambda error, a 502): at most :data:`MAX_BODY_BYTES` (413 beyond), valid base64 when
API Gateway says so, UTF-8, nested at most :data:`MAX_BODY_DEPTH` deep (checked before the JSON
parser, which recurses, sees it), and JSON; anything else is a 400 that says why.
"""

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from okta_auth0_sync.base.errors import InvalidInput, NotFound
from okta_auth0_sync.domain import ids, reconciliation
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput
from okta_auth0_sync.domain.payloads.invoke import StartedExecution
from okta_auth0_sync.domain.provisioning import ProvisioningRequest
from okta_auth0_sync.jose.resource_server import AuthFailure, require_scope
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services import invoke

app = APIGatewayRestResolver()

MAX_BODY_BYTES = 16 * 1024  # a body names a role, a group and dry_run: a few hundred bytes
MAX_BODY_DEPTH = 8  # the body is one flat object


class BodyTooLarge(InvalidInput):
    """A request body over :data:`MAX_BODY_BYTES` (answered 413)."""


def _nesting_depth(text: str) -> int:
    """How deep ``[``/``{`` nest in ``text`` outside JSON strings: one pass, no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _json_body() -> Any:
    """The request's JSON body (``{}`` when there is none), or :class:`InvalidInput` saying why not."""
    body, encoded = app.current_event.body, app.current_event.is_base64_encoded
    if body is None or body == "":
        return {}
    if not isinstance(body, str) or len(body) > 2 * MAX_BODY_BYTES:  # base64 is 4/3 of the bytes
        raise BodyTooLarge(f"the body must be at most {MAX_BODY_BYTES} bytes of JSON")
    if encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the body is not valid base64") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body must be at most {MAX_BODY_BYTES} bytes of JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body must be UTF-8 JSON") from None
    if _nesting_depth(text) > MAX_BODY_DEPTH:
        raise InvalidInput(f"the body nests deeper than {MAX_BODY_DEPTH} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidInput(f"the body is not valid JSON{where}") from None


def _authorizer() -> dict[str, Any]:
    """The authorizer's context for this request (``{}`` when there is none)."""
    request_context = app.current_event.raw_event.get("requestContext")
    context = request_context.get("authorizer") if isinstance(request_context, dict) else None
    return context if isinstance(context, dict) else {}


def _caller() -> str:
    return _authorizer().get("client_id", "unknown")


class ScopeRequired(Exception):
    """A route's scope is not among the token's (answered 403 with the challenge)."""

    def __init__(self, failure: AuthFailure) -> None:
        super().__init__(failure.description)
        self.failure = failure


def _require(scope: str) -> None:
    """The route's scope must be among the token's scopes (the authorizer's ``scopes``: space
    separated); the challenge is in the scheme of the token (``token_type``)."""
    authorizer = _authorizer()
    scopes, scheme = authorizer.get("scopes"), authorizer.get("token_type")
    try:
        require_scope(scopes.split(" ") if isinstance(scopes, str) else (), scope, scheme=str(scheme))
    except AuthFailure as failure:
        raise ScopeRequired(failure) from None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def route(method: str, resource: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a route of the template (``resource`` as API Gateway names it, ``{oktaUserId}``;
    the handler takes ``okta_user_id``) that answers only a caller with its scope, checked first."""
    scope = invoke.ROUTE_SCOPES[(method, resource)]  # a KeyError at import for a route with no scope
    rule = re.sub(r"\{(\w+)\}", lambda m: f"<{_snake(m[1])}>", resource)

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def scoped(*args: Any, **kwargs: Any) -> Any:
            _require(scope)
            return function(*args, **kwargs)

        scoped.required_scope = scope  # type: ignore[attr-defined]
        return app.route(rule, method=[method])(scoped)

    return register


def _accepted(started: StartedExecution, what: str) -> Response:
    answer = started.to_payload()
    logger.info(f"{what} started on demand", extra={"client_id": _caller(), **answer})
    return Response(202, content_types.APPLICATION_JSON, answer, headers={"Location": started.status_url})


@route("POST", "/provisioning/runs")
def start_provisioning():
    request = ProvisioningRequest.from_api_body(_json_body(), requested_by=_caller())
    return _accepted(invoke.start("provisioning", request.to_payload()), "provisioning run")


@route("POST", "/users/{oktaUserId}/sync")
def sync_user(okta_user_id: str):
    request = DeactivationSyncInput.on_demand(ids.okta_user_id(okta_user_id, "oktaUserId"), requested_by=_caller())
    return _accepted(invoke.start("user-sync", request.to_payload()), "user sync")


@route("POST", "/reconciliation/runs")
def start_reconciliation():
    request = reconciliation.request_from_api_body(_json_body(), requested_by=_caller())
    return _accepted(invoke.start("reconciliation", request), "reconciliation")


@route("GET", "/executions/{executionId}")
def execution_status(execution_id: str):
    return invoke.describe(execution_id).to_payload()


@app.exception_handler(ScopeRequired)
def scope_required(exc: ScopeRequired):
    failure = exc.failure
    metrics.add_metric(name="ApiAuth403", unit=MetricUnit.Count, value=1)
    logger.warning(
        "caller lacks the route's scope",
        extra={"client_id": _caller(), "scope": failure.scope, "challenge": failure.www_authenticate},
    )
    return Response(
        failure.status,
        content_types.APPLICATION_JSON,
        {"error": failure.error, "message": failure.description},
        headers={"WWW-Authenticate": failure.www_authenticate},
    )


@app.exception_handler(InvalidInput)
def invalid_input(exc: InvalidInput):
    return Response(400, content_types.APPLICATION_JSON, {"error": "invalid_request", "message": str(exc)})


@app.exception_handler(BodyTooLarge)
def body_too_large(exc: BodyTooLarge):
    return Response(413, content_types.APPLICATION_JSON, {"error": "invalid_request", "message": str(exc)})


@app.exception_handler(NotFound)
def not_found(exc: NotFound):
    return Response(404, content_types.APPLICATION_JSON, {"error": "not_found", "message": str(exc)})


@handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
