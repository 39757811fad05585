"""Auth0 -> Okta: time to effect from an Auth0 log to the Okta change, and what each event costs.

    python -m bench auth0_lifecycle [--events 100]

N partners, each assigned to the mapped role by an operator's M2M application through the sandbox
Auth0 Management API, then blocked. Each write is logged by the sandbox (``sapi``), carried as the
log stream's EventBridge event, matched by the template's rules (moto's pattern matcher), received
by ``Auth0LogEventsFunction``, and run through the real ``Auth0Lifecycle`` state machine.

Time to effect: from the Auth0 write's response (the log exists) to the Okta write that is the
effect (the create with ``groupIds``; the suspend), read from the sandbox Okta's request log. Not
included: Auth0's own delay from the write to the stream's delivery to EventBridge (Auth0 does not
promise one; seconds in practice), and Lambda cold starts.
"""

from __future__ import annotations

import argparse
import time

import requests

from bench import functions_output_discarded
from bench.deactivation import summarise  # time to effect, calls, tokens, transitions, cost: one way
from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.eventbridge import LogStream

MACHINE = "Auth0LifecycleStateMachine"
ROLE, GROUP = "rol_rRVnAbarjZsuC2Xn", "00gU18bXbD9XEKxR56aB"


def admin_session(sb) -> requests.Session:
    scopes = ("read:users", "update:users", "read:roles", "create:role_members", "delete:role_members")
    client = sb.auth0.register_client(name="bench-admin", management_scopes=scopes)
    secret = sb.auth0.register_client_secret(client.client_id)
    token = requests.post(
        f"{sb.auth0.base_url}/oauth/token",
        json={"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": secret,
              "audience": sb.auth0.management_audience},
        timeout=10,
    ).json()["access_token"]  # fmt: skip
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def okta_write_after(sb, since: float, route: str) -> float:
    return max(c.time for c in sb.okta.calls.all() if c.time >= since and c.method == "POST" and c.route == route)


def one(sb, stack, stream, session, method, path, body, route) -> tuple[float, int]:
    start = time.time()
    response = session.request(method, f"{sb.auth0.base_url}/api/v2{path}", json=body, timeout=10)
    assert response.ok, response.text
    written = time.time()
    stream.pump()
    log_id = stream.events[-1]["detail"]["log_id"]
    run = stack.wait(stack.execution_arn(MACHINE, log_id))
    assert run.status == "SUCCEEDED", (run.error, run.cause_message)
    return okta_write_after(sb, start, route) - written, run.transitions


def run(events: int) -> dict:
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta,
                   "EventHookSecret": {"current": "x" * 40, "previous": ""}}  # fmt: skip
        parameters = {"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain, "Auth0RoleId": ROLE,
                      "OktaGroupId": GROUP, "Auth0LogEventSource": sb.auth0.tenant_logs.partner_source}  # fmt: skip
        with LocalDeployment(secrets, parameters=parameters) as stack:
            stream = LogStream(stack, sb.auth0)
            session = admin_session(sb)
            users = [
                sb.auth0.add_user(email=f"bench.partner{n}@partner.example", given_name="Bench",
                                  family_name=f"Partner{n}", email_verified=True)["user_id"]
                for n in range(events)
            ]  # fmt: skip
            results = {}
            for phase, method, body, path, route in (
                ("assigned -> provisioned", "POST", lambda u: {"users": [u]}, lambda u: f"/roles/{ROLE}/users",
                 "/api/v1/users"),
                ("blocked -> suspended", "PATCH", lambda u: {"blocked": True}, lambda u: f"/users/{u}",
                 "/api/v1/users/{id}/lifecycle/{op}"),
            ):  # fmt: skip
                counters.api_calls.reset()
                counters.tokens_minted.reset()
                stack.invocations.clear()
                latencies, transitions = [], 0
                for user in users:
                    latency, steps = one(sb, stack, stream, session, method, path(user), body(user), route)
                    latencies.append(latency)
                    transitions += steps
                results[phase] = summarise(stack, events, latencies, transitions)
            members = set(sb.okta.group_member_ids(GROUP))
            suspended = [u for u in sb.okta.users() if u["profile"]["login"].startswith("bench.partner")]
            assert len(suspended) == events and all(u["status"] == "SUSPENDED" for u in suspended)
            assert all(u["id"] in members for u in suspended)
            stream.close()
            return results


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench auth0_lifecycle")
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args(argv)
    with functions_output_discarded():
        results = run(args.events)
    print(f"Auth0 -> Okta from the Auth0 log stream, {args.events} partners (assigned to the role, then blocked)")
    for phase, r in results.items():
        n = r["events"]
        calls = r["calls"]
        print(
            f"  {phase}: time to effect p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; per event Okta "
            f"{calls.get('okta', 0) / n:.2f} and Auth0 {calls.get('auth0', 0) / n:.2f} calls, "
            f"{r['transitions'] / n:.1f} state transitions, {r['lambda_requests'] / n:.1f} Lambda requests; "
            f"${r['cost_per_1000']:.4f} per 1,000 events; tokens minted Okta {r['tokens']['okta']}, "
            f"Auth0 {r['tokens']['auth0']}"
        )
        for route, count in r["by_route"].items():
            print(f"      {count / n:6.2f}  {route}")
    return results


if __name__ == "__main__":
    main()
