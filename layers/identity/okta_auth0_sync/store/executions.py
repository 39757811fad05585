"""Starting and reading Step Functions executions (Standard workflows).

Executions are named after something unique in the domain (an Okta event ``uuid``), so Step
Functions itself dedupes repeated deliveries: a name that was used before answers
``ExecutionAlreadyExists`` (reported ``duplicate``) and nothing new starts. One exception to the
answer, not to the dedupe: the same name and input while that execution still runs is answered
as the first call was (StartExecution is idempotent then), so it reads ``started``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.store import aws


def client() -> Any:  # the container's Step Functions client (services/invoke.py still reads through it)
    return aws.client("stepfunctions")


@dataclass(frozen=True)
class Started:
    name: str
    status: str  # started | duplicate | failed
    error: str | None = None


def start(state_machine_arn: str, name: str, payload: Any, *, client: Any = None) -> Started:
    """``client``: a boto3 Step Functions client, or None for the container's
    (:func:`okta_auth0_sync.store.aws.resolve`)."""
    try:
        aws.resolve(client, "stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
        )
    except Exception as exc:  # botocore ClientError, connection errors
        code = aws.error_code(exc) or type(exc).__name__
        if code == "ExecutionAlreadyExists":
            return Started(name, "duplicate")
        return Started(name, "failed", code)
    return Started(name, "started")


def describe(execution_arn: str, *, client: Any = None) -> dict[str, Any] | None:
    """The execution as Step Functions describes it, or None if there is no such execution."""
    try:
        described: dict[str, Any] = aws.resolve(client, "stepfunctions").describe_execution(executionArn=execution_arn)
    except Exception as exc:
        if aws.error_code(exc) == "ExecutionDoesNotExist":
            return None
        raise
    return described


def start_many(
    state_machine_arn: str,
    items: Iterable[tuple[str, Any]],
    *,
    budget_seconds: float,
    concurrency: int = 8,
    client: Any = None,
) -> list[Started]:
    """Start every item within ``budget_seconds`` (in parallel). Items not started in time are
    reported ``failed`` with ``error="timeout"`` so the caller can ask the sender to retry."""
    items = list(items)
    if not items:
        return []
    deadline = time.monotonic() + budget_seconds
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(items)))
    try:
        futures = {pool.submit(start, state_machine_arn, name, payload, client=client): name for name, payload in items}
        done, pending = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        results = [f.result() for f in done]
        results += [Started(futures[f], "failed", "timeout") for f in pending]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return results
