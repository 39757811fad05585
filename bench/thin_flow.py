"""API calls and tokens minted by the thin identity-lookup flow over N executions, against the
sandbox tenants through the real ASL in moto.

    python -m bench thin_flow [--executions 20]

Two container models: warm (one container serves every invocation) and cold (a new container
for every invocation: only the shared DynamoDB token cache carries the token across).
"""

from __future__ import annotations

import argparse
import time

from bench import functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment

ADA = "00uZPx7YubxGT9rKLiKE"


def run(executions: int, cold: bool) -> dict:
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta}
        with LocalDeployment(
            secrets,
            parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain},
            cold_start_every_invocation=cold,
        ) as stack:
            counters.api_calls.reset()
            counters.tokens_minted.reset()
            started = time.perf_counter()
            transitions = 0
            for _ in range(executions):
                execution = stack.execute("IdentityLookupStateMachine", {"okta_user_id": ADA})
                assert execution.status == "SUCCEEDED", execution.cause
                transitions += execution.transitions
            elapsed = time.perf_counter() - started
            return {
                "executions": executions,
                "api_calls": counters.api_calls.by_tenant(),
                "by_route": counters.api_calls.by_route(),
                "tokens_minted": {
                    "okta": counters.tokens_minted.total("okta"),
                    "auth0": counters.tokens_minted.total("auth0"),
                },
                "state_transitions": transitions,
                "seconds": round(elapsed, 2),
            }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench thin_flow")
    parser.add_argument("--executions", type=int, default=20)
    args = parser.parse_args(argv)
    with functions_output_discarded():
        results = {model: run(args.executions, cold) for model, cold in (("warm", False), ("cold", True))}
    print(f"Thin flow (token -> Okta user -> Auth0 users by email), {args.executions} executions")
    for model, r in results.items():
        calls = r["api_calls"]
        print(
            f"  {model} containers: API calls Okta {calls.get('okta', 0)}, Auth0 {calls.get('auth0', 0)} "
            f"({(calls.get('okta', 0) + calls.get('auth0', 0)) / r['executions']:.2f} per execution); "
            f"tokens minted Okta {r['tokens_minted']['okta']}, Auth0 {r['tokens_minted']['auth0']}; "
            f"{r['state_transitions']} state transitions ({r['state_transitions'] / r['executions']:.0f} per "
            f"execution); {r['seconds']} s"
        )
        for route, n in r["by_route"].items():
            print(f"      {n:5}  {route}")
    return results


if __name__ == "__main__":
    main()
