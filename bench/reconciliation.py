"""Full-state reconciliation at scale: calls, time and cost of one run, and of fixing its drift.

    python -m bench reconciliation [--users 10000] [--deactivated 0.3] [--drift 0.01]

The sandbox holds ``--users`` Okta users, each with an Auth0 account; a share ``--deactivated``
of them is deactivated in Okta and flagged in Auth0 (in sync). Drift is seeded both ways: a
share ``--drift`` of the users deactivated in Okta with no flag in Auth0 (lost events), and half
as many active users still flagged (a lost reactivation). The real reconciliation state machine
runs in moto: a dry run first, then a run that fixes, then a run that must find nothing.

Cost, as AWS bills it: every state transition (retries included) of the reconciliation and of
every deactivation-sync execution it starts ($0.025 per 1,000), Lambda requests ($0.20 per
million) and GB-seconds (arm64, $0.0000133334) with the durations measured here (in-process
Python 3.11: indicative). The sandbox runs in this process with its default limits, so the
time is the work's, not the rate limits' (pages of 200 Okta users and 50-email Auth0 searches
keep a 10,000-user run far under Okta's 600/min and Auth0's 16 rps).
"""

from __future__ import annotations

import argparse
import time

from bench import PRICE, functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment

MACHINE, SYNC = "ReconciliationStateMachine", "DeactivationSyncStateMachine"


def flag(okta_user_id: str) -> dict:
    return {
        "okta_sync": {
            "deactivated": True,
            "okta_user_id": okta_user_id,
            "event_type": "user.lifecycle.deactivate",
            "event_uuid": "seeded",
            "published": "2026-01-05T10:00:00.000Z",
            "blocked": True,
        }
    }


def seed(sb, users: int, deactivated: float, drift: float) -> tuple[int, int]:
    every = max(1, round(1 / deactivated))
    missing = stale = 0
    n_missing, n_stale = round(users * drift), round(users * drift / 2)
    for n in range(users):
        email = f"bench.rec{n}@acme.example"
        off = n % every == 0
        okta = sb.okta.add_user(
            {"login": email, "email": email, "firstName": "Bench", "lastName": str(n)},
            status="DEPROVISIONED" if off else "ACTIVE",
        )
        flagged = off
        if off and missing < n_missing and n % (every * 3) == 0:
            flagged, missing = False, missing + 1
        elif not off and stale < n_stale and n % 7 == 1:
            flagged, stale = True, stale + 1
        sb.auth0.add_user(email=email, app_metadata=flag(okta["id"]) if flagged else {}, blocked=flagged)
    return missing, stale


def billed(stack: LocalDeployment, machine: str) -> int:
    return sum(r.billed_transitions for r in stack.wait_all(machine, timeout=3600).values())


def run(users: int, deactivated: float, drift: float) -> dict:
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta}
        seeded = seed(sb, users, deactivated, drift)
        with LocalDeployment(
            secrets, parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain}
        ) as stack:
            runs = {}
            for label, payload in (("dry run", {"dry_run": True}), ("fix", {}), ("second run", {})):
                counters.api_calls.reset()
                stack.invocations.clear()
                started = time.perf_counter()
                execution = stack.execute(MACHINE, {**payload, "requested_by": "bench"}, timeout=3600)
                wall = time.perf_counter() - started
                assert execution.status == "SUCCEEDED", execution.cause
                calls = counters.api_calls.by_tenant()
                gb_s = sum(i.duration * 512 / 1024 for i in stack.invocations if i.function == "ReconcileFunction")
                requests = sum(1 for i in stack.invocations)
                runs[label] = {
                    "wall": wall,
                    "calls": calls,
                    "transitions": execution.billed_transitions,
                    "lambda_requests": requests,
                    "gb_seconds": gb_s,
                    "counts": execution.output["counts"],
                }
                if label == "fix":
                    sync_transitions = billed(stack, SYNC)
                    runs[label]["sync_transitions"] = sync_transitions
                    sync_invocations = [i for i in stack.invocations if i.function != "ReconcileFunction"]
                    runs[label]["sync_gb_seconds"] = sum(i.duration * 512 / 1024 for i in sync_invocations)
                    runs[label]["sync_requests"] = len(sync_invocations)
            return {"seeded": seeded, "runs": runs}


def cost(transitions: int, requests: int, gb_seconds: float) -> float:
    return transitions * PRICE["transition"] + requests * PRICE["request"] + gb_seconds * PRICE["gb_second"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench reconciliation")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--deactivated", type=float, default=0.3)
    parser.add_argument("--drift", type=float, default=0.01)
    args = parser.parse_args(argv)
    with functions_output_discarded():
        r = run(args.users, args.deactivated, args.drift)
    missing, stale = r["seeded"]
    print(
        f"Full-state reconciliation, {args.users} users ({args.deactivated:.0%} deactivated), drift seeded: "
        f"{missing} missing flags, {stale} stale flags"
    )
    for label, x in r["runs"].items():
        c = x["counts"]
        run_cost = cost(x["transitions"], x["lambda_requests"], x["gb_seconds"])
        print(
            f"  {label:10s}: {x['wall']:.1f} s, calls Okta {x['calls'].get('okta', 0)}, "
            f"Auth0 {x['calls'].get('auth0', 0)}{' (with the started syncs)' if label == 'fix' else ''}; "
            f"checked {c['okta_users_checked']} Okta users, {c['auth0_accounts_checked']} flagged accounts; "
            f"drift {c['missing_flag']} missing + {c['stale_flag']} stale; started {c['started']}; "
            f"{x['transitions']} transitions; ${run_cost:.4f}"
        )
        if "sync_transitions" in x:
            fix_cost = cost(x["sync_transitions"], x["sync_requests"], x["sync_gb_seconds"])
            print(
                f"              fixing: {x['sync_transitions']} transitions in the started syncs, "
                f"{x['sync_requests']} Lambda requests, ${fix_cost:.4f}"
            )
    return r
