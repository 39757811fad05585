"""Deactivation sync: time to effect, and what each event costs.

    python -m bench deactivation [--events 100] [--plan enterprise|professional]

N people, each with two Auth0 accounts (a database one and an enterprise one whose email keeps
the IdP's letter case), each account logged in with a live session and refresh token. One by
one, each person is deactivated in the sandbox Okta, which delivers the event hook over HTTP to
the local API Gateway; the receiver starts the real state machine in moto.

Time to effect: from Okta's delivery to the last Auth0 write for that person (the block, then
the revocation of every account's sessions and refresh tokens), read from the sandbox Auth0's
request log. Every account is then checked: blocked, flagged, its refresh token dead.

Cost, the way AWS bills it: every state entered (Standard workflows, $0.025 per 1,000
transitions), every Lambda request ($0.20 per million) and GB-second (arm64, $0.0000133334), with
the durations measured here (Python 3.11 in-process, so indicative only; no cold starts).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench import PRICE, functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.apigateway import LocalHttpApi
from okta_auth0_sync_testbed.deployment import LocalDeployment

HOOK_SECRET = "bench-hook-secret-0123456789abcdef0123"
EVENT_TYPES = ["user.lifecycle.deactivate", "user.lifecycle.activate", "user.lifecycle.reactivate"]
MACHINE = "DeactivationSyncStateMachine"


def people(sb, count: int) -> list[dict]:
    out = []
    for n in range(count):
        email = f"bench.person{n}@Acme.example"
        okta = sb.okta.add_user(
            {"login": email.lower(), "email": email.lower(), "firstName": "Bench", "lastName": str(n)}
        )
        accounts = [
            sb.auth0.add_user(connection="Username-Password-Authentication", email=email.lower())["user_id"],
            sb.auth0.add_user(connection="okta-workforce", email=email)["user_id"],
        ]
        out.append({"okta_id": okta["id"], "accounts": accounts, "logins": [sb.auth0.login(a) for a in accounts]})
    return out


def effect_time(sb, accounts: list[str], since: float) -> float:
    writes = [
        c.time
        for c in sb.auth0.calls.all()
        if c.time >= since and c.method in ("PATCH", "DELETE") and any(a in c.path for a in accounts)
    ]
    return max(writes)


def check(sb, person: dict) -> None:
    for account, login in zip(person["accounts"], person["logins"], strict=True):
        user = sb.auth0.get_user(account)
        assert user["blocked"] and user["app_metadata"]["okta_sync"]["deactivated"] is True, account
        assert not sb.auth0.refresh_token_active(login["refresh_token"]), account


def run(events: int, plan: str) -> dict:
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        sb.auth0.set_plan(plan)
        secrets = {
            "Auth0ConnectionSecret": creds.auth0,
            "OktaConnectionSecret": creds.okta,
            "EventHookSecret": {"current": HOOK_SECRET, "previous": ""},
        }
        with (
            LocalDeployment(
                secrets, parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain}
            ) as stack,
            LocalHttpApi(stack) as api,
        ):
            sb.okta.register_event_hook(f"{api.url}/okta/event-hook", EVENT_TYPES, HOOK_SECRET)
            crowd = people(sb, events)
            counters.api_calls.reset()
            counters.tokens_minted.reset()
            stack.invocations.clear()
            latencies, transitions = [], 0
            for person in crowd:
                sb.okta.deactivate_user(person["okta_id"])
                delivered = time.time()
                (delivery,) = sb.okta.flush_event_hooks()
                execution = stack.execution_arn(MACHINE, delivery.event_uuids[0])
                run_ = stack.wait(execution)
                assert run_.status == "SUCCEEDED", run_.cause
                transitions += run_.transitions
                latencies.append(effect_time(sb, person["accounts"], delivered) - delivered)
                check(sb, person)
            return summarise(stack, events, latencies, transitions)


def summarise(stack: LocalDeployment, events: int, latencies: list[float], transitions: int) -> dict:
    memory = {
        fid: int(stack.template.function(fid).get("MemorySize", 128)) for fid in {i.function for i in stack.invocations}
    }
    gb_seconds = sum(i.duration * memory[i.function] / 1024 for i in stack.invocations)
    requests = len(stack.invocations)
    cost = transitions * PRICE["transition"] + requests * PRICE["request"] + gb_seconds * PRICE["gb_second"]
    ordered = sorted(latencies)
    return {
        "events": events,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
        "calls": counters.api_calls.by_tenant(),
        "by_route": counters.api_calls.by_route(),
        "tokens": {t: counters.tokens_minted.total(t) for t in ("okta", "auth0")},
        "transitions": transitions,
        "lambda_requests": requests,
        "gb_seconds": gb_seconds,
        "cost_per_1000": cost / events * 1000,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench deactivation")
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--plan", default="enterprise", choices=["enterprise", "professional"])
    args = parser.parse_args(argv)
    with functions_output_discarded():
        r = run(args.events, args.plan)
    n = r["events"]
    print(f"Deactivation sync, {n} people x 2 Auth0 accounts, each logged in ({args.plan} plan)")
    print(
        f"  time to effect (Okta delivery -> last account blocked and revoked): p50 {r['p50_ms']:.0f} ms, "
        f"p99 {r['p99_ms']:.0f} ms (local moto and sandbox: no network, no cold starts)"
    )
    calls = r["calls"]
    print(
        f"  API calls per event: Okta {calls.get('okta', 0) / n:.2f}, Auth0 {calls.get('auth0', 0) / n:.2f}; "
        f"tokens minted for all {n}: Okta {r['tokens']['okta']}, Auth0 {r['tokens']['auth0']}"
    )
    for route, count in r["by_route"].items():
        print(f"      {count / n:6.2f}  {route}")
    print(
        f"  per event: {r['transitions'] / n:.1f} state transitions, {r['lambda_requests'] / n:.1f} Lambda "
        f"requests, {r['gb_seconds'] / n * 1000:.1f} ms GB; ${r['cost_per_1000']:.4f} per 1,000 events"
    )
    return r


if __name__ == "__main__":
    main()
