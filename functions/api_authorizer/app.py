"""Lambda REQUEST authorizer of the invoke API: Okta custom-authorization-server access tokens,
Bearer or DPoP-bound (see okta_auth0_sync.jose.resource_server).

API Gateway semantics: an Allow policy for this method ARN only, with the caller and its scopes in
the context (the route's scope is checked by the invoke function behind it: a 403
``insufficient_scope`` in the caller's scheme); a Deny policy for credentials it judged and
refused, whose context carries the exact RFC 6750 / RFC 9449 challenge (``challenge``), the error
code (``error_code``, ``unauthorized`` when there is none) and the reason (``error_message``):
the template's ACCESS_DENIED gateway response answers 401 with ``WWW-Authenticate`` mapped from
``context.authorizer.challenge``. A request without an ``Authorization`` header never gets here
(API Gateway's static UNAUTHORIZED response). Caching is off (``ReauthorizeEvery: 0``: a DPoP proof
is single use and names one URL), so a refusal is never reused for another request. Anything else
escaping is API Gateway's AUTHORIZER_FAILURE (503 with Retry-After).
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.invoke import AuthorizerPolicy, AuthorizerRequest
from okta_auth0_sync.jose.resource_server import AuthFailure, ResourceServerNotConfigured, quotable
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.invoke import ROUTE_SCOPES, request_url, resource_server


def _refusal(failure: AuthFailure, method_arn: str) -> dict:
    """A Deny policy carrying what the ACCESS_DENIED gateway response sends: the challenge (header)
    and the error code and reason (body; quotable text, so it is safe inside the JSON template)."""
    context = {
        "challenge": failure.www_authenticate,
        "status": str(failure.status),
        "error_code": failure.error or "unauthorized",
        "error_message": quotable(failure.description),
    }
    return AuthorizerPolicy("refused", "Deny", method_arn, context).to_payload()


@handler(trace=False)
def lambda_handler(event: dict, context) -> dict:
    request = AuthorizerRequest.from_payload(event)
    route = f"{request.method} {request.resource}"
    if (request.method, request.resource) not in ROUTE_SCOPES:
        # Not a route of this API (API Gateway calls the authorizer only for the template's): refused,
        # and nothing said about the credentials, which were not looked at.
        logger.warning("no scope is defined for this route", extra={"route": route})
        return _refusal(AuthFailure(401, None, "no such route"), request.method_arn)
    try:
        caller = resource_server().authenticate(
            authorization=request.authorization,
            dpop=request.dpop,
            method=request.method,
            url=request_url(event, settings.current().public_base_url),
        )
    except ResourceServerNotConfigured as unconfigured:
        # The operator's fault, not the caller's: its own metric and alarm (InvokeApiNotConfiguredAlarm),
        # an error-level line, and to the caller a 401 like any refusal (fail closed), without the
        # operator's details.
        metrics.add_metric(name="ApiNotConfigured", unit=MetricUnit.Count, value=1)
        logger.error("invoke API not configured: every caller is refused", extra={"reason": str(unconfigured)})
        refused = AuthFailure(401, "invalid_token", "access tokens cannot be validated: the API is not configured")
        return _refusal(refused, request.method_arn)
    except AuthFailure as failure:
        metrics.add_metric(name=f"ApiAuth{failure.status}", unit=MetricUnit.Count, value=1)
        logger.warning(
            "caller refused",
            extra={
                "status": failure.status,
                "error": failure.error,
                "reason": failure.description,
                "route": route,
                "challenge": failure.www_authenticate,
            },
        )
        return _refusal(failure, request.method_arn)
    logger.info(
        "caller authenticated",
        extra={"client_id": caller.client_id, "route": route, "token_type": caller.token_type},
    )
    return AuthorizerPolicy(caller.client_id, "Allow", request.method_arn, caller.context()).to_payload()
