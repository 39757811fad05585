"""The invoke API's payloads: what its authorizer reads and answers (an IAM policy for API Gateway),
and what its routes answer: an execution started (``POST``), an execution's status (``GET``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.payloads import event_object


@dataclass(frozen=True)
class StartedExecution:
    """What the invoke API answers when it started a run or a sync (202): the execution id
    (``<flow>.<execution name>``) and where to read its status."""

    execution_id: str

    @property
    def status_url(self) -> str:
        return f"/executions/{self.execution_id}"

    def to_payload(self) -> dict[str, str]:
        return {"execution_id": self.execution_id, "status_url": self.status_url}


@dataclass(frozen=True)
class ExecutionStatus:
    """``GET /executions/{executionId}``: an execution's status, its output (``result``) once it
    has one, and its error and the message in its cause when it failed."""

    execution_id: str
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    started_at: str
    stopped_at: str | None = None
    output: str | None = field(default=None, repr=False)  # the execution's output document (JSON)
    error: str | None = None
    cause: str | None = None

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"execution_id": self.execution_id, "status": self.status, "started_at": self.started_at}
        if self.stopped_at:
            out["stopped_at"] = self.stopped_at
        if self.output:
            out["result"] = json.loads(self.output)
        if self.status == "FAILED":
            out["error"] = self.error
            out["cause"] = self.cause
        return out


@dataclass(frozen=True)
class AuthorizerRequest:
    """What the REQUEST authorizer reads from API Gateway's event: the route (method and resource
    template), the method ARN its policy names, and the credentials. Header names are
    case-insensitive; a ``DPoP`` header comes as a list from ``multiValueHeaders`` when present."""

    method: str
    resource: str
    method_arn: str
    authorization: str | None
    dpop: list[str] | str | None

    @classmethod
    def from_payload(cls, payload: Any) -> AuthorizerRequest:
        event = event_object(payload)
        method_arn = event.get("methodArn")
        if not isinstance(method_arn, str) or not method_arn:
            raise InvalidInput("methodArn is required (a REQUEST authorizer event)")
        headers = {k.lower(): v for k, v in _headers(event, "headers").items()}
        multi = {k.lower(): v for k, v in _headers(event, "multiValueHeaders").items()}
        return cls(
            str(event.get("httpMethod", "")),
            str(event.get("resource", "")),
            method_arn,
            headers.get("authorization"),
            multi.get("dpop") or headers.get("dpop"),
        )


def _headers(event: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = event.get(name) or {}
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class AuthorizerPolicy:
    """The authorizer's answer: ``Allow`` or ``Deny`` for this method ARN only, with the caller (or
    the reason) in the context API Gateway passes on (string values only)."""

    principal: str
    effect: str  # Allow | Deny
    method_arn: str
    context: dict[str, str]

    def to_payload(self) -> dict[str, Any]:
        return {
            "principalId": self.principal,
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": self.effect, "Resource": self.method_arn}],
            },
            "context": self.context,
        }
