"""`make demo`: the whole system on the embedded sandbox, in one process.

Sandbox Okta and Auth0 tenants on loopback, the template's stack in moto (the real ASL executed
by moto's Step Functions interpreter, Lambda tasks routed to our handlers), and a local HTTP API
in front of the event hook receiver. Prints what happens, step by step.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import requests

from okta_auth0_sync.base import counters
from okta_auth0_sync.settings import OktaConnection
from okta_auth0_sync_cli.client import InvokeApiClient
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.apigateway import LocalHttpApi, LocalRestApi
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.template import ROOT

HOOK_SECRET = "demo-event-hook-secret-" + os.urandom(8).hex()
ADA = "00uZPx7YubxGT9rKLiKE"
GRACE = "00uieg27N0mAaWp92N5J"
ACTION = ROOT / "auth0/actions/deny-deactivated"
PARTNER_ROLE, PARTNERS_GROUP = "rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB"
AUTH_SERVER = "aus7gqIzvk6Dnq4hJmNN"
PORTAL_SPA = "LztDVY9R212AykDbFmfI0uh5j3jHT1Bk"  # the sandbox Auth0's public client


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
    return (
        f"API calls: Okta {tally.get('okta', 0)}, Auth0 {tally.get('auth0', 0)}; "
        f"tokens minted: Okta {counters.tokens_minted.total('okta')}, "
        f"Auth0 {counters.tokens_minted.total('auth0')}"
    )


def action_decision(user: dict[str, Any]) -> dict[str, Any] | None:
    """Run the real Auth0 Action (Node.js) against this Auth0 user."""
    node = shutil.which("node")
    if node is None:
        return None
    result = subprocess.run(  # noqa: S603 - our own script
        [node, str(ACTION / "tools/simulate-login.js")],
        input=json.dumps({"user": user}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
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


def refresh_grant(sb, refresh_token: str) -> str:
    """What Grace's app does with its refresh token: exchange it at Auth0's /oauth/token."""
    answer = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        timeout=10,
        data={"grant_type": "refresh_token", "client_id": PORTAL_SPA, "refresh_token": refresh_token},
    )
    return f"HTTP {answer.status_code}" + (f" {answer.json().get('error')}" if answer.status_code >= 400 else "")


def show_access(sb, login: dict[str, Any]) -> None:
    say(
        f"session live: {sb.auth0.session_active(login['session_id'])}; refresh token live: "
        f"{sb.auth0.refresh_token_active(login['refresh_token'])}; the app refreshes -> "
        f"{refresh_grant(sb, login['refresh_token'])}",
        6,
    )


def deactivation_sync(sb, stack: LocalDeployment, api: LocalHttpApi) -> None:
    heading("2. Deactivation sync: Okta event hook -> block, flag, revoke in Auth0")
    hook = sb.okta.register_event_hook(
        f"{api.url}/okta/event-hook", ["user.lifecycle.deactivate", "user.lifecycle.reactivate"], HOOK_SECRET
    )
    say(f"Event hook registered in Okta: {hook.url} -> verification {hook.verification_status}", 2)
    second = sb.auth0.add_user(
        connection="okta-workforce", email="Grace.Hopper+ops@Acme.example", app_metadata={"plan": "gold"}
    )
    accounts = [u["user_id"] for u in sb.auth0.users_by_email("grace.hopper+ops@acme.example")] + [second["user_id"]]
    say(f"Grace has {len(accounts)} Auth0 accounts (one keeps her IdP's letter case): {', '.join(accounts)}", 2)
    login = sb.auth0.login(accounts[0])
    say(f"Grace is logged in to the portal on {accounts[0]}:", 2)
    show_access(sb, login)
    for user_id in accounts:
        show_action(sb, user_id)

    for step, operation in (("deactivates", sb.okta.deactivate_user), ("reactivates", sb.okta.activate_user)):
        counters.api_calls.reset()
        say(f"An Okta admin {step} Grace ({GRACE}).", 2)
        operation(GRACE)
        (delivery,) = sb.okta.flush_event_hooks()
        say(f"Okta delivered event {delivery.event_uuids[0]} -> HTTP {delivery.attempts[-1].status}", 4)
        run = stack.wait(stack.execution_arn("DeactivationSyncStateMachine", delivery.event_uuids[0]))
        say(f"execution {run.name}: {run.status} ({run.transitions} transitions)", 4)
        for result in run.output["results"]:
            access = result.get("access")
            say(f"{result['user_id']}: {result['outcome']}" + (f", access {access}" if access else ""), 6)
        say(calls_line(), 4)
        for user_id in accounts:
            user = sb.auth0.get_user(user_id)
            say(
                f"{user_id}: blocked = {user['blocked']}, app_metadata.okta_sync.deactivated = "
                f"{user['app_metadata'].get('okta_sync', {}).get('deactivated')}",
                6,
            )
        show_access(sb, login)
        for user_id in accounts:
            show_action(sb, user_id)
    other = sb.auth0.get_user(second["user_id"])["app_metadata"]
    say(f"Other metadata survived the round trip: app_metadata.plan = {other.get('plan')!r}", 2)
    say("Reactivation unblocked Grace but restored nothing revoked: she signs in again for a new session.", 2)

    say("Okta redelivers the same event (at-least-once):", 2)
    sb.okta.hooks.duplicate = True
    sb.okta.deactivate_user(GRACE)
    deliveries = sb.okta.flush_event_hooks()
    names = {d.event_uuids[0] for d in deliveries}
    wait_for(lambda: all(e["status"] != "RUNNING" for e in stack.executions("DeactivationSyncStateMachine")))
    started = [e for e in stack.executions("DeactivationSyncStateMachine") if e["name"] in names]
    say(f"{len(deliveries)} deliveries of event {names.pop()} -> {len(started)} execution", 4)
    sb.okta.hooks.duplicate = False


def concurrent_delivery(sb, stack: LocalDeployment) -> None:
    heading("3. Concurrent events for one person converge on the newest")
    sb.okta.hooks.batch_size = 10  # Okta batches events that happen close together
    for operation in (sb.okta.deactivate_user, sb.okta.activate_user, sb.okta.deactivate_user):
        operation(ADA)
        time.sleep(0.002)  # distinct published times
    (delivery,) = sb.okta.flush_event_hooks()
    say(
        f"An admin deactivates, reactivates and deactivates Ada within milliseconds: Okta delivers the three "
        f"events in one delivery -> HTTP {delivery.attempts[-1].status}; three executions run at once.",
        2,
    )
    runs = [stack.wait(stack.execution_arn("DeactivationSyncStateMachine", name)) for name in delivery.event_uuids]
    for event, run in zip(sb.okta.log_events()[-3:], runs, strict=True):
        say(
            f"{event['eventType']:<27} {event['published']}: {run.status}, recorded "
            f"{run.output['recorded']}, applied {run.output['applied']['event_type']}",
            4,
        )
    for user_id in ("auth0|5df05339f1861a9587ec7a5a", "okta|okta-workforce|00uZPx7YubxGT9rKLiKE"):
        user = sb.auth0.get_user(user_id)
        say(
            f"{user_id} <{user['email']}>: blocked = {user['blocked']}, deactivated = "
            f"{user['app_metadata']['okta_sync']['deactivated']}",
            4,
        )
    say("Both of Ada's accounts agree, in the state of the newest event, whatever order the executions ran in.", 2)
    sb.okta.hooks.batch_size = 1


def show_report(report: dict) -> None:
    say(
        f"role {report['role_id']} -> group {report['group_id']}{' (dry run)' if report['dry_run'] else ''}: "
        f"{report['members']} members",
        4,
    )
    say("outcomes: " + ", ".join(f"{k} {v}" for k, v in report["counts"].items()), 6)
    for failure in report["failed_members"]:
        say(f"failed {failure['user_id']}: {failure['reason'][:90]}", 6)
    calls = report["api_calls"]
    say(
        f"API calls: Okta {calls.get('okta', 0)}, Auth0 {calls.get('auth0', 0)} "
        f"(per member: Okta {report['api_calls_per_member'].get('okta', 0)}, "
        f"Auth0 {report['api_calls_per_member'].get('auth0', 0)}); 429s: {report['rate_limited_responses'] or 0}; "
        f"tokens minted: {report['tokens_minted']}; {report['duration_seconds']} s",
        6,
    )


def provisioning(sb, stack: LocalDeployment) -> None:
    heading("4. Scheduled provisioning: Auth0 role -> Okta group")
    sb.auth0.bulk_add_users(
        244,
        role_id=PARTNER_ROLE,
        email_template="partner{n}@partner.example",
        user_metadata={"firstName": "Partner", "lastName": "Demo"},
    )
    say(
        f"The Auth0 'Partner' role now has {len(sb.auth0.role_member_ids(PARTNER_ROLE))} members "
        "(more than two pages of 100).",
        2,
    )
    say("The nightly schedule fires (EventBridge Scheduler -> state machine, one execution per mapping):", 2)
    fan_out = stack.wait(stack.fire_schedule("ProvisioningStateMachine", "Nightly"))
    say(f"fan-out {fan_out.name}: {fan_out.status}, started {[r['execution'] for r in fan_out.output['runs']]}", 4)
    runs = [r for r in stack.wait_all("ProvisioningStateMachine", timeout=600).values() if "report" in (r.output or {})]
    for run in runs:
        say(f"execution {run.name}: {run.status}", 2)
        show_report(run.output["report"])
    members = len(sb.okta.group_member_ids(PARTNERS_GROUP))
    say(f"Okta group 'Auth0 Partners' now has {members} members.", 2)
    counters.api_calls.reset()
    again = stack.execute("ProvisioningStateMachine", {"role_id": PARTNER_ROLE, "group_id": PARTNERS_GROUP})
    say("The same run again, nothing changed:", 2)
    show_report(again.output["report"])


def on_demand(sb, stack: LocalDeployment, api: LocalRestApi) -> None:
    heading("5. On demand, through the OAuth 2.0-secured invoke API")
    app = sb.okta.register_as_client(AUTH_SERVER, name="ops-cli", scopes=["sync.provision", "sync.users", "sync.read"])
    key = sb.okta.register_app_key(app.client_id, auth_server=AUTH_SERVER, alg="ES256")
    say(
        f"An operator app {app.client_id} on the Okta custom authorization server {AUTH_SERVER}, ES256 key "
        f"{key.kid}; the API is {api.url}",
        2,
    )
    caller = OktaConnection.from_secret(
        {
            "domain": sb.okta.domain,
            "base_url": sb.okta.base_url,
            "client_id": app.client_id,
            "private_key": key.private_key_pem,
            "key_id": key.kid,
            "scopes": ["sync.provision", "sync.users", "sync.read"],
            "authorization_server": AUTH_SERVER,
        }
    )
    client = InvokeApiClient(api.url, caller)
    started = client.start_provisioning(PARTNER_ROLE, PARTNERS_GROUP, dry_run=True)
    say(f"POST /provisioning/runs (dry run) -> 202 {started['execution_id']}", 2)
    final = client.wait(started["execution_id"], interval=0.2, timeout=300)
    say(f"GET {started['status_url']} -> {final['status']}", 2)
    show_report(final["result"]["report"])
    sb.okta.lifecycle("00uqJAREw79CC9u20SU4", "unsuspend")  # Alan: suspended in the fixture
    sb.auth0.add_user(
        email="alan.turing@acme.example",
        given_name="Alan",
        family_name="Turing",
        app_metadata={"okta_sync": {"deactivated": True, "published": "2024-01-01T00:00:00.000Z"}},
    )
    started = client.sync_user("00uqJAREw79CC9u20SU4")
    final = client.wait(started["execution_id"], interval=0.2, timeout=300)
    outcome = ", ".join(f"{r['user_id']} {r['outcome']}" for r in final["result"]["results"])
    say(f"POST /users/00uqJAREw79CC9u20SU4/sync (Alan, active again in Okta) -> {final['status']}: {outcome}", 2)
    no_scope = requests.post(f"{api.url}/provisioning/runs", json={}, timeout=10)
    say(f"Without a token: HTTP {no_scope.status_code}, WWW-Authenticate: {no_scope.headers['WWW-Authenticate']}", 2)
    reader = sb.okta.register_as_client(AUTH_SERVER, name="reader", scopes=["sync.read"])
    reader_key = sb.okta.register_app_key(reader.client_id, auth_server=AUTH_SERVER)
    reader_client = InvokeApiClient(
        api.url,
        OktaConnection.from_secret(
            {
                "domain": sb.okta.domain,
                "base_url": sb.okta.base_url,
                "client_id": reader.client_id,
                "private_key": reader_key.private_key_pem,
                "key_id": reader_key.kid,
                "scopes": ["sync.read"],
                "authorization_server": AUTH_SERVER,
            }
        ),
    )
    denied = requests.post(
        f"{api.url}/provisioning/runs",
        json={"role_id": PARTNER_ROLE, "group_id": PARTNERS_GROUP},
        headers={"Authorization": f"Bearer {reader_client.tokens.current().value}"},
        timeout=10,
    )
    say(
        f"With a sync.read-only token: HTTP {denied.status_code}, WWW-Authenticate: "
        f"{denied.headers['WWW-Authenticate']}",
        2,
    )


def auth0_to_okta(sb, stack: LocalDeployment) -> None:
    """The Auth0 log stream: a partner assigned to the role in Auth0 appears in the Okta group
    within seconds, and a block in Auth0 suspends them in Okta."""
    from okta_auth0_sync_testbed.eventbridge import LogStream

    heading("Auth0 -> Okta in seconds: the Auth0 log stream (EventBridge)")
    scopes = ("read:users", "update:users", "read:roles", "create:role_members")
    client = sb.auth0.register_client(name="acme-admin", management_scopes=scopes)
    secret = sb.auth0.register_client_secret(client.client_id)
    token = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret,
              "audience": sb.auth0.management_audience},
        timeout=10,
    ).json()["access_token"]  # fmt: skip
    admin = {"Authorization": f"Bearer {token}"}
    partner = sb.auth0.add_user(
        email="lina.park@partner.example", given_name="Lina", family_name="Park", email_verified=True
    )["user_id"]
    stream = LogStream(stack, sb.auth0)  # every Auth0 log, as the EventBridge event the stream delivers
    try:
        say(f"An Auth0 admin (M2M app 'acme-admin') assigns {partner} to the Partner role:")
        started = time.time()
        requests.post(
            f"{sb.auth0.base_url}/api/v2/roles/{PARTNER_ROLE}/users",
            json={"users": [partner]},
            headers=admin,
            timeout=10,
        ).raise_for_status()
        log = sb.auth0.tenant_logs.all()[-1]
        say(f"Auth0 logs it: type {log['type']}, {log['details']['request']['method'].upper()} "
            f"{log['details']['request']['path']}, client_id {log['client_id']}", 2)  # fmt: skip

        def in_group() -> bool:
            user = sb.okta.get_user("lina.park@partner.example")
            return user is not None and user["id"] in sb.okta.group_member_ids(PARTNERS_GROUP)

        stream.pump()  # EventBridge delivers it to the stack's rules
        wait_for(in_group)
        okta_user = sb.okta.get_user("lina.park@partner.example")
        elapsed = time.time() - started
        say(f"{elapsed:.2f} s later: Okta user {okta_user['id']} ({okta_user['status']}) is in the Partners group", 2)
        say(f"(created by the provisioning worker; the execution is named after log {log['log_id'][:16]}...)", 2)
        say("The admin blocks her in Auth0:")
        started = time.time()
        requests.patch(
            f"{sb.auth0.base_url}/api/v2/users/{partner}", json={"blocked": True}, headers=admin, timeout=10
        ).raise_for_status()
        stream.pump()
        wait_for(lambda: sb.okta.get_user(okta_user["id"])["status"] == "SUSPENDED")
        say(f"{time.time() - started:.2f} s later: the Okta user is SUSPENDED (only users this package created)", 2)
    finally:
        stream.close()
    stack.wait_all("Auth0LifecycleStateMachine")
    say(calls_line(), 2)


def main() -> int:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # the ASL interpreter's own chatter
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the functions' log stream for the whole run
    from okta_auth0_sync.base.logs import logger

    logger.registered_handler.setStream(sys.stdout)  # bound to the real stdout when it was imported
    say("okta-auth0-sync demo: sandbox Okta and Auth0 on loopback, the SAM template's stack in moto,")
    say("the real state machine definitions, our Lambda handlers in-process.")
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        say(f"Sandbox Okta  {sb.okta.base_url}  ({sb.okta.domain})")
        say(f"Sandbox Auth0 {sb.auth0.base_url}  ({sb.auth0.domain})")
        secrets = {
            "Auth0ConnectionSecret": creds.auth0,
            "OktaConnectionSecret": creds.okta,
            "EventHookSecret": {"current": HOOK_SECRET, "previous": ""},
        }
        parameters = {
            "OktaDomain": sb.okta.domain,
            "Auth0Domain": sb.auth0.domain,
            "Auth0RoleId": PARTNER_ROLE,
            "OktaGroupId": PARTNERS_GROUP,
            "ApiIssuer": f"{sb.okta.base_url}/oauth2/{AUTH_SERVER}",
            "Auth0LogEventSource": sb.auth0.tenant_logs.partner_source,
        }
        with (
            LocalDeployment(secrets, parameters=parameters) as stack,
            LocalHttpApi(stack) as hook_api,
            LocalRestApi(stack, "InvokeApi") as invoke_api,
        ):
            counters.api_calls.reset()
            counters.tokens_minted.reset()
            identity_lookup(stack)
            deactivation_sync(sb, stack, hook_api)
            concurrent_delivery(sb, stack)
            provisioning(sb, stack)
            auth0_to_okta(sb, stack)
            on_demand(sb, stack, invoke_api)
    say()
    say("Done. `make test` proves all of this (and more) in CI.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
