"""The invoke API's answers: an execution started (``POST``), an execution's status (``GET``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


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
