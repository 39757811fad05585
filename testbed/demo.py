"""`make demo`: the whole system on the embedded sandbox, in one process.

Sandbox Okta and Auth0 tenants on loopback, the template's stack in moto (the real ASL executed
by moto's Step Functions interpreter, Lambda tasks routed to our handlers), and a local HTTP API
in front of the event hook receiver. Prints what happens, step by step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import sandbox.runner
from okta_auth0_sync import counters
from testbed.apigateway import LocalHttpApi
from testbed.deployment import LocalDeployment
from testbed.template import ROOT

HOOK_SECRET = "demo-event-hook-secret-" + os.urandom(8).hex()
ADA = "00uZPx7YubxGT9rKLiKE"
GRACE = "00uieg27N0mAaWp92N5J"
ACTION = ROOT / "auth0/actions/deny-deactivated"


# The functions' own output (structured JSON logs, EMF metrics) is what CloudWatch Logs would
# get; the demo prints its narrative on the real stdout and sends the functions' output away.
_OUT = sys.stdout


def say(text: str = "", indent: int = 0) -> None:
    print(" " * indent + text, file=_OUT, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text} " + "=" * max(0, 76 - len(text)))


def calls_line() -> str:
    tally = counters.api_calls.by_tenant()
    return (f"API calls: Okta {tally.get('okta', 0)}, Auth0 {tally.get('auth0', 0)}; "
            f"tokens minted: Okta {counters.tokens_minted.total('okta')}, "
            f"Auth0 {counters.tokens_minted.total('auth0')}")


def action_decision(user: dict[str, Any]) -> dict[str, Any] | None:
    """Run the real Auth0 Action (Node.js) against this Auth0 user."""
    node = shutil.which("node")
    if node is None:
        return None
    result = subprocess.run([node, str(ACTION / "tools/simulate-login.js")],  # noqa: S603 - our own script
                            input=json.dumps({"user": user}), capture_output=True, text=True, timeout=30, check=True)
    return json.loads(result.stdout)


def show_action(sb, user_id: str) -> None:
    decision = action_decision(sb.auth0.get_user(user_id))
    if decision is None:
        say("(Node.js not found: Action not run)", 6)
    elif decision["denied"]:
        say(f"Auth0 Action for {user_id}: login DENIED ({decision['message']})", 6)
    else:
        say(f"Auth0 Action for {user_id}: login allowed", 6)


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("demo step did not finish in time")
        time.sleep(0.05)


def identity_lookup(stack: LocalDeployment) -> None:
    heading("1. Thin flow: token -> Okta user -> Auth0 users by email")
    for attempt in (1, 2):
        run = stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})
        found = run.output
        say(f"execution {attempt}: {run.status}, {run.transitions} state transitions", 2)
        say(f"Okta user {found['okta_user']['id']} <{found['okta_user']['email']}> {found['okta_user']['status']}", 4)
        for user in found["auth0_users"]:
            say(f"Auth0 user {user['user_id']} (connections: {', '.join(user['connections'])})", 4)
        say(calls_line(), 4)
    say("The second execution reused the cached Auth0 and Okta tokens: nothing was minted again.", 2)


def deactivation_sync(sb, stack: LocalDeployment, api: LocalHttpApi) -> None:
    heading("2. Deactivation sync: Okta event hook -> flag in Auth0 -> Action denies login")
    hook = sb.okta.register_event_hook(f"{api.url}/okta/event-hook",
                                       ["user.lifecycle.deactivate", "user.lifecycle.reactivate"], HOOK_SECRET)
    say(f"Event hook registered in Okta: {hook.url} -> verification {hook.verification_status}", 2)
    second = sb.auth0.add_user(connection="okta-workforce", email="grace.hopper+ops@acme.example",
                               app_metadata={"plan": "gold"})
    accounts = [u["user_id"] for u in sb.auth0.users_by_email("grace.hopper+ops@acme.example")]
    say(f"Grace has {len(accounts)} Auth0 accounts: {', '.join(accounts)}", 2)
    for user_id in accounts:
        show_action(sb, user_id)

    for step, operation in (("deactivates", sb.okta.deactivate_user), ("reactivates", sb.okta.activate_user)):
        before = len(stack.executions("DeactivationSyncStateMachine"))
        counters.api_calls.reset()
        say(f"An Okta admin {step} Grace ({GRACE}).", 2)
        operation(GRACE)
        (delivery,) = sb.okta.flush_event_hooks()
        say(f"Okta delivered event {delivery.event_uuids[0]} -> HTTP {delivery.attempts[-1].status}", 4)
        wait_for(lambda b=before: len(stack.executions("DeactivationSyncStateMachine")) > b)
        run = stack.wait_all("DeactivationSyncStateMachine")[delivery.event_uuids[0]]
        say(f"execution {run.name}: {run.status} ({run.transitions} transitions)", 4)
        for result in run.output["results"]:
            say(f"{result['user_id']}: {result['outcome']}", 6)
        say(calls_line(), 4)
        for user_id in accounts:
            record = sb.auth0.get_user(user_id)["app_metadata"].get("okta_sync", {})
            say(f"{user_id}: app_metadata.okta_sync.deactivated = {record.get('deactivated')}", 6)
        for user_id in accounts:
            show_action(sb, user_id)
    other = sb.auth0.get_user(second["user_id"])["app_metadata"]
    say(f"Other metadata survived the round trip: app_metadata.plan = {other.get('plan')!r}", 2)

    say("Okta redelivers the same event (at-least-once):", 2)
    sb.okta.hooks.duplicate = True
    sb.okta.deactivate_user(GRACE)
    deliveries = sb.okta.flush_event_hooks()
    names = {d.event_uuids[0] for d in deliveries}
    wait_for(lambda: all(e["status"] != "RUNNING" for e in stack.executions("DeactivationSyncStateMachine")))
    started = [e for e in stack.executions("DeactivationSyncStateMachine") if e["name"] in names]
    say(f"{len(deliveries)} deliveries of event {names.pop()} -> {len(started)} execution", 4)


def main() -> int:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the functions' log stream for the whole run
    say("okta-auth0-sync demo: sandbox Okta and Auth0 on loopback, the SAM template's stack in moto,")
    say("the real state machine definitions, our Lambda handlers in-process.")
    with sandbox.runner.start() as sb:
        creds = sandbox.runner.provision_credentials(sb)
        say(f"Sandbox Okta  {sb.okta.base_url}  ({sb.okta.domain})")
        say(f"Sandbox Auth0 {sb.auth0.base_url}  ({sb.auth0.domain})")
        secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta,
                   "EventHookSecret": {"current": HOOK_SECRET, "previous": ""}}
        with LocalDeployment(secrets, parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain}
                             ) as stack, LocalHttpApi(stack) as api:
            counters.api_calls.reset()
            counters.tokens_minted.reset()
            identity_lookup(stack)
            deactivation_sync(sb, stack, api)
    say()
    say("Done. `make test` proves all of this (and more) in CI.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
