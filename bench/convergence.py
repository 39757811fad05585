"""Convergence of the deactivation sync under concurrency: the number of wrong final states.

    python -m bench convergence [--trials 10000] [--through-hook 0] [--seed N]

The trials of tests/integration/test_deactivation_convergence.py at scale (testbed/convergence.py):
one person per trial, one to three Auth0 accounts in different letter cases, a random history of
two to six lifecycle events delivered in random batches with duplicates and a concurrent
on-demand sync now and then, while Auth0 answers 2 % of user calls with 503 and 0.2 % with 429.
``--trials`` run at the metadata-update task (the real handler, invoked concurrently as Lambda
containers would); ``--through-hook`` more run through the real hook and state machine (about
0.5 s each on this machine). The goal is 0 wrong final states.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor

from bench import functions_output_discarded
from okta_auth0_sync_sandbox import runner as sandbox_runner
from okta_auth0_sync_testbed.apigateway import LocalHttpApi
from okta_auth0_sync_testbed.convergence import deliver_round, invoke_round, plan_trial, wrong_final_states
from okta_auth0_sync_testbed.deployment import LocalDeployment

HOOK_SECRET = "bench-hook-secret-0123456789abcdef0123"
PER_ROUND = 40


def _rounds(sb, rng, count: int, salt: str, max_events: int = 6):
    for start in range(0, count, PER_ROUND):
        yield [plan_trial(sb, rng, i, salt, max_events) for i in range(start, min(start + PER_ROUND, count))]


def _inject_faults(sb, seed: int) -> None:
    sb.auth0.faults.reseed(seed)
    sb.auth0.faults.error(route="/api/v2/users*", status=503, probability=0.02)
    sb.auth0.faults.error(route="/api/v2/users*", status=429, probability=0.002)


def run(trials: int, through_hook: int, seed: int, max_events: int = 6) -> dict:
    """One process's share: its own sandbox and stack. The sandbox is reset after every round (its
    searches scan every user, so a tenant that kept 20,000 trial accounts would slow each call)."""
    with functions_output_discarded(), sandbox_runner.start() as sb:
        creds = sandbox_runner.provision_credentials(sb)
        secrets = {
            "Auth0ConnectionSecret": creds.auth0,
            "OktaConnectionSecret": creds.okta,
            "EventHookSecret": {"current": HOOK_SECRET, "previous": ""},
        }
        _inject_faults(sb, seed)
        parameters = {"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain, "SyncSuspensions": "true"}
        # Races, not throttling (python -m bench burst): every invocation runs at once.
        parameters |= {"DeactivationConcurrency": "50", "LookupConcurrency": "50"}
        with LocalDeployment(secrets, parameters=parameters) as stack, LocalHttpApi(stack) as api:
            rng, problems, events, faults = random.Random(seed), [], 0, 0
            started = time.perf_counter()
            for round_no, batch in enumerate(_rounds(sb, rng, trials, f"task{seed}", max_events)):
                problems += invoke_round(stack, batch)
                problems += wrong_final_states(sb, stack, batch)
                events += sum(len(t.events) for t in batch)
                faults += sum(f.fired for f in sb.auth0.faults.list())
                sb.reset()
                _inject_faults(sb, seed * 100_003 + round_no)
            task_seconds = time.perf_counter() - started
            hook_problems: list[str] = []
            for batch in _rounds(sb, rng, through_hook, f"hook{seed}", max_events):
                deliver_round(stack, f"{api.url}/okta/event-hook", HOOK_SECRET, batch)
                hook_problems += wrong_final_states(sb, stack, batch)
            faults += sum(f.fired for f in sb.auth0.faults.list())
            return {
                "trials": trials,
                "events": events,
                "problems": problems,
                "task_seconds": task_seconds,
                "through_hook": through_hook,
                "hook_problems": hook_problems,
                "faults": faults,
            }


def run_parallel(trials: int, through_hook: int, seed: int, processes: int, max_events: int = 6) -> dict:
    """Split the trials over ``processes`` worker processes (seeds ``seed``, ``seed + 1``...)."""
    shares = [
        (
            trials // processes + (i < trials % processes),
            through_hook // processes + (i < through_hook % processes),
            seed + i,
            max_events,
        )
        for i in range(processes)
    ]
    if processes == 1:
        return run(*shares[0])
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        parts = list(pool.map(run, *zip(*shares, strict=True)))
    total: dict = {
        "trials": 0,
        "events": 0,
        "problems": [],
        "task_seconds": 0.0,
        "through_hook": 0,
        "hook_problems": [],
        "faults": 0,
    }
    for part in parts:
        for key, value in part.items():
            total[key] = max(total[key], value) if key == "task_seconds" else total[key] + value
    return total


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench convergence")
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--through-hook", type=int, default=0)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--processes", type=int, default=2, help="worker processes (each its own sandbox)")
    parser.add_argument("--max-events", type=int, default=6, help="lifecycle events per trial: 2 to this")
    args = parser.parse_args(argv)
    r = run_parallel(args.trials, args.through_hook, args.seed, max(1, args.processes), max(2, args.max_events))
    print(
        f"Deactivation convergence, seed {args.seed}: {r['trials']} trials ({r['events']} distinct events) at the "
        f"task in {r['task_seconds']:.0f} s, {r['through_hook']} through the hook; {r['faults']} injected 429/503"
    )
    print(
        f"  wrong final states (or failed runs): {len(r['problems'])} at the task, "
        f"{len(r['hook_problems'])} through the hook"
    )
    problems = r["problems"] + r["hook_problems"]
    wrong = [p for p in problems if ": account " in p]
    failed = len(problems) - len(wrong)
    print(f"  of which wrong final states: {len(wrong)}; executions or invocations that failed: {failed}")
    for problem in problems[:50]:
        print(f"    {problem}")
    return r


if __name__ == "__main__":
    main()
