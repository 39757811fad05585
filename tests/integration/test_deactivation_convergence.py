"""Convergence under concurrency (testbed/convergence.py has the trials and the checks).

Each trial is one person with one to three Auth0 accounts (emails in different letter cases) and
a random history of two to four lifecycle events (up to six in the benchmark), delivered in
random batches with duplicates, all of a round at once, some with a concurrent on-demand sync,
while Auth0 answers some calls with 429 or 503. Every account must end in the state of the newest
event.

Two layers (the suite must stay fast; the long run is ``python -m bench convergence``):
200 trials at the metadata-update task (the real handler, ledger and sandbox Auth0, invoked
concurrently as containers would), and 24 through the real hook and the real state machine.
``CONVERGENCE_SEED`` reproduces a run.
"""

import os
import random

import pytest

from okta_auth0_sync import counters
from testbed.apigateway import LocalHttpApi
from testbed.convergence import deliver_round, invoke_round, plan_trial, wrong_final_states
from testbed.deployment import LocalDeployment

from .conftest import HOOK_SECRET, connection_secrets

SEED = int(os.environ.get("CONVERGENCE_SEED", "20261130"))
TASK_TRIALS = int(os.environ.get("CONVERGENCE_TASK_TRIALS", "200"))
HOOK_TRIALS = int(os.environ.get("CONVERGENCE_HOOK_TRIALS", "24"))
PER_ROUND = 40
MAX_EVENTS = 4  # per trial here; the benchmark draws up to 6


@pytest.fixture
def suspensions_stack(sb, credentials):
    counters.api_calls.reset()
    with LocalDeployment(
        connection_secrets(credentials),
        parameters={"OktaDomain": sb.okta.domain, "Auth0Domain": sb.auth0.domain, "SyncSuspensions": "true"},
    ) as stack:
        sb.auth0.faults.reseed(SEED)
        sb.auth0.faults.error(route="/api/v2/users*", status=503, probability=0.02)
        sb.auth0.faults.error(route="/api/v2/users*", status=429, probability=0.002)
        yield stack


def _rounds(sb, rng, count, salt):
    for start in range(0, count, PER_ROUND):
        yield [plan_trial(sb, rng, i, salt, MAX_EVENTS) for i in range(start, min(start + PER_ROUND, count))]


def test_concurrent_task_invocations_converge_on_the_newest_event(sb, suspensions_stack):
    rng, problems = random.Random(SEED), []
    for trials in _rounds(sb, rng, TASK_TRIALS, f"task{SEED}"):
        problems += invoke_round(suspensions_stack, trials)
        problems += wrong_final_states(sb, suspensions_stack, trials)
    assert not problems, f"seed {SEED}: {len(problems)} problems, e.g. {problems[:5]}"
    assert sum(f.fired for f in sb.auth0.faults.list()) > 0  # the injected faults did fire


def test_concurrent_hook_deliveries_converge_through_the_state_machine(sb, suspensions_stack):
    rng, problems, executions = random.Random(SEED + 1), [], 0
    with LocalHttpApi(suspensions_stack) as api:
        for trials in _rounds(sb, rng, HOOK_TRIALS, f"hook{SEED}"):
            deliver_round(suspensions_stack, f"{api.url}/okta/event-hook", HOOK_SECRET, trials)
            problems += wrong_final_states(sb, suspensions_stack, trials)
            executions += sum(len(t.arns) for t in trials)
    assert not problems, f"seed {SEED}: {len(problems)} problems, e.g. {problems[:5]}"
    assert executions >= HOOK_TRIALS * 2
