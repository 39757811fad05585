"""A run's report: ``provisioning_report``'s input and answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.events import parse_time
from okta_auth0_sync.domain.payloads import event_object, optional_count, optional_object
from okta_auth0_sync.domain.provisioning import RunOptions


@dataclass(frozen=True)
class ReportInput:
    """``provisioning_report``'s input (``BuildReport``): ``{"run", "members": <the listing>,
    "started_at", "tokens_minted"}``. Without a Map (nothing to do) ``members.batches`` is 0 and
    ``tokens_minted`` may be null."""

    run: RunOptions
    started_at: str | None
    tokens_minted: int
    expected_batches: int

    @classmethod
    def from_payload(cls, payload: Any) -> ReportInput:
        event = event_object(payload)
        run = RunOptions.from_payload(event.get("run") or {})
        started_at = event.get("started_at")
        if started_at is not None and (not isinstance(started_at, str) or parse_time(started_at) is None):
            raise InvalidInput("started_at must be an ISO 8601 time")
        return cls(
            run,
            started_at,
            optional_count(event.get("tokens_minted"), "tokens_minted"),
            optional_count(optional_object(event.get("members"), "members").get("batches"), "members.batches"),
        )


@dataclass(frozen=True)
class RunReport:
    """A run's report: ``provisioning_report``'s answer and the execution's output (``report``),
    stored whole in S3 (``report_key`` names the object)."""

    run: RunOptions
    members: int
    counts: dict[str, int]
    failed_members: list[dict[str, str]]  # a sample, with reasons
    failed_total: int
    batches_expected: int
    batches_reported: int
    retried_attempts: int  # batch attempts that failed and were retried (their usage still counts)
    left_role: int
    left_role_sample: list[str]
    api_calls: dict[str, int]  # per tenant
    rate_limited_responses: dict[str, int]  # per tenant
    tokens_minted: int
    duration_seconds: float | None
    report_key: str | None = None

    @property
    def api_calls_per_member(self) -> dict[str, float]:
        if not self.members:
            return {}
        return {tenant: round(n / self.members, 3) for tenant, n in self.api_calls.items()}

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.run.to_payload(),
            "members": self.members,
            "counts": self.counts,
            "failed_members": self.failed_members,
            "failed_total": self.failed_total,
            "batches": {
                "expected": self.batches_expected,
                "reported": self.batches_reported,
                "retried_attempts": self.retried_attempts,
            },
            "drift": {"left_role": self.left_role, "left_role_sample": self.left_role_sample},
            "api_calls": self.api_calls,
            "api_calls_per_member": self.api_calls_per_member,
            "rate_limited_responses": self.rate_limited_responses,
            "tokens_minted": self.tokens_minted,
            "duration_seconds": self.duration_seconds,
        }
        if self.report_key is not None:
            out["report_key"] = self.report_key
        return out
