"""Operator commands on the deployed state machines (AWS credentials, no invoke API token):

- ``reconcile``: start a full-state reconciliation (optionally a dry run) and print its report;
- ``redrive``: run again every failed deactivation sync (or reconciliation) of a recent window.

Why ``redrive`` starts a new execution instead of calling Step Functions' RedriveExecution: every
failure in these state machines is caught into a ``Fail`` state (so the execution's Error and
Cause name the library's error class and message), and RedriveExecution resumes at the step that
failed, which is that ``Fail`` state. A new execution with the same input is safe to run at any
time: the deactivation sync records its event in the per-user ledger (a repeat is a duplicate)
and applies the newest state, so a redrive can never undo a newer event. It is named after the
original (``<name>-r1``, ``-r2``...): running the command twice starts nothing more while a
redrive is running or has succeeded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from okta_auth0_sync_cli.main import CliError as OperationError

UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")
_REDRIVE = re.compile(r"^(?P<original>.+)-r(?P<n>[0-9]{1,3})$")
MACHINES = {"deactivation": "DeactivationSyncStateMachineArn", "reconciliation": "ReconciliationStateMachineArn"}


def _sfn() -> Any:
    import boto3

    return boto3.client("stepfunctions")


def machine_arn(args: argparse.Namespace, output: str) -> str:
    if getattr(args, "state_machine_arn", None):
        return str(args.state_machine_arn)
    if not args.stack_name:
        raise OperationError("give --stack-name (or --state-machine-arn)")
    from okta_auth0_sync_cli.main import stack_outputs

    arn = stack_outputs(args.stack_name).get(output)
    if not arn:
        raise OperationError(f"stack {args.stack_name} has no {output} output (deployed before this version?)")
    return arn


def cmd_reconcile(args: argparse.Namespace) -> int:
    arn = machine_arn(args, MACHINES["reconciliation"])
    sfn = _sfn()
    name = f"cli-{uuid.uuid4()}"
    started = sfn.start_execution(
        stateMachineArn=arn, name=name, input=json.dumps({"dry_run": args.dry_run, "requested_by": "cli"})
    )
    print(f"started {started['executionArn']}", file=sys.stderr)
    if not args.wait:
        return 0
    described = _wait(sfn, started["executionArn"], args.timeout)
    if described["status"] != "SUCCEEDED":
        print(json.dumps({"status": described["status"], "error": described.get("error")}, indent=2))
        return 1
    report = json.loads(described.get("output") or "{}")
    print(json.dumps({"status": "SUCCEEDED", **report}, indent=2))
    return 0


def _wait(sfn: Any, execution_arn: str, timeout: float) -> dict[str, Any]:
    """Poll until the execution ends: every 0.25 s at first, doubling to every 4 s (a quick run is
    seen at once, a long one costs a call every few seconds)."""
    deadline, interval = time.monotonic() + timeout, 0.25
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise OperationError(f"{execution_arn} still running after {timeout:.0f}s")
        time.sleep(interval)
        interval = min(4.0, interval * 2)


def _executions(sfn: Any, arn: str, since: datetime) -> list[dict[str, Any]]:
    """Every execution of the machine started since ``since`` (newest first, as listed)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"stateMachineArn": arn, "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        for execution in page.get("executions", []):
            if execution["startDate"] >= since:
                found.append(execution)
        token = page.get("nextToken")
        if not token or (page.get("executions") and page["executions"][-1]["startDate"] < since):
            return found
        kwargs["nextToken"] = token


def plan_redrives(executions: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
    """For each original that did not succeed: the name of its next redrive, or None when a redrive
    of it is running or has succeeded (nothing to do). Pure."""
    status = {e["name"]: e["status"] for e in executions}
    redrives: dict[str, list[int]] = {}
    for name in status:
        match = _REDRIVE.match(name)
        if match and match["original"] in status:
            redrives.setdefault(match["original"], []).append(int(match["n"]))
    plans: list[tuple[dict[str, Any], str | None]] = []
    for execution in executions:
        name = execution["name"]
        match = _REDRIVE.match(name)
        if (match and match["original"] in status) or execution["status"] not in UNSUCCESSFUL:
            continue
        done = sorted(redrives.get(name, []))
        if any(status[f"{name}-r{n}"] in ("RUNNING", "SUCCEEDED") for n in done):
            plans.append((execution, None))
            continue
        plans.append((execution, f"{name[:75]}-r{(done[-1] if done else 0) + 1}"))
    return plans


def cmd_redrive(args: argparse.Namespace) -> int:
    arn = machine_arn(args, MACHINES[args.flow])
    sfn = _sfn()
    since = datetime.now(UTC) - timedelta(hours=args.since_hours)
    plans = plan_redrives(_executions(sfn, arn, since))
    started = skipped = failed = 0
    for execution, new_name in plans:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        error = described.get("error") or execution["status"]
        if args.error and error not in args.error:
            continue
        if new_name is None:
            skipped += 1
            print(f"already redriven  {execution['name']}  ({error})")
            continue
        if args.dry_run:
            print(f"would redrive     {execution['name']} as {new_name}  ({error})")
            continue
        try:
            sfn.start_execution(stateMachineArn=arn, name=new_name, input=described.get("input") or "{}")
        except Exception as exc:  # botocore ClientError: one line each, go on with the others
            failed += 1
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            print(f"FAILED to start   {new_name}: {code}")
            continue
        started += 1
        print(f"redriven          {execution['name']} as {new_name}  ({error})")
    print(f"{started} started, {skipped} already redriven, {failed} could not start", file=sys.stderr)
    return 1 if failed else 0


def add_commands(sub: Any, positive: Any) -> None:
    r = sub.add_parser("reconcile", help="start a full-state reconciliation (Okta deactivations vs Auth0 flags)")
    r.add_argument("--stack-name", help="read the state machine's ARN from this stack's outputs")
    r.add_argument("--state-machine-arn", help="the ReconciliationStateMachineArn (instead of --stack-name)")
    r.add_argument("--dry-run", action="store_true", help="report the drift; start nothing, change nothing")
    r.add_argument("--wait", action="store_true", help="wait for the run to end and print its report")
    r.add_argument("--timeout", type=positive, default=3600, help="with --wait: seconds to wait at most")
    r.set_defaults(func=cmd_reconcile)
    d = sub.add_parser("redrive", help="run failed executions again (same input; the ledger keeps it safe)")
    d.add_argument("--stack-name", help="read the state machine's ARN from this stack's outputs")
    d.add_argument("--state-machine-arn", help="the state machine's ARN (instead of --stack-name)")
    d.add_argument("--flow", choices=sorted(MACHINES), default="deactivation", help="which state machine")
    d.add_argument("--since-hours", type=positive, default=24.0, help="executions started this recently (24)")
    d.add_argument("--error", action="append", help="only executions that failed with this error (repeatable)")
    d.add_argument("--dry-run", action="store_true", help="list what would be redriven; start nothing")
    d.set_defaults(func=cmd_redrive)
