"""Lambda REQUEST authorizer of the invoke API: Okta custom-authorization-server access tokens,
Bearer or DPoP-bound, with a required scope per route (see okta_auth0_sync.api_auth).

API Gateway semantics: ``raise Exception("Unauthorized")`` -> 401 (bad or missing credentials);
a Deny policy -> 403 (valid token, missing scope); an Allow policy for this method ARN only,
with the caller in the context. Caching is off (a DPoP proof is single use and names one URL).
"""

from okta_auth0_sync import settings
from okta_auth0_sync.jose.resource_server import AuthFailure
from okta_auth0_sync.runtime.observability import MetricUnit, handler, logger, metrics
from okta_auth0_sync.services.invoke import ROUTE_SCOPES, request_url, resource_server


def _policy(principal: str, effect: str, method_arn: str, context: dict) -> dict:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
        "context": context,
    }


@handler(trace=False)
def lambda_handler(event: dict, context) -> dict:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (event.get("multiValueHeaders") or {}).items()}
    method, resource = event.get("httpMethod", ""), event.get("resource", "")
    required = ROUTE_SCOPES.get((method, resource))
    if required is None:
        logger.warning("no scope is defined for this route", extra={"route": f"{method} {resource}"})
        return _policy("unknown", "Deny", event["methodArn"], {"error": "no_such_route"})
    try:
        caller = resource_server().authenticate(
            authorization=headers.get("authorization"),
            dpop=multi.get("dpop") or headers.get("dpop"),
            method=method,
            url=request_url(event, settings.current().public_base_url),
            required_scope=required,
        )
    except AuthFailure as failure:
        metrics.add_metric(name=f"ApiAuth{failure.status}", unit=MetricUnit.Count, value=1)
        logger.warning(
            "caller refused",
            extra={
                "status": failure.status,
                "error": failure.error,
                "reason": failure.description,
                "route": f"{method} {resource}",
                "challenge": failure.www_authenticate,
            },
        )
        if failure.status == 401:
            raise Exception("Unauthorized") from None
        return _policy("denied", "Deny", event["methodArn"], {"error": failure.error or "", "scope": required})
    logger.info(
        "caller authorized",
        extra={"client_id": caller.client_id, "route": f"{method} {resource}", "token_type": caller.token_type},
    )
    return _policy(caller.client_id, "Allow", event["methodArn"], caller.context())
