"""A burst of deactivations (an HR import): completion against the rate-limit floor, 429s,
throttles, lost events and cost, with the template's reserved concurrency.

    python -m bench burst [--events 5000] [--window 60] [--scale 10] [--concurrency 3] [--lookup-concurrency 5]
    python -m bench burst --model [1000 5000]     # the queueing model behind the throttle rule's cap

``--events`` people, each with one Auth0 account, are deactivated in the sandbox Okta and their
events arrive evenly over ``--window`` seconds: each starts the real deactivation-sync state
machine in moto with the payload the hook receiver gives it, named after the event's uuid. The
tenants enforce the real limits (Auth0 Enterprise production: Management API burst 50, 16
requests/s; Okta: the app's half of the 2,000/min user-read bucket, 75 requests in flight),
compressed in time by ``--scale`` together with the event window and the state machine's retry
waits (``testbed/timescale.py``): at ``--scale 10`` a minute lasts 6 s. Times are printed at the
real scale (measured x scale). Lambda runs in-process with the template's
``ReservedConcurrentExecutions`` honoured (``DeactivationConcurrency``, ``LookupConcurrency``).

The floor is the time the busiest bucket needs for the calls the burst made at its sustained
rate (its burst spent at once), and never less than the window itself. Cost as AWS bills it:
every state entered and every task retry ($0.025 per 1,000), Lambda requests ($0.20 per million;
throttled requests are not billed) and GB-seconds (arm64, the durations measured here, in-process
on a shared CPU: indicative only).

moto runs one thread per execution and all of this shares one process (one core: the GIL) with the
tenants. Every throttle retry goes through moto's Lambda invoke, and with the throttle rule's 30 s
cap a waiting execution asks every ~15 s of real time, so ``--scale`` multiplies that CPU: keep
the printed CPU share well below 100 % (a low scale, a few hundred to 1,000 events), or the
figures measure the CPU; ``--model`` gives the queueing model's figures for any size in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, datetime

from bench import PRICE, burst_model, functions_output_discarded
from okta_auth0_sync.base import counters
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.timescale import scaled_retry_waits

MACHINE = "DeactivationSyncStateMachine"
AUTH0_BURST, AUTH0_RATE = 50, 16.0  # Enterprise production, Management API (global bucket)
OKTA_USER_READS = 1000  # per minute: the app's 50 % share of Workforce's 2,000/min GET /users/{id}
OKTA_TOKENS, OKTA_CONCURRENCY = 1000, 75


def configure_limits(sb, scale: float) -> None:
    minute = 60.0 / scale
    sb.auth0.set_plan("enterprise")
    sb.auth0.configure_rate_limits(
        {"global": {"burst": AUTH0_BURST, "rate": AUTH0_RATE * scale}, "precise_reset": True}
    )
    sb.okta.configure_rate_limits(
        {
            "window": minute,
            "precise_reset": True,
            "concurrency": OKTA_CONCURRENCY,
            "user": {"limit": OKTA_USER_READS},
            "token": {"limit": OKTA_TOKENS},
        }
    )


def people(sb, count: int) -> list[dict]:
    crowd = []
    for n in range(count):
        email = f"burst.person{n}@acme.example"
        okta = sb.okta.add_user({"login": email, "email": email, "firstName": "Burst", "lastName": str(n)})
        account = sb.auth0.add_user(email=email)["user_id"]
        crowd.append({"okta_id": okta["id"], "login": email, "account": account})
    return crowd


def payload(person: dict) -> dict:
    published = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {"uuid": str(uuid.uuid4()), "type": "user.lifecycle.deactivate", "published": published}
    return {
        "event": {**event, "action": "deactivate"},
        "okta_user": {"id": person["okta_id"], "login": person["login"]},
    }


def burst(stack: LocalDeployment, crowd: list[dict], window: float) -> tuple[list[tuple[str, float]], float]:
    """Start one execution per person, evenly over ``window`` (scaled) seconds."""
    started: list[tuple[str, float]] = []
    gap = window / len(crowd)
    begin = time.time()
    for i, person in enumerate(crowd):
        pause = begin + i * gap - time.time()
        if pause > 0:
            time.sleep(pause)
        body = payload(person)
        stack.start_execution(MACHINE, body, name=body["event"]["uuid"])
        started.append((body["event"]["uuid"], time.time()))
    return started, begin


def run(args: argparse.Namespace) -> dict:
    scale = args.scale
    with sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        secrets = {"Auth0ConnectionSecret": creds.auth0, "OktaConnectionSecret": creds.okta}
        parameters = {
            "OktaDomain": sb.okta.domain,
            "Auth0Domain": sb.auth0.domain,
            "DeactivationConcurrency": str(args.concurrency),
            "LookupConcurrency": str(args.lookup_concurrency),
        }
        crowd = people(sb, args.events)
        for person in crowd:  # no hook registered: the events reach the state machine below
            sb.okta.deactivate_user(person["okta_id"])
        configure_limits(sb, scale)
        with LocalDeployment(secrets, parameters=parameters) as stack, scaled_retry_waits(1 / scale):
            counters.api_calls.reset()
            sb.auth0.calls.reset()
            stack.invocations.clear()
            cpu = time.process_time()
            started, begin = burst(stack, crowd, args.window / scale)
            runs = [stack.wait(stack.execution_arn(MACHINE, name), timeout=3600) for name, _ in started]
            cpu, elapsed = time.process_time() - cpu, time.time() - begin
            r = measure(sb, stack, crowd, started, begin, runs, scale, args.window)
            r["cpu_share"] = cpu / elapsed  # of one core: the GIL makes ~1.0 the ceiling
            r["elapsed"] = elapsed
            return r


def time_in_states(runs, scale: float) -> dict[str, tuple[float, float]]:
    """p50 and p99 of the time each execution spent in each task state (real scale): where a
    burst's executions wait (throttled at the reserved concurrency, or running)."""
    spent: dict[str, list[float]] = {}
    for run in runs:
        entered: dict[str, float] = {}
        for event in run.history:
            if event["type"] == "TaskStateEntered":
                entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"].timestamp()
            elif event["type"] == "TaskStateExited":
                state = event["stateExitedEventDetails"]["name"]
                spent.setdefault(state, []).append((event["timestamp"].timestamp() - entered[state]) * scale)
    return {state: (percentile(times, 0.5), percentile(times, 0.99)) for state, times in spent.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def measure(sb, stack, crowd, started, begin, runs, scale: float, window: float) -> dict:
    last_write: dict[str, float] = {}
    for call in sb.auth0.calls.all():
        if call.method in ("PATCH", "DELETE") and call.status < 300:
            account = call.path.split("/")[4] if call.path.count("/") >= 4 else ""
            last_write[account] = max(last_write.get(account, 0.0), call.time)
    from urllib.parse import unquote

    last_write = {unquote(k): v for k, v in last_write.items()}
    effects = [last_write.get(p["account"]) for p in crowd]
    lost = sum(
        1
        for p in crowd
        if not ((sb.auth0.get_user(p["account"]).get("app_metadata") or {}).get("okta_sync") or {}).get("deactivated")
    )
    latencies = sorted((e - s) * scale for e, (_, s) in zip(effects, started, strict=True) if e)
    auth0_calls, okta_calls = counters.api_calls.total("auth0"), counters.api_calls.total("okta")
    auth0_floor = max(0.0, auth0_calls - AUTH0_BURST) / AUTH0_RATE
    okta_reads = counters.api_calls.total("okta", method="GET")
    okta_floor = okta_reads / OKTA_USER_READS * 60.0
    wall = (max(e for e in effects if e) - begin) * scale if any(effects) else float("nan")
    memory = {
        f: int(stack.template.function(f).get("MemorySize", 128)) for f in {i.function for i in stack.invocations}
    }
    durations: dict[str, list[float]] = {}
    for i in stack.invocations:
        durations.setdefault(i.function, []).append(i.duration)
    gb_seconds = sum(i.duration * memory[i.function] / 1024 for i in stack.invocations)
    transitions = sum(r.billed_transitions for r in runs)
    cost = (
        transitions * PRICE["transition"] + len(stack.invocations) * PRICE["request"] + gb_seconds * PRICE["gb_second"]
    )
    return {
        "events": len(crowd),
        "succeeded": sum(1 for r in runs if r.status == "SUCCEEDED"),
        "lost": lost,
        "wall": wall,
        "floor": max(auth0_floor, okta_floor, window),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "states": time_in_states(runs, scale),
        "auth0_calls": auth0_calls,
        "okta_calls": okta_calls,
        "auth0_429": counters.api_calls.total("auth0", status=429),
        "okta_429": counters.api_calls.total("okta", status=429),
        "peak": dict(stack.peak_in_flight),
        "throttles": dict(stack.throttles),
        "invocation_ms": {f: 1000 * statistics.mean(d) for f, d in sorted(durations.items())},
        "transitions": transitions,
        "lambda_requests": len(stack.invocations),
        "cost_per_1000": cost / len(crowd) * 1000,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench burst")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the events arrive (real scale)")
    parser.add_argument("--scale", type=float, default=10.0, help="time compression (10: a minute lasts 6 s)")
    parser.add_argument("--concurrency", type=int, default=3, help="DeactivationConcurrency")
    parser.add_argument("--lookup-concurrency", type=int, default=5, help="LookupConcurrency")
    parser.add_argument("--model", action="store_true", help="the queueing model instead (bench/burst_model.py)")
    args, sizes = parser.parse_known_args(argv)
    if args.model:
        return burst_model.main([int(n) for n in sizes] or [1000, args.events])
    if sizes:
        parser.error(f"unrecognized arguments: {' '.join(sizes)}")
    with functions_output_discarded():
        r = run(args)
    n = r["events"]
    print(
        f"Deactivation burst: {n} events over {args.window:g} s, one Auth0 account each (Enterprise limits: "
        f"Auth0 {AUTH0_RATE:g}/s burst {AUTH0_BURST}; Okta {OKTA_USER_READS}/min user reads, "
        f"{OKTA_CONCURRENCY} in flight; "
        f"scaled x{args.scale:g}, figures at the real scale); reserved concurrency {args.concurrency} "
        f"(UpdateMetadata), {args.lookup_concurrency} (LookupUsers)"
    )
    print(
        f"  {r['succeeded']}/{n} executions succeeded, {r['lost']} events lost; last effect after {r['wall']:.0f} s, "
        f"floor {r['floor']:.0f} s (ratio {r['wall'] / r['floor']:.2f}); time to effect p50 {r['p50']:.0f} s, "
        f"p99 {r['p99']:.0f} s"
    )
    print(
        f"  calls: Auth0 {r['auth0_calls']} ({r['auth0_calls'] / n:.2f}/event, {r['auth0_429']} x 429), "
        f"Okta {r['okta_calls']} ({r['okta_calls'] / n:.2f}/event, {r['okta_429']} x 429)"
    )
    print(f"  peak in-flight invocations {r['peak']}; throttled invocations {r['throttles']}")
    spent = ", ".join(f"{state} {p50:.1f} / {p99:.1f} s" for state, (p50, p99) in r["states"].items())
    print(f"  time in each task, p50 / p99 (throttled waits included): {spent}")
    took = ", ".join(f"{f} {ms:.0f} ms" for f, ms in r["invocation_ms"].items())
    print(
        f"  wall here {r['elapsed']:.0f} s, this process's CPU {r['cpu_share']:.0%} of a core (the GIL's ceiling "
        f"is 100%: near it, the figures measure the CPU); mean invocation here (x{args.scale:g} at the real "
        f"scale): {took}"
    )
    print(
        f"  billed transitions {r['transitions']} ({r['transitions'] / n:.1f}/event), Lambda requests "
        f"{r['lambda_requests']}; ${r['cost_per_1000']:.4f} per 1,000 events"
    )
    return r
