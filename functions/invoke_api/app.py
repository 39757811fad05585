"""The invoke API (behind the Okta access-token authorizer): start a provisioning run or a
one-user sync on demand, and read an execution's status and report. See okta_auth0_sync.invoke.
"""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from okta_auth0_sync.base.errors import InvalidInput, NotFound
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.payloads.deactivation import DeactivationSyncInput
from okta_auth0_sync.domain.payloads.invoke import StartedExecution
from okta_auth0_sync.domain.provisioning import ProvisioningRequest
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services import invoke

app = APIGatewayRestResolver()


def _caller() -> str:
    return (app.current_event.request_context.authorizer or {}).get("client_id", "unknown")


def _accepted(started: StartedExecution, what: str) -> Response:
    answer = started.to_payload()
    logger.info(f"{what} started on demand", extra={"client_id": _caller(), **answer})
    return Response(202, content_types.APPLICATION_JSON, answer, headers={"Location": started.status_url})


@app.post("/provisioning/runs")
def start_provisioning():
    body = app.current_event.json_body if app.current_event.body else {}
    request = ProvisioningRequest.from_api_body(body, requested_by=_caller())
    return _accepted(invoke.start("provisioning", request.to_payload()), "provisioning run")


@app.post("/users/<okta_user_id>/sync")
def sync_user(okta_user_id: str):
    request = DeactivationSyncInput.on_demand(ids.okta_user_id(okta_user_id, "oktaUserId"), requested_by=_caller())
    return _accepted(invoke.start("user-sync", request.to_payload()), "user sync")


@app.get("/executions/<execution_id>")
def execution_status(execution_id: str):
    return invoke.describe(execution_id).to_payload()


@app.exception_handler(InvalidInput)
def invalid_input(exc: InvalidInput):
    return Response(400, content_types.APPLICATION_JSON, {"error": "invalid_request", "message": str(exc)})


@app.exception_handler(NotFound)
def not_found(exc: NotFound):
    return Response(404, content_types.APPLICATION_JSON, {"error": "not_found", "message": str(exc)})


@handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
