"""Step 3 of a run: the report, built from what every step recorded in the state table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from okta_auth0_sync.domain.payloads.provisioning.report import RunReport
from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.store.provisioning_state import StateTable

FAILURES_IN_OUTPUT = 50


def build_report(
    options: RunOptions,
    state: StateTable,
    *,
    started_at: str | None,
    extra_usage: dict[str, Any],
    expected_batches: int,
) -> RunReport:
    parts = state.summaries(options.run_id)
    listing = parts.get("list", {})
    batches = {k: v for k, v in parts.items() if k.startswith("batch#") and "#attempt#" not in k}
    failed_attempts = [v for k, v in parts.items() if "#attempt#" in k]  # retried attempts: usage only
    counts: dict[str, int] = {}
    failures: list[dict[str, str]] = []
    failures_total = 0
    api_calls: dict[str, int] = {}
    rate_limited: dict[str, int] = {}
    tokens = 0
    for part in [listing, *batches.values(), *failed_attempts, extra_usage]:
        for outcome, n in part.get("counts", {}).items():
            counts[outcome] = counts.get(outcome, 0) + n
        failures.extend(part.get("failures", []))
        failures_total += part.get("failures_total", 0)
        usage = part.get("usage", {})
        for tenant, n in usage.get("api_calls", {}).items():
            api_calls[tenant] = api_calls.get(tenant, 0) + n
        for tenant, n in usage.get("rate_limited", {}).items():
            rate_limited[tenant] = rate_limited.get(tenant, 0) + n
        tokens += usage.get("tokens_minted", 0)
    unchanged = listing.get("unchanged", 0)
    if unchanged:
        counts["unchanged"] = counts.get("unchanged", 0) + unchanged
    duration = None
    if started_at:
        started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
        duration = round((datetime.now(UTC) - started).total_seconds(), 3)
    return RunReport(
        run=options,
        members=listing.get("members", 0),
        counts=dict(sorted(counts.items())),
        failed_members=failures[:FAILURES_IN_OUTPUT],
        failed_total=failures_total,
        batches_expected=expected_batches,
        batches_reported=len(batches),
        retried_attempts=len(failed_attempts),
        left_role=listing.get("left_role", 0),
        left_role_sample=listing.get("left_role_sample", []),
        api_calls=api_calls,
        rate_limited_responses=rate_limited,
        tokens_minted=tokens,
        duration_seconds=duration,
    )
