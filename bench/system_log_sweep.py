"""The System Log sweep after an event hook outage: N lifecycle events lost by the hook, then one
sweep. Prints System Log requests, executions started, the sweep's time, and what the next sweep
and a full re-read (checkpoint reset) cost.

    python -m bench system_log_sweep [--events 2000] [--page-size 1000]

The sandbox Okta emits the events (N users seeded, each then deactivated), with the System Log
bucket at 60 requests a minute (Workforce's 120, the app's 50% share). The sweep runs the real
handler in the template's stack in moto; its executions start a state machine that succeeds at
once, so the figure is the sweep's own cost (the deactivation sync's: `python -m bench deactivation`).
"""

from __future__ import annotations

import argparse
import json
import time

from bench import functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync.store.checkpoints import CheckpointStore
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment

NOOP = "bench-sweep-target"


def sweep(stack: LocalDeployment) -> tuple[dict, float, int]:
    counters.api_calls.reset()
    started = time.perf_counter()
    report = stack.invoke("SystemLogSweepFunction", {})
    return report, time.perf_counter() - started, counters.api_calls.total("okta", route="/api/v1/logs")


def run(events: int, page_size: int) -> dict:
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        sb.okta.set_rate_limit("logs", 60, 60.0)
        users = sb.okta.bulk_add_users(events)
        for user in users:
            sb.okta.deactivate_user(user)
        secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta}
        arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:{NOOP}"
        env = {"DEACTIVATION_STATE_MACHINE_ARN": arn, "SYSTEM_LOG_PAGE_SIZE": str(page_size)}
        parameters = {"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain}
        with LocalDeployment(secrets, parameters=parameters, env=env) as stack:
            definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
            stack.client("stepfunctions").create_state_machine(
                name=NOOP, definition=definition, roleArn="arn:aws:iam::123456789012:role/bench"
            )
            first, first_seconds, first_requests = sweep(stack)
            _, next_seconds, next_requests = sweep(stack)
            CheckpointStore(stack.ref("CheckpointTable"), client=stack.client("dynamodb")).reset("okta-system-log")
            replay, replay_seconds, replay_requests = sweep(stack)
            return {
                "events": first["read"],
                "first": (first, first_seconds, first_requests),
                "next": (next_seconds, next_requests),
                "replay": (replay, replay_seconds, replay_requests),
            }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench system_log_sweep")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)
    with functions_output_discarded():
        figures = run(args.events, args.page_size)
    first, seconds, requests = figures["first"]
    print(f"System Log sweep after a hook outage: {figures['events']} lifecycle events lost by the hook")
    print(
        f"  first sweep:   {requests} System Log requests (page size {args.page_size}), "
        f"{first['started']} executions started, {first['checkpoint_version']} checkpoint writes, "
        f"{seconds:.2f} s ({1000 * seconds / max(1, first['read']):.2f} ms per event), stopped {first['stopped']}"
    )
    next_seconds, next_requests = figures["next"]
    print(f"  next sweep:    {next_requests} System Log request, nothing read, {next_seconds:.2f} s")
    replay, replay_seconds, replay_requests = figures["replay"]
    print(
        f"  full re-read:  {replay_requests} requests, {replay['already_done']} already done, "
        f"{replay['started']} started, {replay_seconds:.2f} s"
    )
