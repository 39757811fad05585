"""The deactivation sync's retry budget, read from its ASL: how long it outlasts an outage, and
what an outage costs.

    python -m bench retry_budget [--draws 40000] [--outage 3600]

Step Functions waits ``uniform(0, min(MaxDelaySeconds, IntervalSeconds * BackoffRate**n))``
before retry ``n`` (``JitterStrategy: FULL``); the figures are drawn from that distribution (the
same the interpreter in moto computes in ``make test``). Cost per event in flight during the
outage: one billed transition per retry ($0.025 per 1,000) and one Lambda invocation per attempt
(512 MB; ``--attempt-seconds``, the time one attempt spends before raising ``UpstreamUnavailable``:
the HTTP layer's own retries, about 4 s against a 5xx).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from pathlib import Path

from bench import PRICE

ASL = Path(__file__).resolve().parent.parent / "statemachines" / "deactivation_sync.asl.json"


def budget() -> dict:
    task = json.loads(ASL.read_text())["States"]["SyncAuth0Users"]
    return next(r for r in task["Retry"] if "UpstreamUnavailable" in r["ErrorEquals"])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench retry_budget")
    parser.add_argument("--draws", type=int, default=40000)
    parser.add_argument("--outage", type=float, default=3600.0)
    parser.add_argument("--attempt-seconds", type=float, default=4.0)
    args = parser.parse_args(argv)
    r = budget()
    caps = [min(r["MaxDelaySeconds"], r["IntervalSeconds"] * r["BackoffRate"] ** n) for n in range(r["MaxAttempts"])]
    rng = random.Random(20261201)
    totals, needed = [], []
    for _ in range(args.draws):
        waited, need = 0.0, None
        for n, cap in enumerate(caps, start=1):
            waited += rng.uniform(0, cap)
            if need is None and waited >= args.outage:
                need = n
        totals.append(waited)
        needed.append(need if need is not None else len(caps) + 1)
    needed.sort()
    outlasted = sum(1 for t in totals if t >= args.outage) / args.draws
    median, p99 = needed[len(needed) // 2], needed[int(0.99 * (len(needed) - 1))]
    per_retry = PRICE["transition"] + PRICE["request"] + 0.5 * args.attempt_seconds * PRICE["gb_second"]
    print(
        f"Retry budget (IntervalSeconds {r['IntervalSeconds']}, BackoffRate {r['BackoffRate']}, "
        f"MaxDelaySeconds {r['MaxDelaySeconds']}, MaxAttempts {r['MaxAttempts']}, JitterStrategy {r['JitterStrategy']})"
    )
    print(
        f"  all retries wait {statistics.mean(totals):.0f} s on average, {min(totals):.0f} s at least "
        f"({args.draws} draws); an outage of {args.outage:.0f} s is outlasted in {outlasted:.2%} of draws, "
        f"after {median} retries at the median, {p99} at p99"
    )
    print(
        f"  cost per event in flight: ${per_retry * median:.4f} for that outage "
        f"(5,000 events: ${5000 * per_retry * median:.2f}); worst case (an outage that never ends) "
        f"{r['MaxAttempts']} retries, ${per_retry * r['MaxAttempts']:.4f}, then a failed execution"
    )
    return {"mean": statistics.mean(totals), "min": min(totals), "outlasted": outlasted, "median": median, "p99": p99}
