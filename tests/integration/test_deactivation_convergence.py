"""Convergence under concurrency (testbed/convergence.py has the trials and the checks).

Each trial is one person with one to three Auth0 accounts (emails in different letter cases) and
a random history of two to four lifecycle events (up to six in the benchmark), delivered in
random batches with duplicates, all of a round at once, some with a concurrent on-demand sync,
while Auth0 answers some calls with 429 or 503. Every account must end in the state of the newest
event.

Two layers (the suite must stay fast; the long run is ``python -m bench convergence``):
200 trials at the metadata-update task (the real handler, ledger and sandbox Auth0, invoked
concurrently as containers would), in two halves of 100 with trials of their own, which a
parallel run starts at once on two workers; and 24 through the real hook and the real state
machine. ``CONVERGENCE_SEED`` reproduces a run.
"""

import os
import random
import threading

import pytest

from okta_auth0_sync import settings
from okta_auth0_sync.base import container, counters
from okta_auth0_sync.domain.events import LifecycleEvent
from okta_auth0_sync.runtime import connections
from okta_auth0_sync.services.deactivation import PersonSync
from okta_auth0_sync.services.revocation import AccessRevoker
from okta_auth0_sync.store.ledger import Ledger
from okta_auth0_sync_testbed.apigateway import LocalHttpApi
from okta_auth0_sync_testbed.convergence import deliver_round, invoke_round, plan_trial, wrong_final_states
from okta_auth0_sync_testbed.deployment import LocalDeployment
from okta_auth0_sync_testbed.timescale import scaled_client_waits

from .conftest import HOOK_SECRET, connection_secrets

SEED = int(os.environ.get("CONVERGENCE_SEED", "20261130"))
TASK_TRIALS = int(os.environ.get("CONVERGENCE_TASK_TRIALS", "200"))
TASK_PARTS = 2  # the task trials in halves: separate tests, so two workers run them at once
HOOK_TRIALS = int(os.environ.get("CONVERGENCE_HOOK_TRIALS", "24"))
PER_ROUND = 40
# Races, not waiting, are under test: the library's waits (backoff after a 503, the pause until a
# 429's reset) are computed as always and slept for a tenth of their length.
WAIT_SCALE = 0.1
MAX_EVENTS = 4  # per trial here; the benchmark draws up to 6


@pytest.fixture
def suspensions_stack(sb, credentials):
    counters.api_calls.reset()
    with (
        LocalDeployment(
            connection_secrets(credentials),
            parameters={
                "OktaDomain": sb.okta.domain,
                "Auth0Domain": sb.auth0.domain,
                "SyncSuspensions": "true",
                # Races, not throttling, are under test here: every invocation runs at once (the test
                # bed honours reserved concurrency; tests/integration/test_deactivation_burst.py covers it).
                "DeactivationConcurrency": "50",
                "LookupConcurrency": "50",
            },
        ) as stack,
        scaled_client_waits(WAIT_SCALE),
    ):
        sb.auth0.faults.reseed(SEED)
        sb.auth0.faults.error(route="/api/v2/users*", status=503, probability=0.02)
        sb.auth0.faults.error(route="/api/v2/users*", status=429, probability=0.002)
        yield stack


def _rounds(sb, rng, count, salt):
    for start in range(0, count, PER_ROUND):
        yield [plan_trial(sb, rng, i, salt, MAX_EVENTS) for i in range(start, min(start + PER_ROUND, count))]


@pytest.mark.slow
@pytest.mark.parametrize("part", range(TASK_PARTS))
def test_concurrent_task_invocations_converge_on_the_newest_event(sb, suspensions_stack, part):
    count = TASK_TRIALS // TASK_PARTS + (part < TASK_TRIALS % TASK_PARTS)  # together: TASK_TRIALS
    rng, problems = random.Random(f"{SEED}/{part}"), []
    for trials in _rounds(sb, rng, count, f"task{SEED}.{part}"):
        problems += invoke_round(suspensions_stack, trials)
        problems += wrong_final_states(sb, suspensions_stack, trials)
    assert not problems, f"seed {SEED} part {part}: {len(problems)} problems, e.g. {problems[:5]}"
    assert sum(f.fired for f in sb.auth0.faults.list()) > 0  # the injected faults did fire


@pytest.mark.slow
def test_concurrent_hook_deliveries_converge_through_the_state_machine(sb, suspensions_stack):
    rng, problems, executions = random.Random(SEED + 1), [], 0
    with LocalHttpApi(suspensions_stack) as api:
        for trials in _rounds(sb, rng, HOOK_TRIALS, f"hook{SEED}"):
            deliver_round(suspensions_stack, f"{api.url}/okta/event-hook", HOOK_SECRET, trials)
            problems += wrong_final_states(sb, suspensions_stack, trials)
            executions += sum(len(t.arns) for t in trials)
    assert not problems, f"seed {SEED}: {len(problems)} problems, e.g. {problems[:5]}"
    assert executions >= HOOK_TRIALS * 2


class GatedAuth0:
    """The real Auth0 client, except that the first PATCH waits at a gate: the moment between an
    execution's last check and its write, held open so another execution can run through it."""

    def __init__(self, client):
        self._client = client
        self.at_gate, self.release = threading.Event(), threading.Event()
        self._gated = False

    def __getattr__(self, name):
        return getattr(self._client, name)

    def update_user(self, user_id, body):
        if not self._gated:
            self._gated = True
            self.at_gate.set()
            assert self.release.wait(30)
        return self._client.update_user(user_id, body)


def test_a_stale_write_landing_last_is_repaired_by_its_own_execution(sb, suspensions_stack):
    """The race issue 8 measured: deactivate (t1) -> reactivate (t2) -> deactivate (t3) for one
    person, run at once. The reactivation reads the account and passes its checks, then the newest
    deactivation runs through completely, then the reactivation's stale PATCH lands last. Its
    commit finds the ledger moved on, so it applies the newest state again before it finishes."""
    email = "race.person@acme.example"
    account = sb.auth0.add_user(connection="Username-Password-Authentication", email=email)["user_id"]
    okta_id = sb.okta.add_user({"login": email, "email": email, "firstName": "Race", "lastName": "Person"})["id"]
    config = settings.current()
    policy = config.sync_policy

    def sync(client, uuid, event_type, published):
        runner = PersonSync(
            auth0=client,
            ledger=Ledger(config.require("ledger_table")),
            policy=policy,
            revoker=AccessRevoker(client, policy.revoke),
        )
        return runner.run(LifecycleEvent(uuid, event_type, published, okta_id), email)

    with container.invocation(None):
        auth0 = connections.auth0()
        sync(auth0, "e1", "user.lifecycle.deactivate", "2026-01-01T10:00:00.000Z")
        gated = GatedAuth0(auth0)
        stale: dict = {}
        reactivation = threading.Thread(
            target=lambda: stale.update(
                sync(gated, "e2", "user.lifecycle.reactivate", "2026-01-01T10:00:01.000Z").to_payload()
            )
        )
        reactivation.start()
        assert gated.at_gate.wait(30)  # read, checked, about to write "reactivated"
        newest = sync(auth0, "e3", "user.lifecycle.deactivate", "2026-01-01T10:00:02.000Z")
        assert newest.recorded == "newest" and sb.auth0.get_user(account)["blocked"] is True
        gated.release.set()  # the stale reactivation lands last
        reactivation.join(30)
    user = sb.auth0.get_user(account)
    assert (user["blocked"], user["app_metadata"]["okta_sync"]["deactivated"]) == (True, True)
    assert user["app_metadata"]["okta_sync"]["event_uuid"] == "e3"
    assert stale["applied"]["event_uuid"] == "e3"  # it re-applied the newest before finishing
