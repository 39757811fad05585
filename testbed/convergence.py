"""Randomised convergence trials for the deactivation sync, through the real hook and state machine.

One *trial* is one person: an Okta user and one to three Auth0 accounts with the same email in
different letter cases, and a random history of lifecycle events (deactivate, reactivate,
activate, suspend, unsuspend; published times that collide on purpose). The events are cut into
random deliveries, some events duplicated (at-least-once), and every delivery of every trial in
a round is POSTed to the event hook at once, from its own thread, optionally together with an
on-demand sync (the invoke API's execution input) and injected 429/5xx answers from Auth0.

Afterwards every account must be in the state of the newest event (by ``published``; a tie goes
to deactivated): flag, block and the event's uuid; and the person's accounts must agree. Trials
are independent people, so a round runs many at once; the seed makes every round reproducible.

Two layers drive the same trials:

- **through the hook** (:func:`deliver_round`): HTTP deliveries to the local API Gateway, the
  receiver starting executions of the real ASL in moto, every task routed to our handlers;
- **at the task** (:func:`invoke_round`): the real ``UpdateMetadataFunction`` handler invoked
  concurrently, one invocation per delivered event (duplicates included) as concurrent
  containers would run it, with a retryable error re-invoked as the state machine's ``Retry``
  would. Ten times cheaper, so it carries the large trial counts.

Used by tests/integration/test_deactivation_convergence.py and ``python -m bench convergence``.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from . import fidelity

MACHINE = "DeactivationSyncStateMachine"
STATUS_OF = {
    "user.lifecycle.deactivate": "DEPROVISIONED",
    "user.lifecycle.suspend": "SUSPENDED",
    "user.lifecycle.reactivate": "ACTIVE",
    "user.lifecycle.activate": "ACTIVE",
    "user.lifecycle.unsuspend": "ACTIVE",
}
DEACTIVATING = ("user.lifecycle.deactivate", "user.lifecycle.suspend")
# What the state machine derives from the Okta status for an on-demand sync (EventFromStatus).
ON_DEMAND_TYPE = {
    "DEPROVISIONED": "user.lifecycle.deactivate",
    "SUSPENDED": "user.lifecycle.suspend",
    "ACTIVE": "user.lifecycle.reactivate",
}
# The errors the deactivation-sync state machine's Retry blocks name.
RETRIED = frozenset({"RateLimited", "UpstreamUnavailable", "LedgerContention"})
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CASINGS: tuple[Callable[[str], str], ...] = (str.lower, str.upper, str.title, lambda s: s)


@dataclass
class Trial:
    index: int
    okta_user_id: str
    email: str
    accounts: list[str]
    events: list[dict[str, Any]]
    deliveries: list[list[dict[str, Any]]]
    on_demand: bool
    arns: list[str] = field(default_factory=list)

    @property
    def newest(self) -> dict[str, Any]:
        return max(self.events, key=lambda e: (e["published"], e["eventType"] in DEACTIVATING))

    @property
    def expect_deactivated(self) -> bool:
        return self.newest["eventType"] in DEACTIVATING

    @property
    def acceptable_uuids(self) -> set[str]:
        """The newest events: at one instant, events of the same rank are equally newest."""
        newest = self.newest
        return {
            e["uuid"]
            for e in self.events
            if e["published"] == newest["published"] and (e["eventType"] in DEACTIVATING) == self.expect_deactivated
        }


def _event(rng: random.Random, okta_user_id: str, login: str, base: datetime) -> dict[str, Any]:
    event_type = rng.choice(list(STATUS_OF))
    published = base + timedelta(milliseconds=rng.randint(0, 6))  # few instants: ties happen
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
        "eventType": event_type,
        "published": published.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "outcome": {"result": "SUCCESS"},
        "actor": {"id": "00uAdmin", "type": "User"},
        "target": [{"id": okta_user_id, "type": "User", "alternateId": login}],
    }


def _deliveries(rng: random.Random, events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    sent = list(events) + [e for e in events if rng.random() < 0.3]  # at least once
    rng.shuffle(sent)
    cuts = sorted(rng.sample(range(1, len(sent)), k=rng.randint(0, len(sent) - 1))) if len(sent) > 1 else []
    bounds = [0, *cuts, len(sent)]
    return [sent[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def plan_trial(sb: Any, rng: random.Random, index: int, salt: str, max_events: int = 6) -> Trial:
    """Create the person in both sandboxes and draw their history of 2 to ``max_events`` events."""
    email = rng.choice(CASINGS)(f"conv.{salt}.{index}@Convergence.example")
    okta_user_id = "00u" + "".join(
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(17)
    )
    base = EPOCH + timedelta(seconds=index)
    events = [_event(rng, okta_user_id, email, base) for _ in range(rng.randint(2, max_events))]
    trial = Trial(
        index=index,
        okta_user_id=okta_user_id,
        email=email,
        accounts=[],
        events=events,
        deliveries=_deliveries(rng, events),
        on_demand=rng.random() < 0.25,
    )
    # Okta's current status is the newest event's, so an on-demand sync agrees with the events.
    sb.okta.add_user(
        {"login": email, "email": email, "firstName": "Conv", "lastName": str(index)},
        status=STATUS_OF[trial.newest["eventType"]],
        user_id=okta_user_id,
    )
    trial.accounts.append(
        sb.auth0.add_user(
            connection="Username-Password-Authentication", email=email.lower(), app_metadata={"plan": "gold"}
        )["user_id"]
    )
    for connection in rng.sample(["okta-workforce", "google-oauth2"], k=rng.randint(0, 2)):
        trial.accounts.append(
            sb.auth0.add_user(connection=connection, email=rng.choice(CASINGS)(email), app_metadata={"plan": "gold"})[
                "user_id"
            ]
        )
    return trial


def deliver_round(stack: Any, hook_url: str, secret: str, trials: list[Trial]) -> None:
    """Every delivery (and on-demand start) of every trial at once, each from its own thread."""
    jobs: list[Callable[[], None]] = []
    for trial in trials:
        for batch in trial.deliveries:
            jobs.append(lambda b=batch: _post(hook_url, secret, b))
        if trial.on_demand:
            jobs.append(
                lambda t=trial: t.arns.append(stack.start_execution(MACHINE, {"okta_user": {"id": t.okta_user_id}}))
            )
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:  # reported below, with the trial's seed
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    for trial in trials:
        trial.arns.extend(
            stack.execution_arn(MACHINE, e["uuid"]) for e in {e["uuid"]: e for e in trial.events}.values()
        )


def invoke_round(stack: Any, trials: list[Trial], *, attempts: int = 6, concurrency: int = 12) -> list[str]:
    """Every delivered event (and on-demand sync) of every trial as a concurrent invocation of the
    metadata-update task. Returns invocations that still failed after ``attempts``."""
    jobs: list[dict[str, Any]] = []
    for trial in trials:
        person = {"id": trial.okta_user_id, "email": trial.email}
        for batch in trial.deliveries:
            jobs.extend(
                {"okta_user": person, "event": {"uuid": e["uuid"], "type": e["eventType"], "published": e["published"]}}
                for e in batch
            )
        if trial.on_demand:
            jobs.append(
                {
                    "okta_user": person,
                    "event": {
                        "uuid": str(uuid.uuid4()),
                        "type": ON_DEMAND_TYPE[STATUS_OF[trial.newest["eventType"]]],
                        "published": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    },
                }
            )
    failures: list[str] = []

    def run(payload: dict[str, Any]) -> None:
        for _ in range(attempts):
            try:
                stack.invoke("UpdateMetadataFunction", payload)
                return
            except Exception as exc:  # a retryable error is what the state machine retries
                if not getattr(exc, "retryable", False) and type(exc).__name__ not in RETRIED:
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    failures.append(
                        f"{payload['event']['uuid']}: {type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})"
                    )
                    return
                time.sleep(0.05)
        failures.append(f"{payload['event']['uuid']}: still failing after {attempts} attempts")

    # A trial's invocations are adjacent in the queue, so they run at the same time as each other.
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(run, jobs))
    return failures


def _post(hook_url: str, secret: str, batch: list[dict[str, Any]], attempts: int = 6) -> None:
    """Deliver as Okta does, retrying a 5xx. Okta retries once; this retries a few times more
    because a 2-core machine running every container of a burst at once is far slower at
    ``StartExecution`` than AWS, and a delivery lost for good is not what these trials test."""
    body = json.dumps({"eventType": "com.okta.event_hook", "eventId": str(uuid.uuid4()), "data": {"events": batch}})
    for attempt in range(attempts):
        response = requests.post(
            hook_url, data=body, timeout=30, headers={"Authorization": secret, "Content-Type": "application/json"}
        )
        if response.status_code == 204:
            return
        if response.status_code < 500:
            break
        time.sleep(0.2 * (attempt + 1))
    raise AssertionError(f"hook answered {response.status_code}: {response.text[:200]}")


def _interpreter_fault(runs: list[Any]) -> str:
    """For an execution that failed with ``States.Runtime``: the newest exception moto's
    interpreter raised inside a task, with its traceback (the cause alone names no line)."""
    faults = fidelity.interpreter_faults()
    if faults and any(r.error == "States.Runtime" for r in runs):
        return f"; the interpreter's newest fault: {faults[-1]}"
    return ""


def wrong_final_states(sb: Any, stack: Any, trials: list[Trial], *, policy_key: str = "okta_sync") -> list[str]:
    """Every way a trial did not converge (empty: all right). Executions are waited for when
    the trials went through the hook."""
    problems: list[str] = []
    for trial in trials:
        runs = [stack.wait(arn, timeout=300, history=False) for arn in trial.arns]
        failed = [f"{r.name}: {r.status} {r.error} {r.cause_message}" for r in runs if r.status != "SUCCEEDED"]
        if failed:
            problems.append(f"trial {trial.index}: executions failed: {failed}{_interpreter_fault(runs)}")
        problems += _account_problems(sb, trial, policy_key)
    return problems


def _account_problems(sb: Any, trial: Trial, policy_key: str) -> list[str]:
    expected, problems = trial.expect_deactivated, []
    for account in trial.accounts:
        user = sb.auth0.get_user(account) or {}
        record = (user.get("app_metadata") or {}).get(policy_key) or {}
        state = (record.get("deactivated"), user.get("blocked", False))
        if state != (expected, expected) or user.get("app_metadata", {}).get("plan") != "gold":
            problems.append(
                f"trial {trial.index}: account {account} is (flag, blocked)={state}, "
                f"expected {expected} after {trial.newest['eventType']} {trial.newest['uuid']}"
            )
        elif not trial.on_demand and record.get("event_uuid") not in trial.acceptable_uuids:
            problems.append(
                f"trial {trial.index}: account {account} carries event "
                f"{record.get('event_uuid')}, expected one of {sorted(trial.acceptable_uuids)}"
            )
    return problems
