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
    """``provisioning_report``'s input (``BuildReport``): ``{"request": <the execution input>,
    "run_id": <the execution name>, "started_at", "tokens_minted"}``, or ``{"run": {...},
    "started_at", "tokens_minted"}`` (a caller that has the run options already)."""

    run: RunOptions
    started_at: str | None
    tokens_minted: int

    @classmethod
    def from_payload(cls, payload: Any) -> ReportInput:
        event = event_object(payload)
        if "run" in event:
            run = RunOptions.from_payload(event.get("run") or {})
        else:
            request = optional_object(event.get("request"), "request")
            run = RunOptions.from_payload({**request, "run_id": event.get("run_id")})
        started_at = event.get("started_at") if event.get("started_at") != "" else None  # "": absent
        if started_at is not None and (not isinstance(started_at, str) or parse_time(started_at) is None):
            raise InvalidInput("started_at must be an ISO 8601 time")
        return cls(run, started_at, optional_count(event.get("tokens_minted"), "tokens_minted"))


@dataclass(frozen=True)
class RunCost:
    """What the run cost on AWS, from the counts every step recorded: state transitions as
    Standard workflows bill them (every state entered, every retry), Lambda requests and
    GB-seconds, priced at the us-east-1 list prices (arm64)."""

    state_transitions: int
    lambda_requests: int
    lambda_gb_seconds: float
    dollars: float

    def to_payload(self) -> dict[str, Any]:
        return {
            "state_transitions": self.state_transitions,
            "lambda_requests": self.lambda_requests,
            "lambda_gb_seconds": self.lambda_gb_seconds,
            "dollars": self.dollars,
        }


@dataclass(frozen=True)
class RunReport:
    """A run's report: ``provisioning_report``'s answer and the execution's output (``report``),
    stored whole in S3 (``report_key`` names the object)."""

    run: RunOptions
    members: int
    counts: dict[str, int]  # every role member once (unchanged: nothing to do), departures too
    failed_members: list[dict[str, str]]  # a sample, with reasons
    failed_total: int
    batches: int
    listing_complete: bool
    left_role: int
    left_role_sample: list[str]
    deprovisioning: dict[str, Any] | None  # the safety stop's verdict, counts, a sample
    api_calls: dict[str, int]  # per tenant, every attempt of every step
    rate_limited_responses: dict[str, int]  # per tenant
    tokens_minted: int
    duration_seconds: float | None
    cost: RunCost | None = None
    report_key: str | None = None

    @property
    def api_calls_per_member(self) -> dict[str, float]:
        if not self.members:
            return {}
        return {tenant: round(n / self.members, 3) for tenant, n in self.api_calls.items()}

    @property
    def safety_stopped(self) -> bool:
        return bool((self.deprovisioning or {}).get("safety_stop", {}).get("stopped"))

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            **self.run.to_payload(),
            "members": self.members,
            "counts": self.counts,
            "failed_members": self.failed_members,
            "failed_total": self.failed_total,
            "batches": self.batches,
            "listing_complete": self.listing_complete,
            "drift": {"left_role": self.left_role, "left_role_sample": self.left_role_sample},
            "deprovisioning": self.deprovisioning,
            "api_calls": self.api_calls,
            "api_calls_per_member": self.api_calls_per_member,
            "rate_limited_responses": self.rate_limited_responses,
            "tokens_minted": self.tokens_minted,
            "duration_seconds": self.duration_seconds,
            "cost": self.cost.to_payload() if self.cost else None,
        }
        if self.report_key is not None:
            out["report_key"] = self.report_key
        return out
