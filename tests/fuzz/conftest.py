"""Hypothesis profiles of the fuzz suites, and the figures they print.

- ``ci`` (the default, what ``make test`` runs): 300 inputs per test, derandomized (the same
  inputs on every run: a failure in CI is a failure on a laptop), no example database;
- ``long`` (``HYPOTHESIS_PROFILE=long``, ``make fuzz-long``): 20,000 inputs per test, random,
  with the blob that replays a failure (``@reproduce_failure``) printed.

Every input a ``@given`` test generates is counted for its entry point (the test's
``fuzz_entry`` mark, else the module's ``ENTRY_POINT``, else the module's name); the counts, the
5xx answers and the unhandled exceptions the suites record (``tests/fuzz/tally.py``) are printed
at the end of the run, under "fuzz: inputs per entry point".
"""

from __future__ import annotations

import functools
import json
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.errors import HypothesisException

from tests.fuzz import tally

_QUIET_CHECKS = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET_CHECKS,
    print_blob=False,
)
settings.register_profile(
    "long",
    max_examples=20_000,
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=_QUIET_CHECKS,
    print_blob=True,
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz_entry(name): the entry point a fuzz test drives (for the figures)")


def _entry_point(item: pytest.Item) -> str:
    mark = item.get_closest_marker("fuzz_entry")
    if mark is not None:
        return str(mark.args[0])
    module = getattr(item, "module", None)
    declared = getattr(module, "ENTRY_POINT", None)
    if declared:
        return str(declared)
    name = item.path.stem
    return "functions/" + name.removeprefix("test_") if name != "test_cli" else "cli"


def _counted(inner):
    """``inner`` (a @given test's body), counting each input it is called with."""

    @functools.wraps(inner)
    def run(*args, **kwargs):
        entry = tally.current[-1] if tally.current else "unknown"
        try:
            result = inner(*args, **kwargs)
        except HypothesisException:  # assume() rejected the input: not an input tried
            raise
        except Exception:
            tally.counts[entry]["inputs"] += 1
            tally.counts[entry]["failing"] += 1
            raise
        tally.counts[entry]["inputs"] += 1
        return result

    run._fuzz_counted = True  # type: ignore[attr-defined]
    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None and not getattr(handle.inner_test, "_fuzz_counted", False):
            handle.inner_test = _counted(handle.inner_test)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    tally.current.append(_entry_point(item))
    try:
        return (yield)
    finally:
        tally.current.pop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller prints the sum
        workeroutput["fuzz_tally"] = json.dumps({e: dict(c) for e, c in tally.counts.items()})


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    data = getattr(node, "workeroutput", {}).get("fuzz_tally")
    if data:
        tally.merge(json.loads(data))


def pytest_terminal_summary(terminalreporter) -> None:
    if not tally.counts or hasattr(terminalreporter.config, "workerinput"):
        return
    terminalreporter.write_sep("=", f"fuzz: inputs per entry point (profile {PROFILE})")
    for line in tally.lines(settings().max_examples):
        terminalreporter.write_line(line)
