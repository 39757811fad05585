"""What the fuzz suites tried, per entry point: inputs, 5xx answers, unhandled exceptions, failing
inputs. ``conftest.py`` counts every generated input of every ``@given`` test (it wraps the test's
inner function); a suite adds what only it can see with :func:`answer` (an HTTP status) and
:func:`unhandled` (an exception outside the entry point's contract). The figures are printed at the
end of the run (issue 10 wants them: inputs tried per entry point, 5xx seen: 0).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

# Inputs per generated test in each Hypothesis profile (registered by tests/fuzz/conftest.py).
EXAMPLES = {"ci": 300, "long": 20_000}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
# FUZZ_EXAMPLES=n: the profile with n inputs per test instead (a slice of a long run, to time it).
if os.environ.get("FUZZ_EXAMPLES"):
    EXAMPLES[PROFILE] = int(os.environ["FUZZ_EXAMPLES"])
FIELDS = ("inputs", "5xx", "unhandled", "failing")

counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
current: list[str] = []  # the entry point of the test running now (set by conftest around each test)


def _entry() -> str:
    return current[-1] if current else "unknown"


def answer(status: int) -> None:
    """Record an HTTP answer of the entry point under test (a 5xx is counted)."""
    counts[_entry()]["5xx"] += 1 if status >= 500 else 0
    counts[_entry()]["answers"] += 1


def unhandled(exc: BaseException) -> None:
    """Record an exception that escaped the entry point outside its contract."""
    counts[_entry()]["unhandled"] += 1
    counts[_entry()][f"unhandled:{type(exc).__name__}"] += 1


def merge(other: dict[str, dict[str, int]]) -> None:
    for entry, figures in other.items():
        counts[entry].update(figures)


def lines(minimum: int) -> list[str]:
    """The summary, one line per entry point (``minimum``: the profile's inputs per test)."""
    width = max((len(e) for e in counts), default=10)
    out = [f"{'entry point':<{width}}  {'inputs':>7}  {'5xx':>4}  {'unhandled':>9}  {'failing':>7}"]
    for entry in sorted(counts):
        c = counts[entry]
        note = f"  (fewer than {minimum})" if c["inputs"] < minimum else ""
        kinds = ", ".join(
            f"{k.split(':', 1)[1]} x{n}" for k, n in sorted(c.items()) if k.startswith(("unhandled:", "known bug:"))
        )
        out.append(
            f"{entry:<{width}}  {c['inputs']:>7}  {c['5xx']:>4}  {c['unhandled']:>9}  {c['failing']:>7}"
            + note
            + (f"  [{kinds}]" if kinds else "")
        )
    return out
