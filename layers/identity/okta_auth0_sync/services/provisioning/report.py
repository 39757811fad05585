"""Step 3 of a run: the report, built from what every step recorded in the state table.

- Member counts: the parts' counts added up, one read per batch's result, not per member. Each
  member of a run is one part's (a batch's, or deprovisioning's: the listing sees to it), and each
  part counts each of its members once, with the outcome this run recorded for it (a member an
  earlier attempt of the part recorded counts with that outcome, and the part is recounted whole
  when redone). ``unchanged`` is every other role member. A part that was never written (its
  step and the recording of its failure both failed for good) is counted from its members'
  items, which name the run that wrote them. A dry run writes no outcome: its counts are its
  batches' results (each batch's last, complete attempt).
- Usage: every invocation of every step recorded what it spent (``usage#...`` parts), failed
  attempts included: API calls per tenant, 429s, tokens, Lambda seconds.
- Cost: billed state transitions (Standard workflows bill every state entered, every retry
  included: :data:`FIXED_TRANSITIONS` plus one per task invocation plus one per worker loop
  choice), Lambda requests and GB-seconds, at the list prices below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from okta_auth0_sync.domain.deprovisioning import NOT_ROLE_MEMBERS, REMOVED
from okta_auth0_sync.domain.payloads.provisioning.report import RunCost, RunReport
from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.store.provisioning_state import StateTable

FAILURES_IN_OUTPUT = 50
# States of a run entered exactly once: OneMappingOrMany, EnsureTokens, Work (Parallel),
# StartWorker, WorkerDone, BuildReport. Every task invocation (retries included) is one more; so
# is every MoreWork? choice after a worker invocation that returned.
FIXED_TRANSITIONS = 6
PRICE_PER_TRANSITION = 0.025 / 1000  # Step Functions Standard, us-east-1
PRICE_PER_REQUEST = 0.20 / 1_000_000  # Lambda
PRICE_PER_GB_SECOND = 0.0000133334  # Lambda arm64
NOT_COUNTED = frozenset({"unchanged", "conflict"})  # in a result part: members this run did not record


def build_report(
    options: RunOptions,
    state: StateTable,
    *,
    started_at: str | None,
    tokens_minted: int,
    report_memory_mb: int = 512,
    departures: Callable[[], list[str]] | None = None,
) -> RunReport:
    """``departures``: the ids of the members the listing found departed (read only when the
    deprovisioning step left no part although there were some)."""
    run_id = options.run_id
    progress = state.part(run_id, "progress") or {}
    by_part = state.summaries(run_id, "result#")
    results = [v for _, v in sorted(by_part.items())]
    usages = list(state.summaries(run_id, "usage#").values())
    deprovisioning = state.part(run_id, "deprovision")
    # A run without a listing (an event-driven batch): its members are the batches' members.
    members = int(progress.get("members", 0)) if progress else sum(sum(r.get("counts", {}).values()) for r in results)
    if options.dry_run:
        counts = _dry_counts(results, progress)
    else:
        counts = _run_counts(options, state, progress, by_part, deprovisioning, members, departures)
    failures = [f for r in results for f in r.get("failures", [])]
    failures_total = sum(int(r.get("failures_total", 0)) for r in results)
    api_calls: dict[str, int] = {}
    rate_limited: dict[str, int] = {}
    tokens = tokens_minted
    for usage in usages:
        for tenant, n in usage.get("api_calls", {}).items():
            api_calls[tenant] = api_calls.get(tenant, 0) + n
        for tenant, n in usage.get("rate_limited", {}).items():
            rate_limited[tenant] = rate_limited.get(tenant, 0) + n
        tokens += int(usage.get("tokens_minted", 0))
    duration = None
    if started_at:
        started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        duration = round((datetime.now(UTC) - started).total_seconds(), 3)
    return RunReport(
        run=options,
        members=members,
        counts=dict(sorted(counts.items())),
        failed_members=failures[:FAILURES_IN_OUTPUT],
        failed_total=failures_total,
        batches=int(progress.get("batches", 0)),
        listing_complete=bool(progress.get("complete")),
        left_role=int(progress.get("left_role", 0)),
        left_role_sample=list(progress.get("left_role_sample", [])),
        deprovisioning=deprovisioning,
        api_calls=api_calls,
        rate_limited_responses=rate_limited,
        tokens_minted=tokens,
        duration_seconds=duration,
        cost=run_cost(usages, report_memory_mb),
    )


def _run_counts(
    options: RunOptions,
    state: StateTable,
    progress: dict[str, Any],
    results: dict[str, dict[str, Any]],
    deprovisioning: dict[str, Any] | None,
    members: int,
    departures: Callable[[], list[str]] | None,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    in_role = 0  # counted role members (blocked members who were removed are still in the role)
    for result in results.values():
        for outcome, n in result.get("counts", {}).items():
            if outcome not in NOT_COUNTED:
                counts[outcome] = counts.get(outcome, 0) + n
                in_role += n
    missing = [f"batch#{i:06d}" for i in range(int(progress.get("batches", 0))) if f"result#{i:06d}" not in results]
    if missing:  # the worker, and the recording of its failure, failed for good
        batches = state.parts(options.run_id, missing)
        in_role += _count_items(options, state, [u for b in batches.values() for u in b.get("user_ids", [])], counts)
    if deprovisioning is not None:
        removed = int(deprovisioning.get("counts", {}).get(REMOVED, 0))
        if removed:
            counts[REMOVED] = counts.get(REMOVED, 0) + removed
        in_role += int(deprovisioning.get("removed_in_role", 0))
    elif departures is not None and int(progress.get("left_role", 0)) + int(progress.get("blocked", 0)):
        in_role += _count_items(options, state, departures(), counts)  # the step failed for good
    if members - in_role > 0:
        counts["unchanged"] = members - in_role
    return counts


def _count_items(options: RunOptions, state: StateTable, user_ids: list[str], counts: dict[str, int]) -> int:
    """Add the outcomes this run recorded for these members (their items) to ``counts``; returns
    how many of them are role members."""
    in_role = 0
    for item in state.outcomes(options.mapping, user_ids).values():
        if item.get("run_id") == options.run_id:
            outcome = item.get("outcome", "unknown")
            counts[outcome] = counts.get(outcome, 0) + 1
            in_role += not (outcome == REMOVED and item.get("departed") in NOT_ROLE_MEMBERS)
    return in_role


def _dry_counts(results: list[dict[str, Any]], progress: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        for outcome, n in result.get("counts", {}).items():
            counts[outcome] = counts.get(outcome, 0) + n
    unchanged = int(progress.get("unchanged", 0))
    if unchanged:
        counts["unchanged"] = counts.get("unchanged", 0) + unchanged
    return counts


def run_cost(usages: list[dict[str, Any]], report_memory_mb: int) -> RunCost:
    """Billed transitions and the AWS cost of the run from what every invocation recorded (the
    report's own invocation and the token step are counted as one request each, at 1 s)."""
    invocations = len(usages)
    loops = sum(1 for u in usages if u.get("step") == "worker" and u.get("ok"))
    transitions = FIXED_TRANSITIONS + invocations + loops
    gb_seconds = sum(float(u.get("seconds", 0)) * int(u.get("memory_mb", 0)) / 1024 for u in usages)
    gb_seconds += 2 * 1.0 * report_memory_mb / 1024  # EnsureTokens and BuildReport, estimated
    requests = invocations + 2
    dollars = transitions * PRICE_PER_TRANSITION + requests * PRICE_PER_REQUEST + gb_seconds * PRICE_PER_GB_SECOND
    return RunCost(
        state_transitions=transitions,
        lambda_requests=requests,
        lambda_gb_seconds=round(gb_seconds, 1),
        dollars=round(dollars, 5),
    )
