"""A burst of deactivations (an HR import): completion against the rate-limit floor, 429s,
throttles, lost events and cost, with the template's reserved concurrency.

    python -m bench burst [--events 5000] [--window 60] [--scale 10] [--concurrency 3] [--lookup-concurrency 5]
                          [--tenants child|inline]
    python -m bench burst --model [1000 5000]     # the queueing model behind the throttle rule's cap

``--events`` people, each with one Auth0 account, are deactivated in the sandbox Okta and their
events arrive evenly over ``--window`` seconds: each starts the real deactivation-sync state
machine in moto with the payload the hook receiver gives it, named after the event's uuid. The
tenants enforce the real limits (Auth0 Enterprise production: Management API burst 50, 16
requests/s; Okta: the app's half of the 2,000/min user-read bucket, 75 requests in flight),
compressed in time by ``--scale`` together with the event window and the state machine's retry
waits (``testbed/timescale.py``) and the deactivation path's Lambda timeouts: at ``--scale 10`` a
minute lasts 6 s, at ``--scale 0.2`` five minutes. Times are printed at the real scale (measured x
scale). Lambda runs in-process with the template's
``ReservedConcurrentExecutions`` honoured (``DeactivationConcurrency``, ``LookupConcurrency``).

The floor is the time the busiest bucket needs for the calls the burst made at its sustained
rate (its burst spent at once; calls answered 429 not counted: the bucket refused them), and never
less than the window itself. Cost as AWS bills it:
every state entered and every task retry ($0.025 per 1,000), Lambda requests ($0.20 per million;
throttled requests are not billed) and GB-seconds (arm64, the durations measured here, in-process
on a shared CPU: indicative only).

moto runs one thread per execution, and moto, Step Functions and the handlers share this process
(one core: the GIL). The tenants run in a child process of their own (``--tenants child``, the
default; ``bench/burst_tenants.py``), as remote tenants would, so their request handling does not
take this process's CPU; ``--tenants inline`` keeps them in this process. Every throttle retry goes
through moto's Lambda invoke, and with the throttle rule's 30 s cap a waiting execution asks every
~15 s of real time, so ``--scale`` multiplies that CPU. The bench prints the CPU per wall second of
both processes and says whether the run was CPU-bound (this process over 70 % of a core: the
completion figure is then the test bed's, not the design's): choose the scale from a short run's
CPU per event so that events x CPU per event x scale / floor stays well under 0.7 (throttle retries
add CPU as the queue grows), and so that the executions start at no more than about 20 a second
here (``events x scale / window``): beyond that, thousands of threads contend for the interpreter
lock, most of the CPU goes to the kernel and the run collapses (5,000 events in a minute need
``--scale 0.2``, over two hours). Or use ``--model`` for the queueing model's figures in seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

from bench import PRICE, burst_model, burst_tenants, functions_output_discarded
from bench.burst_tenants import AUTH0_BURST, AUTH0_RATE, OKTA_CONCURRENCY, OKTA_USER_READS
from bench.provisioning import process_cpu_seconds
from okta_auth0_sync.base import counters
from okta_auth0_sync_testbed import fidelity
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.timescale import scaled_retry_waits

MACHINE = "DeactivationSyncStateMachine"
FUNCTIONS = ("MintTokenFunction", "LookupUsersFunction", "UpdateMetadataFunction")
CPU_BOUND = 0.7  # of one core: above it, the figures measure the test bed's CPU, not the design


@contextmanager
def deadlines_scaled(stack: LocalDeployment, scale: float):
    """The deactivation path's Lambda timeouts divided by ``scale``: an invocation paced by the
    scaled limits lasts 1/scale times its real duration, so at ``--scale`` 0.1 a 30 s timeout must
    last 300 s here to be the same deadline."""
    saved = {f: stack._function_limits(f) for f in FUNCTIONS}
    for function, (timeout, memory) in saved.items():
        stack._limits[function] = (timeout / scale, memory)
    try:
        yield
    finally:
        stack._limits.update(saved)


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
    tenants = burst_tenants.start(args.tenants, args.events, scale)
    try:
        parameters = {
            **tenants.domains,
            "DeactivationConcurrency": str(args.concurrency),
            "LookupConcurrency": str(args.lookup_concurrency),
        }
        with (
            fidelity.cheaper_fakes(),
            LocalDeployment(tenants.secrets, parameters=parameters) as stack,
            scaled_retry_waits(1 / scale),
            deadlines_scaled(stack, scale),
        ):
            warm_up(stack)
            counters.api_calls.reset()
            tenants.reset_calls()
            stack.invocations.clear()
            cpu = process_cpu_seconds(), tenants.cpu_seconds()
            ended_before = fidelity.executions_ended()
            started, begin = burst(stack, tenants.crowd, args.window / scale)
            timeout = 6 * 3600 + args.events / scale  # a run CPU-bound beyond the floor still ends
            await_ends(ended_before, len(started), begin, cpu[0], timeout)
            elapsed = time.time() - begin
            runs = [stack.wait(stack.execution_arn(MACHINE, name), timeout=timeout) for name, _ in started]
            cpu = process_cpu_seconds() - cpu[0], tenants.cpu_seconds() - cpu[1]
            r = measure(tenants, stack, started, begin, runs, scale, args.window)
            r["cpu_share"] = cpu[0] / elapsed  # of one core: the GIL makes ~1.0 the ceiling
            r["cpu_tenants"] = cpu[1] / elapsed
            r["cpu_ms_per_event"] = 1000 * (cpu[0] + cpu[1]) / args.events
            r["elapsed"] = elapsed
            r["load"] = os.getloadavg()
            r["tenants"] = tenants.kind
            return r
    finally:
        tenants.close()


def warm_up(stack: LocalDeployment) -> None:
    """Mint both tokens once before the burst, as a deployment that has been running has: a
    burst meets warm clients and a cached token. Without it, this process's thousands of first
    invocations each build the same process-wide clients at once (one per container on Lambda,
    where containers do not share them), behind one another: minutes of the test bed's CPU, not
    the design's."""
    stack.invoke("MintTokenFunction", {"connections": ["okta", "auth0"], "correlation_id": "burst-warm-up"})


def await_ends(ended_before: int, events: int, begin: float, cpu_before: float, timeout: float) -> None:
    """Wait until the burst's executions have all ended, counting ends as the test bed announces
    them (nothing else runs executions meanwhile). Waiting on each execution in turn re-described
    the one waited on at every end anywhere: quadratic in the burst, most of a 5,000-event run's
    CPU; each execution is now described once, after the wait."""
    deadline, reported = time.monotonic() + timeout, 0
    while (ended := fidelity.executions_ended() - ended_before) < events and time.monotonic() < deadline:
        if ended // 250 > reported // 250:
            progress(ended, events, begin, cpu_before)
        reported = ended
        fidelity.wait_for_an_execution_end(ended + ended_before, 5.0)


def progress(done: int, events: int, begin: float, cpu_before: float) -> None:
    """A line on stderr while a long run goes on: executions ended so far, wall, this process's CPU share."""
    wall = time.time() - begin
    share = (process_cpu_seconds() - cpu_before) / wall
    line = f"  ... {done}/{events} executions ended after {wall:.0f} s here, CPU {share:.0%}"
    print(line, file=sys.stderr, flush=True)


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


def measure(tenants, stack, started, begin, runs, scale: float, window: float) -> dict:
    crowd = tenants.crowd
    seen = tenants.outcome()
    last_write, lost = seen["last_write"], seen["lost"]
    effects = [last_write.get(p["account"]) for p in crowd]
    latencies = sorted((e - s) * scale for e, (_, s) in zip(effects, started, strict=True) if e)
    auth0_calls, okta_calls = counters.api_calls.total("auth0"), counters.api_calls.total("okta")
    # the calls each bucket had to admit: a 429 was refused, it took nothing from the bucket
    admitted = auth0_calls - counters.api_calls.total("auth0", status=429)
    auth0_floor = max(0.0, admitted - AUTH0_BURST) / AUTH0_RATE
    okta_reads = counters.api_calls.total("okta", method="GET") - counters.api_calls.total(
        "okta", method="GET", status=429
    )
    okta_floor = okta_reads / OKTA_USER_READS * 60.0
    wall = (max(e for e in effects if e) - begin) * scale if any(effects) else float("nan")
    memory = {
        f: int(stack.template.function(f).get("MemorySize", 128)) for f in {i.function for i in stack.invocations}
    }
    durations: dict[str, list[float]] = {}
    for i in stack.invocations:
        durations.setdefault(i.function, []).append(i.duration)
    # at the real scale: an invocation here is paced by limits scaled in time (its CPU is not: indicative)
    gb_seconds = sum(i.duration * scale * memory[i.function] / 1024 for i in stack.invocations)
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
        "retries": sum(r.retries for r in runs),
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
    parser.add_argument(
        "--tenants",
        choices=("child", "inline"),
        default="child",
        help="the sandbox tenants in a child process (default: they do not share the stack's CPU) or in this one",
    )
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
        f"time scaled x{args.scale:g}: a minute lasts {60 / args.scale:g} s here; figures at the real scale); "
        f"reserved concurrency {args.concurrency} "
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
    bound = r["cpu_share"] > CPU_BOUND
    print(
        f"  wall here {r['elapsed']:.0f} s; CPU per wall second: this process {r['cpu_share']:.0%} of a core "
        f"(moto, Step Functions, the handlers: one interpreter lock, 100% its ceiling), the tenants "
        f"{r['cpu_tenants']:.0%} ({r['tenants']}); {r['cpu_ms_per_event']:.0f} ms of CPU per event in all; "
        f"load average {r['load'][0]:.1f} / {r['load'][2]:.1f} (1 / 15 min, 2 cores)"
    )
    print(
        "  CPU-bound: "
        + (
            f"YES (over {CPU_BOUND:.0%}): the completion figure is the test bed's, not the design's; "
            "rerun at a lower --scale"
            if bound
            else f"no (under {CPU_BOUND:.0%} of a core): the completion figure is the limits' and the design's"
        )
    )
    print(f"  mean invocation here (x{args.scale:g} at the real scale): {took}")
    print(
        f"  billed transitions {r['transitions']} ({r['transitions'] / n:.1f}/event, of which task retries "
        f"{r['retries']}: {r['retries'] / n:.1f}/event), Lambda requests {r['lambda_requests']}; "
        f"${r['cost_per_1000']:.4f} per 1,000 events"
    )
    return r
