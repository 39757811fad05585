"""Provisioning against realistic rate limits: how close a run gets to the floor, what it calls,
and what it costs; a first run and a no-change rerun for each size.

    python -m bench provisioning [--members 1000 10000] [--scale 3]
    flock /tmp/longrun.lock python -m bench provisioning --members 10000 100000 --scale 4   # the README's, ~65 min

The sandbox tenants run in their own process (``python -m okta_auth0_sync_sandbox``: remote tenants do not
share our CPU) and enforce published limits, scaled down in time by ``--scale`` (ratios kept):
Okta create/list users 600 per minute (fixed window), Okta user/group reads 2,000/1,000 per
minute, Auth0 reads 500 per minute (burst 40) and writes 200 per minute (burst 20). With
``--scale 3`` a "minute" lasts 20 s. Reset headers are sent to the millisecond (``precise_reset``):
whole seconds would add up to a second per window, a distortion real 60 s windows do not have.
The floor is the time the busiest bucket needs at its limit: one Okta create per new member at
600 per "minute", its first window's quota used at once. Choose the scale so the required create
rate (10 x scale per second) stays within what this machine runs in-process (moto and the
handlers share the CPU): otherwise the figure measures the CPU, not the pacing.

The worker's Lambda deadline is scaled too (its 900 s timeout and the 60 s it keeps in hand both
divided by the scale), so a run has as many worker rounds, hence state transitions, as at the
real limits. The whole test bed shares this machine's CPU: the bench prints the CPU the test
bed process (handlers, moto, Step Functions) and the tenants' process used per wall second and
per member. A run is rate-bound only while that stays well under one core (the handlers, moto
and the interpreter share one interpreter lock); at a scale where it nears a core, wall / floor
measures the CPU, not the pacing: choose a lower scale. moto's DynamoDB costs about 11 ms of CPU
per conditional UpdateItem and about 1.2 ms per item a Query returns (real DynamoDB: a few ms of
latency, none of our CPU). The report step reads one result part per batch, not the member items
(its duration is printed, and the ratio without it).

Transitions are counted as AWS bills them: every state entered in the execution's history plus
every retry of a task (a task invocation that failed and was invoked again); the report's own
count (from what every step recorded) is printed beside it. Cost is the report's: transitions at
$0.025 per 1,000, Lambda requests and arm64 GB-seconds at the measured durations.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench import functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync.services.provisioning import worker as provisioning_worker
from okta_auth0_sync.services.provisioning.report import PRICE_PER_GB_SECOND, PRICE_PER_REQUEST, PRICE_PER_TRANSITION
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment

ROLE = "rol_BenchRole0000001"  # added to the default fixture for the benchmark: only bulk members
GROUP = "00gU18bXbD9XEKxR56aB"
OKTA_PER_MINUTE = {"users": 600, "user": 2000, "group": 1000, "groups": 500, "other": 1200, "token": 2000}
AUTH0_READ, AUTH0_WRITE, AUTH0_GLOBAL = (500, 40), (200, 20), (1000, 50)  # per minute, burst
WORKER = "ProvisionMembersFunction"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int | None = None) -> int:
    """Peak resident memory of a process (this one by default), MB, from /proc."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    return next(int(line.split()[1]) // 1024 for line in status.splitlines() if line.startswith("VmHWM:"))


def process_cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default), from /proc."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@contextmanager
def worker_deadline_scaled(stack, scale: float):
    """The worker's Lambda timeout and its deadline margin divided by ``scale``: its rounds last
    what they would at the real limits, so the run has the real number of rounds (transitions)."""
    timeout, memory = stack._function_limits(WORKER)
    stack._limits[WORKER] = (timeout / scale, memory)
    margin = provisioning_worker.DEADLINE_MARGIN
    provisioning_worker.DEADLINE_MARGIN = margin / scale
    try:
        yield
    finally:
        stack._limits[WORKER] = (timeout, memory)
        provisioning_worker.DEADLINE_MARGIN = margin


def rate_limits(scale: float) -> tuple[dict, dict]:
    minute = 60.0 / scale
    okta = {
        "window": minute,
        "precise_reset": True,
        **{bucket: {"limit": limit} for bucket, limit in OKTA_PER_MINUTE.items()},
    }
    auth0: dict = {
        bucket: {"burst": burst, "rate": per_minute / minute}
        for bucket, (per_minute, burst) in (
            ("users_read", AUTH0_READ),
            ("users_write", AUTH0_WRITE),
            ("global", AUTH0_GLOBAL),
        )
    }
    auth0["precise_reset"] = True
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
    """``python -m okta_auth0_sync_sandbox`` in a child process; yields the connection secrets it wrote
    and the child's pid."""
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
            yield secrets, child.pid
        finally:
            child.terminate()
            child.wait(10)


def state_seconds(history: list[dict], name: str) -> float:
    """Seconds from entering state ``name`` to leaving it (its last visit), from the history."""
    entered = exited = None
    for event in history:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
        if details.get("name") == name:
            if event["type"].endswith("StateEntered"):
                entered = event["timestamp"]
            elif event["type"].endswith("StateExited"):
                exited = event["timestamp"]
    return (exited - entered).total_seconds() if entered and exited else 0.0


def measure(stack, scale: float, tenants_pid: int) -> dict:
    """One execution of the role's run: wall, floor, calls, 429s, transitions, cost and the CPU
    the test bed used doing it."""
    counters.api_calls.reset()
    counters.tokens_minted.reset()
    invocations_before = len(stack.invocations)
    cpu_before = process_cpu_seconds(), process_cpu_seconds(tenants_pid)
    started = time.perf_counter()
    run = stack.execute("ProvisioningStateMachine", {"role_id": ROLE, "group_id": GROUP}, timeout=6 * 3600)
    wall = time.perf_counter() - started
    cpu_bed = process_cpu_seconds() - cpu_before[0]
    cpu_tenants = process_cpu_seconds(tenants_pid) - cpu_before[1]
    assert run.status == "SUCCEEDED", run.cause
    report = run.output["report"]
    creates = counters.api_calls.total("okta", method="POST", route="/api/v1/users")
    minute = 60.0 / scale
    limit = OKTA_PER_MINUTE["users"]
    floor = creates / limit * minute
    invocations = stack.invocations[invocations_before:]
    failed_invocations = sum(1 for i in invocations if i.error)
    members = max(int(report["members"]), 1)
    report_step = state_seconds(run.history, "BuildReport")
    return {
        "members": report["members"],
        "counts": report["counts"],
        "failed": report["failed_total"],
        "wall_seconds": round(wall, 1),
        "floor_seconds": round(floor, 1),
        "ratio_to_floor": round(wall / floor, 3) if floor else None,
        "members_per_minute_at_real_limits": round(creates / (wall * scale / 60.0)) if creates else 0,
        "api_calls_per_member": report["api_calls_per_member"],
        "rate_limited_responses": report["rate_limited_responses"],
        "tokens_minted": report["tokens_minted"],
        "billed_transitions": run.transitions + failed_invocations,
        "report_transitions": report["cost"]["state_transitions"],
        "cost_dollars": report["cost"]["dollars"],
        # Lambda time passes `scale` times faster here: at the real limits the same run takes
        # `scale` times the GB-seconds (transitions and requests do not change).
        "cost_dollars_real_time": round(
            report["cost"]["state_transitions"] * PRICE_PER_TRANSITION
            + report["cost"]["lambda_requests"] * PRICE_PER_REQUEST
            + report["cost"]["lambda_gb_seconds"] * scale * PRICE_PER_GB_SECOND,
            5,
        ),
        "lambda_gb_seconds": report["cost"]["lambda_gb_seconds"],
        "worker_rounds": sum(1 for i in invocations if i.function == WORKER),
        "report_step_seconds": round(report_step, 1),
        # the same ratio without the report step (one read per batch's result)
        "ratio_without_report": round((wall - report_step) / floor, 3) if floor else None,
        # CPU seconds per wall second (1.0 = one core busy) and CPU ms per role member
        "cpu_test_bed": round(cpu_bed / wall, 2),
        "cpu_tenants": round(cpu_tenants / wall, 2),
        "cpu_ms_per_member": round(1000 * (cpu_bed + cpu_tenants) / members, 1),
        "load_average": round(os.getloadavg()[2], 1),  # the machine's 15-minute load at the end (2 cores)
        "peak_rss_mb": (peak_rss_mb(), peak_rss_mb(tenants_pid)),  # test bed, tenants
    }


def run(members: int, scale: float) -> dict:
    with tenants_process(members, scale) as (creds, tenants_pid):
        secrets = {"Auth0ConnectionSecret": creds["auth0"], "OktaConnectionSecret": creds["okta"]}
        with (
            LocalDeployment(
                secrets, parameters={"OktaDomain": creds["okta"]["domain"], "Auth0Domain": creds["auth0"]["domain"]}
            ) as stack,
            worker_deadline_scaled(stack, scale),
        ):
            first = measure(stack, scale, tenants_pid)
            rerun = measure(stack, scale, tenants_pid)
            return {"first": first, "rerun": rerun}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench provisioning")
    parser.add_argument("--members", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--scale", type=float, default=3.0, help="time compression (3: a minute lasts 20 s)")
    args = parser.parse_args(argv)
    results = {}
    with functions_output_discarded():
        for n in args.members:
            results[n] = run(n, args.scale)
            for kind, r in results[n].items():
                print(
                    f"  ... {n} members, {kind}: wall {r['wall_seconds']} s, floor {r['floor_seconds']} s, ratio "
                    f"{r['ratio_to_floor']} ({r['ratio_without_report']} without the report step), 429s "
                    f"{r['rate_limited_responses']}, CPU test bed {r['cpu_test_bed']}, load {r['load_average']}",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"Provisioning against rate limits (Okta create 600/min, Auth0 reads 500/min, writes 200/min; time "
        f"scaled x{args.scale:g}: a minute lasts {60 / args.scale:g} s, the worker's Lambda deadline too; "
        f"resets to the millisecond)"
    )
    print(
        f"  {'members':>8} {'run':>6} {'wall s':>8} {'floor s':>8} {'ratio':>6} {'mbr/min':>8} {'okta/mbr':>9} "
        f"{'auth0/mbr':>10} {'429s':>8} {'tokens':>7} {'transitions':>12} {'(report)':>9} {'cost $':>9} "
        f"{'real $':>9} {'failed':>7}"
    )
    for n, pair in results.items():
        for kind, r in pair.items():
            rl = r["rate_limited_responses"]
            print(
                f"  {n:>8} {kind:>6} {r['wall_seconds']:>8} {r['floor_seconds']:>8} {r['ratio_to_floor'] or '-':>6} "
                f"{r['members_per_minute_at_real_limits']:>8} {r['api_calls_per_member'].get('okta', 0):>9} "
                f"{r['api_calls_per_member'].get('auth0', 0):>10} {rl.get('okta', 0)}+{rl.get('auth0', 0):<6} "
                f"{r['tokens_minted']:>7} {r['billed_transitions']:>12} {r['report_transitions']:>9} "
                f"{r['cost_dollars']:>9} {r['cost_dollars_real_time']:>9} {r['failed']:>7}"
            )
    print("  floor = creates at the sustained limit (600 per scaled minute); mbr/min = creates per minute at the")
    print("  real, unscaled limits; 429s are Okta+Auth0; transitions = states entered + task retries (as billed),")
    print("  (report) = the run report's own count; cost = the report's (transitions, Lambda requests, GB-s);")
    print("  real $ = the same run at the real, unscaled limits (its Lambda time x scale).")
    print("  The test bed's share of it (one machine: handlers, moto and Step Functions in one process, the tenants in")
    print("  another; CPU per wall second, 1.0 = a core; peak resident memory of the two):")
    print(
        f"  {'members':>8} {'run':>6} {'worker rounds':>14} {'report step s':>14} {'ratio w/o report':>17} "
        f"{'CPU test bed':>13} {'CPU tenants':>12} {'CPU ms/member':>14} {'load (15 min)':>14} {'peak MB':>11}"
    )
    for n, pair in results.items():
        for kind, r in pair.items():
            print(
                f"  {n:>8} {kind:>6} {r['worker_rounds']:>14} {r['report_step_seconds']:>14} "
                f"{r['ratio_without_report'] or '-':>17} {r['cpu_test_bed']:>13} {r['cpu_tenants']:>12} "
                f"{r['cpu_ms_per_member']:>14} {r['load_average']:>14} {'{}+{}'.format(*r['peak_rss_mb']):>11}"
            )
    print("  A first run is rate-bound while CPU test bed stays well under 1.0; the report step reads one result")
    print("  part per batch of the run, not every member item.")
    return results


if __name__ == "__main__":
    main()
