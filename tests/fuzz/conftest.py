"""Hypothesis profiles of the fuzz suites, and the plugin that prints their figures.

- ``ci`` (the default, what ``make test`` runs): 300 inputs per test, derandomized (the same
  inputs on every run: a failure in CI is a failure on a laptop), no example database;
- ``long`` (``HYPOTHESIS_PROFILE=long``, ``make fuzz-long``): 20,000 inputs per test, random,
  with the blob that replays a failure (``@reproduce_failure``) printed.

(The event hook's eight tests share its entry point's figure; ``FUZZ_EXAMPLES=n`` runs a profile
with n per test, to time a slice of it.)

The figures (inputs per entry point, 5xx answers, unhandled exceptions) are counted and printed by
``tests/fuzz/figures.py``, registered here unless a root conftest already names it.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.tally import EXAMPLES, PROFILE

_QUIET_CHECKS = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "ci",
    max_examples=EXAMPLES["ci"],
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_QUIET_CHECKS,
    print_blob=False,
)
settings.register_profile(
    "long",
    max_examples=EXAMPLES["long"],
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=_QUIET_CHECKS,
    print_blob=True,
)
settings.load_profile(PROFILE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz_entry(name): the entry point a fuzz test drives (for the figures)")
    if not config.pluginmanager.has_plugin("tests.fuzz.figures"):
        config.pluginmanager.import_plugin("tests.fuzz.figures")
