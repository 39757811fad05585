"""Step 2 of a run, beside the listing: take each batch as soon as the listing writes it, read its
members' Auth0 profiles in a few calls, then create each Okta user in the group (or add the
existing one, or restore a member who came back), recording each outcome as it happens.

One worker invocation runs until the listing is complete and every batch is done, or until its
Lambda deadline is near; it then answers ``{"next": <first batch not done>, "more": true}`` and
the state machine invokes it again from there (a loop of two transitions, not a child execution
per batch). Members are processed concurrently, as many in flight as the Okta create quota can
use (:class:`Concurrency`, sized from the rate-limit headers), and the HTTP layer's pacer spends
each window's quota from its first second and waits exactly for the reset.

One bad member never stops the run: profile problems and Okta validation errors become that
member's ``failed`` outcome with the reason. Rate limits and outages that outlast the HTTP
layer's retries propagate, so Step Functions retries the invocation; members already recorded
are then skipped. Each outcome is written conditionally on the version read, so two writers for
one member cannot both win.

Counts: each batch's result part (``result#000042``) counts every member of the batch once. A
member is counted with the outcome this run recorded for it: by this attempt, or by an earlier
attempt of the same batch (its item names the run, and it is skipped now), never as unchanged;
``unchanged`` is every member this run did not record (done by an earlier run, or another writer
got there first: ``conflict``). A redone batch is recounted whole, so its part stays exact however
often it is retried or redriven; the listing gives each member to one batch of a run only
(:mod:`~okta_auth0_sync.services.provisioning.members`), so the report adds the parts up.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base import container, counters
from okta_auth0_sync.base.errors import AlreadyExists, NotFound, RequestRejected, UpstreamUnavailable
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.deprovisioning import REMOVED, DeprovisionPolicy
from okta_auth0_sync.domain.policies import ProvisioningPolicy
from okta_auth0_sync.domain.profiles import okta_profile
from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.services.provisioning.deprovision import MemberContext, restore_member
from okta_auth0_sync.services.provisioning.usage import SharedUsage
from okta_auth0_sync.store.provisioning_state import DONE, StateTable

CREATE_BUCKET = "POST /api/v1/users"
FAILURE_SAMPLE = 100
DEADLINE_MARGIN = 60.0  # seconds kept before the Lambda deadline: no new batch is started after
POLL_SECONDS = 0.05  # waiting for the listing's next batch
MAX_CONCURRENCY = 32  # well under Okta's 75 concurrent requests per org
UNCHANGED, CONFLICT = "unchanged", "conflict"


class Concurrency:
    """How many members to have in flight: enough to spend what is left of the create quota in
    the rest of its window at the latency observed, never more than ``ceiling``. Re-read from the
    pacer's last rate-limit headers before each member (no fixed setting to tune)."""

    def __init__(self, okta: OktaClient, ceiling: int = MAX_CONCURRENCY, clock: Callable[[], float] = time.time):
        self.okta, self.ceiling, self.clock = okta, ceiling, clock
        self.latency = 0.2  # seconds per create, smoothed
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self.latency = 0.8 * self.latency + 0.2 * seconds

    def target(self) -> int:
        state = self.okta.http.limiter.snapshot(CREATE_BUCKET)
        if state is None:
            return 4  # no headers yet: a few, to learn the quota
        window_left = max(state.reset_at - self.clock(), 0.05)
        if state.remaining <= 0:
            return 1  # spent: the pacer holds everyone until the reset
        per_second = state.remaining / window_left
        return max(2, min(self.ceiling, math.ceil(per_second * self.latency * 2) + 1))


@dataclass
class BatchState:
    index: int
    futures: list[Future[dict[str, Any]]]
    settled: dict[str, int]  # members not processed again: recorded by this run already, or unchanged


class RunWorker:
    def __init__(
        self,
        options: RunOptions,
        *,
        auth0: Auth0Client,
        okta: OktaClient,
        state: StateTable,
        policy: ProvisioningPolicy,
        deprovision_policy: DeprovisionPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self.auth0 = auth0
        self.okta = okta
        self.state = state
        self.policy = policy
        self.member_context = MemberContext(
            options.mapping, options.run_id, deprovision_policy or DeprovisionPolicy(), dry_run=options.dry_run
        )
        self.concurrency = Concurrency(okta)
        self._clock, self._sleep = clock, sleep
        self._in_flight = threading.Semaphore(MAX_CONCURRENCY)
        self.thread_usage = SharedUsage()  # what the member threads spent (the handler records it)

    # -- the loop ------------------------------------------------------------------------------
    def run(self, next_batch: int) -> tuple[int, bool]:
        """Process batches from ``next_batch`` on; ``(first batch not done, more to do?)``."""
        open_batches: list[BatchState] = []
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENCY, thread_name_prefix="member") as pool:
            index = next_batch
            while True:
                progress = self.state.part(self.options.run_id, "progress") or {}
                written, complete = int(progress.get("batches", 0)), bool(progress.get("complete"))
                if progress.get("failed"):
                    break  # the listing failed for good: the run ends, nothing more comes
                if index < written and not self._deadline_near():
                    open_batches.append(self._start_batch(index, pool))
                    index += 1
                    self._close_done(open_batches, wait=len(open_batches) > 2)
                    continue
                if complete and index >= written:
                    break
                if self._deadline_near():
                    break
                self._close_done(open_batches, wait=False)
                self._sleep(POLL_SECONDS)
            self._close_done(open_batches, wait=True, everything=True)
        progress = self.state.part(self.options.run_id, "progress") or {}
        finished = bool(progress.get("complete")) and index >= int(progress.get("batches", 0))
        return index, not (finished or progress.get("failed"))

    def run_batch(self, index: int, user_ids: list[str]) -> dict[str, Any]:
        """One given batch, now (an event-driven caller's batch of one): the same per-member
        rules, outcomes and result part as a scheduled run's batch. Returns the batch's result."""
        with ThreadPoolExecutor(max_workers=MAX_CONCURRENCY, thread_name_prefix="member") as pool:
            self.state.put_summary(self.options.run_id, f"batch#{index:06d}", {"user_ids": user_ids})
            batches = [self._start_batch(index, pool)]
            self._close_done(batches, wait=True, everything=True)
        return self.state.part(self.options.run_id, f"result#{index:06d}") or {}

    def _deadline_near(self) -> bool:
        left = container.remaining_seconds()
        return left is not None and left < DEADLINE_MARGIN

    def _start_batch(self, index: int, pool: ThreadPoolExecutor) -> BatchState:
        batch = self.state.part(self.options.run_id, f"batch#{index:06d}") or {}
        user_ids = list(dict.fromkeys(batch.get("user_ids", [])))
        recorded = self.state.outcomes(self.options.mapping, user_ids)
        todo, settled = settle(self.options, user_ids, recorded)
        profiles = self.auth0.users_by_id(todo) if todo else {}
        futures = []
        for user_id in todo:
            while self._busy() >= self.concurrency.target():
                self._sleep(0.002)
            self._in_flight.acquire()
            futures.append(pool.submit(self._member_safely, user_id, profiles.get(user_id), recorded.get(user_id)))
        return BatchState(index, futures, settled)

    def _busy(self) -> int:
        return MAX_CONCURRENCY - self._in_flight._value

    def _close_done(self, batches: list[BatchState], *, wait: bool, everything: bool = False) -> None:
        """Record the counts of finished batches (oldest first); with ``wait``, wait for the
        oldest one (or all, ``everything``). Their results are exceptions re-raised here."""
        while batches:
            oldest = batches[0]
            if not (wait or all(f.done() for f in oldest.futures)):
                return
            counts = dict(oldest.settled)
            failures = []
            for future in oldest.futures:
                outcome = future.result()  # a member's exception fails the invocation (retried)
                key = outcome["outcome"] if outcome.pop("counted") else UNCHANGED
                counts[key] = counts.get(key, 0) + 1
                if key in ("failed", "would_fail"):
                    failures.append({"user_id": outcome["user_id"], "reason": outcome.get("reason", "")})
            self.state.put_summary(
                self.options.run_id,
                f"result#{oldest.index:06d}",
                {"counts": counts, "failures": failures[:FAILURE_SAMPLE], "failures_total": len(failures)},
            )
            batches.pop(0)
            if not everything:
                wait = False

    # -- one member ----------------------------------------------------------------------------
    def _member_safely(self, user_id: str, user: dict[str, Any] | None, item: dict[str, Any] | None) -> dict[str, Any]:
        started = time.monotonic()
        with counters.usage() as usage:
            try:
                outcome = self._member(user_id, user, item or {})
                self._record(outcome, item or {})
                return outcome
            finally:
                self.thread_usage.add(usage)
                self.concurrency.observe(time.monotonic() - started)
                self._in_flight.release()

    def _record(self, outcome: dict[str, Any], item: dict[str, Any]) -> None:
        """Write the member's outcome; ``counted``: this run recorded it (a dry run: what it would)."""
        recorded = outcome.pop("recorded", False)
        if self.options.dry_run or outcome["outcome"] == CONFLICT:
            outcome["counted"] = self.options.dry_run
        elif recorded:  # written already (a restore)
            outcome["counted"] = True
        elif item.get("outcome") == REMOVED and outcome["outcome"] not in DONE:
            outcome["counted"] = False  # a removed member still kept out (blocked, unverified...): unchanged
        elif self.state.write_member(
            self.options.mapping, self.options.run_id, outcome, seen_version=int(item.get("v") or 0)
        ):
            outcome["counted"] = True
        else:
            outcome.update(outcome=CONFLICT, counted=False)  # another writer got there first: theirs to count

    def _member(self, user_id: str, user: dict[str, Any] | None, item: dict[str, Any]) -> dict[str, Any]:
        dry = self.options.dry_run
        if user is None:
            return _failed(user_id, "Auth0 user not found (deleted after it was listed?)", dry)
        if self.policy.skip_blocked and user.get("blocked"):
            return {"user_id": user_id, "outcome": "would_skip" if dry else "skipped", "reason": "blocked in Auth0"}
        if not self.policy.trusts_email_of(user):
            # The email becomes (or finds) the Okta login: an unverified one could name someone
            # else's workforce account and pull it into the partner group. Re-checked every run.
            return {"user_id": user_id, "outcome": "unverified_email", "reason": "email not verified in Auth0"}
        if item.get("outcome") == REMOVED:
            restored = restore_member(user_id, item, context=self.member_context, okta=self.okta, state=self.state)
            if restored is not None:
                return {**restored, "recorded": not dry}
        checked = okta_profile(user, self.policy)
        if checked[1] is not None:  # (None, reason)
            return _failed(user_id, checked[1], dry)
        return self._into_group(user_id, checked[0])

    def _into_group(self, user_id: str, profile: dict[str, Any]) -> dict[str, Any]:
        """Create the member's Okta user in the group, or add the existing one."""
        dry = self.options.dry_run
        if dry:
            existing = self.okta.find_user(profile["login"])
            return {
                "user_id": user_id,
                "outcome": "would_add_existing" if existing else "would_create",
                "okta_user_id": existing.id if existing else None,
            }
        try:
            created = self._create(profile)
        except RequestRejected as exc:  # Okta validation (schema attribute missing, bad value...)
            return _failed(user_id, str(exc), dry)
        if created is not None:
            return {"user_id": user_id, "outcome": "provisioned", "okta_user_id": created, "created": True}
        existing = self.okta.find_user(profile["login"])
        if existing is None:  # E0000001 on another unique field (e.g. email), or deleted meanwhile
            return _failed(user_id, "Okta refused the login as taken but no user has it", dry)
        try:
            self.okta.add_to_group(self.options.mapping.group_id, existing.id)
        except NotFound:
            return _failed(user_id, f"Okta user {existing.id} vanished before the group add", dry)
        return {"user_id": user_id, "outcome": "existing_added", "okta_user_id": existing.id}

    def _create(self, profile: dict[str, Any]) -> str | None:
        """The new user's id, or None when the login exists already (E0000001)."""

        def create() -> str:
            return self.okta.create_user(
                profile,
                group_ids=[self.options.mapping.group_id],
                activate=self.policy.activate,
                federated=self.policy.federated,
            ).id

        try:
            return create()
        except AlreadyExists:
            return None
        except UpstreamUnavailable:
            # A 5xx on a create: it may or may not have happened. If the user exists now, it is
            # handled like E0000001 (group PUT); if not, the create is tried once more.
            if self.okta.find_user(profile["login"]) is not None:
                return None
            return create()


def settle(
    options: RunOptions, user_ids: list[str], recorded: dict[str, dict[str, Any]]
) -> tuple[list[str], dict[str, int]]:
    """A batch's members to process, and the counts of the others: a member in the group by an
    earlier attempt of this run counts with the outcome recorded then (once: it is not processed
    again, even on a ``recheck``); one in the group by an earlier run is ``unchanged`` (processed
    again on a ``recheck``)."""
    todo: list[str] = []
    settled: dict[str, int] = {}
    for user_id in user_ids:
        item = recorded.get(user_id, {})
        outcome = item.get("outcome")
        if outcome in DONE and not options.dry_run and item.get("run_id") == options.run_id:
            settled[outcome] = settled.get(outcome, 0) + 1
        elif outcome in DONE and not options.recheck:
            settled[UNCHANGED] = settled.get(UNCHANGED, 0) + 1
        else:
            todo.append(user_id)
    return todo, settled


def _failed(user_id: str, reason: str, dry_run: bool) -> dict[str, Any]:
    return {"user_id": user_id, "outcome": "would_fail" if dry_run else "failed", "reason": reason[:300]}


def record_worker_failure(
    options: RunOptions, state: StateTable, next_batch: int, error: str, cause: str, last_batch: int | None = None
) -> int:
    """The worker failed for good (after Step Functions' retries): every member of the batches not
    done, and not already in the group, is recorded as failed with the reason, so the report lists
    them and the next run retries them; each of those batches' result parts is recounted (members
    an earlier attempt of this run put in the group with that outcome). Returns how many were
    recorded."""
    progress = state.part(options.run_id, "progress") or {}
    recorded = 0
    end = int(progress.get("batches", 0)) if last_batch is None else last_batch + 1
    for index in range(next_batch, end):
        batch = state.part(options.run_id, f"batch#{index:06d}") or {}
        user_ids = list(dict.fromkeys(batch.get("user_ids", [])))
        items = state.outcomes(options.mapping, user_ids)
        counts: dict[str, int] = {}
        failures = []
        for user_id in user_ids:
            item = items.get(user_id, {})
            outcome = _failed(user_id, f"the run's worker failed: {error}: {cause}", options.dry_run)
            if item.get("outcome") in DONE:
                key = item["outcome"] if not options.dry_run and item.get("run_id") == options.run_id else UNCHANGED
            elif options.dry_run:
                key = outcome["outcome"]
            elif state.write_member(options.mapping, options.run_id, outcome, seen_version=int(item.get("v") or 0)):
                key = outcome["outcome"]
                recorded += 1
            else:
                key = UNCHANGED  # another writer got there first
            counts[key] = counts.get(key, 0) + 1
            if key == outcome["outcome"]:
                failures.append({"user_id": user_id, "reason": outcome["reason"]})
        state.put_summary(
            options.run_id,
            f"result#{index:06d}",
            {"counts": counts, "failures": failures[:FAILURE_SAMPLE], "failures_total": len(failures)},
        )
    return recorded
