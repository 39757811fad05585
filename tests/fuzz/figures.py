"""The fuzz suites' figures, as a pytest plugin: every input a ``@given`` test generates is counted
for its entry point (the test's ``fuzz_entry`` mark, else its module's ``ENTRY_POINT``, else the
module's name), with the 5xx answers and unhandled exceptions the suites record
(``tests/fuzz/tally.py``), and printed at the end of the run under "fuzz: inputs per entry point".

``tests/fuzz/conftest.py`` registers this plugin (``pytest tests/fuzz``, ``make fuzz-long``). Under
pytest-xdist each worker counts its own tests and the controller adds them up: for the controller of
a run that does not start in ``tests/fuzz`` (plain ``pytest``, ``make test``) to print them too, a
root conftest names it: ``pytest_plugins = ["tests.fuzz.figures"]``.
"""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis.errors import HypothesisException

from tests.fuzz import tally


def _entry_point(item: pytest.Item) -> str:
    mark = item.get_closest_marker("fuzz_entry")
    if mark is not None:
        return str(mark.args[0])
    declared = getattr(getattr(item, "module", None), "ENTRY_POINT", None)
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
        if (
            handle is not None
            and item.path.parent.name == "fuzz"
            and not getattr(handle.inner_test, "_fuzz_counted", False)
        ):
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
    terminalreporter.write_sep("=", f"fuzz: inputs per entry point (profile {tally.PROFILE})")
    for line in tally.lines(tally.EXAMPLES.get(tally.PROFILE, 0)):
        terminalreporter.write_line(line)
