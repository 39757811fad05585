"""Lambda REQUEST authorizer of the invoke API: Okta custom-authorization-server access tokens,
Bearer or DPoP-bound, with a required scope per route (see okta_auth0_sync.api_auth).

API Gateway semantics: ``raise Exception("Unauthorized")`` -> 401 (bad or missing credentials);
a Deny policy -> 403 (valid token, missing scope); an Allow policy for this method ARN only,
with the caller in the context. Caching is off (a DPoP proof is single use and names one URL).
"""

from okta_auth0_sync import settings
from okta_auth0_sync.domain.payloads.invoke import AuthorizerPolicy, AuthorizerRequest
from okta_auth0_sync.jose.resource_server import AuthFailure, ResourceServerNotConfigured
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.invoke import ROUTE_SCOPES, request_url, resource_server


@handler(trace=False)
def lambda_handler(event: dict, context) -> dict:
    request = AuthorizerRequest.from_payload(event)
    route = f"{request.method} {request.resource}"
    required = ROUTE_SCOPES.get((request.method, request.resource))
    if required is None:
        logger.warning("no scope is defined for this route", extra={"route": route})
        return AuthorizerPolicy("unknown", "Deny", request.method_arn, {"error": "no_such_route"}).to_payload()
    try:
        caller = resource_server().authenticate(
            authorization=request.authorization,
            dpop=request.dpop,
            method=request.method,
            url=request_url(event, settings.current().public_base_url),
            required_scope=required,
        )
    except ResourceServerNotConfigured as unconfigured:
        # The operator's fault, not the caller's: its own metric and alarm (InvokeApiNotConfiguredAlarm),
        # an error-level line, and to the caller a 401 like any refusal (fail closed).
        metrics.add_metric(name="ApiNotConfigured", unit=MetricUnit.Count, value=1)
        logger.error("invoke API not configured: every caller is refused", extra={"reason": str(unconfigured)})
        raise Exception("Unauthorized") from None
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
        if failure.status == 401:
            raise Exception("Unauthorized") from None
        denied = {"error": failure.error or "", "scope": required}
        return AuthorizerPolicy("denied", "Deny", request.method_arn, denied).to_payload()
    logger.info(
        "caller authorized",
        extra={"client_id": caller.client_id, "route": route, "token_type": caller.token_type},
    )
    return AuthorizerPolicy(caller.client_id, "Allow", request.method_arn, caller.context()).to_payload()
