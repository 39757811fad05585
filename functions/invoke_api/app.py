"""The invoke API (behind the Okta access-token authorizer): start a provisioning run or a
one-user sync on demand, and read an execution's status and report. See okta_auth0_sync.invoke.
"""

import re

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from okta_auth0_sync.base.errors import InvalidInput, NotFound
from okta_auth0_sync.domain.provisioning import RoleGroupMapping
from okta_auth0_sync.runtime.observability import handler, logger
from okta_auth0_sync.services import invoke

app = APIGatewayRestResolver()
_OKTA_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def _caller() -> str:
    return (app.current_event.request_context.authorizer or {}).get("client_id", "unknown")


def _accepted(started: dict, what: str) -> Response:
    logger.info(f"{what} started on demand", extra={"client_id": _caller(), **started})
    return Response(202, content_types.APPLICATION_JSON, started, headers={"Location": started["status_url"]})


@app.post("/provisioning/runs")
def start_provisioning():
    body = app.current_event.json_body if app.current_event.body else {}
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    mapping = RoleGroupMapping.parse(body)
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run must be true or false")
    return _accepted(
        invoke.start(
            "provisioning",
            {"role_id": mapping.role_id, "group_id": mapping.group_id, "dry_run": dry_run, "requested_by": _caller()},
        ),
        "provisioning run",
    )


@app.post("/users/<okta_user_id>/sync")
def sync_user(okta_user_id: str):
    if not _OKTA_ID.match(okta_user_id):
        raise InvalidInput("oktaUserId must be an Okta user id such as 00u3m90rxKjGQ0G6L1d6")
    return _accepted(
        invoke.start("user-sync", {"okta_user": {"id": okta_user_id}, "requested_by": _caller()}), "user sync"
    )


@app.get("/executions/<execution_id>")
def execution_status(execution_id: str):
    return invoke.describe(execution_id)


@app.exception_handler(InvalidInput)
def invalid_input(exc: InvalidInput):
    return Response(400, content_types.APPLICATION_JSON, {"error": "invalid_request", "message": str(exc)})


@app.exception_handler(NotFound)
def not_found(exc: NotFound):
    return Response(404, content_types.APPLICATION_JSON, {"error": "not_found", "message": str(exc)})


@handler(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
