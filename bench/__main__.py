"""`python -m bench [name ...]`: run benchmarks and print their figures (all by default)."""

import sys

from bench import cold_start, thin_flow

BENCHMARKS = {"cold_start": cold_start.main, "thin_flow": thin_flow.main}


def main() -> int:
    names = [a for a in sys.argv[1:] if not a.startswith("-")] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        BENCHMARKS[name]([a for a in sys.argv[1:] if a.startswith("-")] if len(names) == 1 else [])
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
