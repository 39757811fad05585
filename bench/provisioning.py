"""Provisioning throughput against realistic rate limits, and how close it gets to the floor.

    python -m bench provisioning [--members 1000 10000] [--scale 6] [--concurrency 4]

The sandbox tenants run in their own process (``python -m okta_auth0_sync_sandbox``: remote tenants do not
share our CPU) and enforce published limits, scaled down in time by ``--scale`` (ratios kept):
Okta create/list users 600 per minute (fixed window), Okta user/group reads 2,000/1,000 per
minute, Auth0 reads 500 per minute (burst 40) and writes 200 per minute (burst 20). With
``--scale 6`` a "minute" lasts 10 s. The floor is the time the busiest bucket needs at its
limit (here: one Okta create per new member); the ratio wall/floor is the figure to watch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench import functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment

ROLE = "rol_BenchRole0000001"  # added to the default fixture for the benchmark: only bulk members
GROUP = "00gU18bXbD9XEKxR56aB"
OKTA_PER_MINUTE = {"users": 600, "user": 2000, "group": 1000, "groups": 500, "other": 1200, "token": 2000}
AUTH0_READ, AUTH0_WRITE, AUTH0_GLOBAL = (500, 40), (200, 20), (1000, 50)  # per minute, burst


def rate_limits(scale: float) -> tuple[dict, dict]:
    minute = 60.0 / scale
    okta = {"window": minute, **{bucket: {"limit": limit} for bucket, limit in OKTA_PER_MINUTE.items()}}
    auth0 = {
        bucket: {"burst": burst, "rate": per_minute / minute}
        for bucket, (per_minute, burst) in (
            ("users_read", AUTH0_READ),
            ("users_write", AUTH0_WRITE),
            ("global", AUTH0_GLOBAL),
        )
    }
    return okta, auth0


def fixture(members: int) -> dict:
    """The default fixture plus a role with ``members`` fresh Auth0 users."""
    data = sandbox_runner.load_fixture()
    ids = [f"auth0|bench{n:019d}" for n in range(members)]
    data["auth0"]["users"] += [
        {
            "user_id": uid,
            "connection": "Username-Password-Authentication",
            "email": f"bench{n}@bulk.example",
            "given_name": "Bench",
            "family_name": f"User{n}",
        }
        for n, uid in enumerate(ids)
    ]
    data["auth0"]["roles"].append({"id": ROLE, "name": "Bench", "description": "benchmark members", "members": ids})
    return data


@contextmanager
def tenants_process(members: int, scale: float):
    """``python -m okta_auth0_sync_sandbox`` in a child process; yields the connection secrets it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        fixture_path = Path(tmp) / "fixture.json"
        fixture_path.write_text(json.dumps(fixture(members)))
        okta_limits, auth0_limits = rate_limits(scale)
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "--fixture",
                str(fixture_path),
                "--secrets-dir",
                tmp,
                "--okta-rate-limits",
                json.dumps(okta_limits),
                "--auth0-rate-limits",
                json.dumps(auth0_limits),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            for line in child.stdout:
                if line.startswith("Admin:"):
                    break
                if child.poll() is not None:
                    raise RuntimeError("the sandbox did not start")
            secrets = {name: json.loads((Path(tmp) / f"{name}.json").read_text()) for name in ("okta", "auth0")}
            yield secrets
        finally:
            child.terminate()
            child.wait(10)


def run(members: int, scale: float, concurrency: int) -> dict:
    with tenants_process(members, scale) as creds:
        secrets = {"Auth0ConnectionSecret": creds["auth0"], "OktaConnectionSecret": creds["okta"]}
        with LocalDeployment(
            secrets,
            parameters={
                "OktaDomain": creds["okta"]["domain"],
                "Auth0Domain": creds["auth0"]["domain"],
                "ProvisioningConcurrency": str(concurrency),
            },
        ) as stack:
            counters.api_calls.reset()
            counters.tokens_minted.reset()
            started = time.perf_counter()
            run = stack.execute("ProvisioningStateMachine", {"role_id": ROLE, "group_id": GROUP}, timeout=3600)
            wall = time.perf_counter() - started
            assert run.status == "SUCCEEDED", run.cause
            report = run.output["report"]
            creates = counters.api_calls.total("okta", method="POST", route="/api/v1/users")
            minute = 60.0 / scale
            limit = OKTA_PER_MINUTE["users"]
            floor = creates / limit * minute  # the sustained rate
            # Fixed windows start full: the first window's quota is free, the rest waits for resets.
            window_floor = max(0, -(-creates // limit) - 1) * minute
            batches = sum(1 for i in stack.invocations if i.function == "ProvisionMembersFunction")
            return {
                "members": report["members"],
                "counts": report["counts"],
                "failed": report["failed_total"],
                "wall_seconds": round(wall, 1),
                "floor_seconds": round(floor, 1),
                "ratio_to_floor": round(wall / floor, 3) if floor else None,
                "window_floor_seconds": round(window_floor, 1),
                "members_per_minute_at_real_limits": round(report["members"] / (wall * scale / 60.0)),
                "api_calls_per_member": report["api_calls_per_member"],
                "rate_limited_responses": report["rate_limited_responses"],
                "tokens_minted": report["tokens_minted"],
                "state_transitions": run.transitions + batches,
            }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench provisioning")
    parser.add_argument("--members", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--scale", type=float, default=6.0, help="time compression (6: a minute lasts 10 s)")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    results = {}
    with functions_output_discarded():
        for n in args.members:
            results[n] = run(n, args.scale, args.concurrency)
            print(f"  ... {n} members done in {results[n]['wall_seconds']} s", file=sys.stderr)
    print(
        f"Provisioning against rate limits (Okta create 600/min, Auth0 reads 500/min, writes 200/min; time "
        f"scaled x{args.scale:g}: a minute lasts {60 / args.scale:g} s; Map concurrency {args.concurrency})"
    )
    print(
        f"  {'members':>8} {'wall s':>8} {'floor s':>8} {'ratio':>6} {'win.floor':>9} {'members/min':>12} "
        f"{'okta/mbr':>9} {'auth0/mbr':>10} {'429s':>10} {'tokens':>7} {'transitions':>12} {'failed':>7}"
    )
    for r in results.values():
        rl = r["rate_limited_responses"]
        print(
            f"  {r['members']:>8} {r['wall_seconds']:>8} {r['floor_seconds']:>8} {r['ratio_to_floor']:>6} "
            f"{r['window_floor_seconds']:>9} "
            f"{r['members_per_minute_at_real_limits']:>12} {r['api_calls_per_member'].get('okta', 0):>9} "
            f"{r['api_calls_per_member'].get('auth0', 0):>10} "
            f"{rl.get('okta', 0)}+{rl.get('auth0', 0):<8} {r['tokens_minted']:>7} {r['state_transitions']:>12} "
            f"{r['failed']:>7}"
        )
    print("  floor = creates at the sustained limit; win.floor = full windows waited for (the first window's quota")
    print("  is available at once); members/min at the real, unscaled limits; 429s are Okta+Auth0;")
    print("  transitions = parent states + one per batch child execution")
    return results


if __name__ == "__main__":
    main()
