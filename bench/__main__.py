"""`python -m bench [name [options]]`: one benchmark with its options, or all of them (`make bench`),
each with its defaults except the convergence run, which takes 1,000 trials there (about 7 minutes
on two cores) instead of its 10,000 (`python -m bench convergence` for the full run)."""

import os
import sys

# Lambda's Python runtime ships boto3 without awscrt: sign as it does (tests/conftest.py does the same).
os.environ.setdefault("BOTO_DISABLE_CRT", "true")

from bench import (
    auth0_lifecycle,
    burst,
    cold_start,
    convergence,
    deactivation,
    provisioning,
    reconciliation,
    refresh_rotation,
    retry_budget,
    system_log_sweep,
    thin_flow,
)

BENCHMARKS = {
    "cold_start": cold_start.main,
    "thin_flow": thin_flow.main,
    "deactivation": deactivation.main,
    "convergence": convergence.main,
    "provisioning": provisioning.main,
    "reconciliation": reconciliation.main,
    "retry_budget": retry_budget.main,
    "burst": burst.main,
    "system_log_sweep": system_log_sweep.main,
    "auth0_lifecycle": auth0_lifecycle.main,
    "refresh_rotation": refresh_rotation.main,
}
IN_THE_FULL_RUN = {"convergence": ["--trials", "1000"], "burst": ["--events", "1000"]}


def main() -> int:
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        if args[0] not in BENCHMARKS:
            print(f"unknown benchmark {args[0]!r}; choose from {', '.join(BENCHMARKS)}")
            return 2
        BENCHMARKS[args[0]](args[1:])
        return 0
    for name, run in BENCHMARKS.items():
        run(IN_THE_FULL_RUN.get(name, []))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
