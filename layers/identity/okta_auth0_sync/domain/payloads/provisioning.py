"""Provisioning's payloads, step by step: the schedule's fan-out, the listing of a role's members
(and the batches it writes to S3), one batch, the report. The execution input of one mapping's run
is :class:`~okta_auth0_sync.domain.provisioning.ProvisioningRequest`, and the ``run`` object every
step passes on is :class:`~okta_auth0_sync.domain.provisioning.RunOptions`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput, cause_message
from okta_auth0_sync.domain.events import parse_time
from okta_auth0_sync.domain.payloads import event_object, optional_count, optional_object
from okta_auth0_sync.domain.provisioning import ProvisioningRequest, RoleGroupMapping, RunOptions


@dataclass(frozen=True)
class StartedRun:
    """One mapping's run as the fan-out started it (``started``), or found it started (``duplicate``)."""

    mapping: RoleGroupMapping
    execution: str  # the execution name
    status: str

    def to_payload(self) -> dict[str, str]:
        return {**self.mapping.to_payload(), "execution": self.execution, "status": self.status}


@dataclass(frozen=True)
class FanOutInput:
    """``start_provisioning_runs``' input (``StartMappingRuns``): ``{"request": <the schedule's
    execution input {"mappings", "dry_run", "recheck", "scheduled_time"}>, "execution_name",
    "state_machine_arn"}``. The occasion naming the runs is the schedule's time, or the execution's
    name for a run started by hand; ``dry_run`` and ``recheck`` are on only when literally true."""

    state_machine_arn: str
    occasion: str
    mappings: tuple[RoleGroupMapping, ...]  # each once
    dry_run: bool = False
    recheck: bool = False

    @classmethod
    def from_payload(cls, payload: Any) -> FanOutInput:
        event = event_object(payload)
        request = optional_object(event.get("request"), "request")
        arn = event.get("state_machine_arn")
        occasion = request.get("scheduled_time") or event.get("execution_name")
        if not isinstance(arn, str) or not arn.startswith("arn:") or not isinstance(occasion, str) or not occasion:
            raise InvalidInput("state_machine_arn and a scheduled_time or execution_name are required")
        mappings = request.get("mappings")
        if not isinstance(mappings, list) or not mappings:
            raise InvalidInput("mappings must be a non-empty list of {role_id, group_id}")
        return cls(
            arn,
            occasion,
            tuple(dict.fromkeys(RoleGroupMapping.from_payload(m) for m in mappings)),
            request.get("dry_run") is True,
            request.get("recheck") is True,
        )

    def request(self, mapping: RoleGroupMapping) -> ProvisioningRequest:
        """The execution input of ``mapping``'s run."""
        return ProvisioningRequest(mapping, self.dry_run, self.recheck)


@dataclass(frozen=True)
class FanOutResult:
    runs: tuple[StartedRun, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"runs": [run.to_payload() for run in self.runs]}


@dataclass(frozen=True)
class ListMembersInput:
    """``list_role_members``' input (``ListRoleMembers``): ``{"request": <the execution input>,
    "run_id": <the execution name>}``."""

    run: RunOptions

    @classmethod
    def from_payload(cls, payload: Any) -> ListMembersInput:
        event = event_object(payload)
        request = optional_object(event.get("request"), "request")
        return cls(RunOptions.from_payload({**request, "run_id": event.get("run_id")}))


@dataclass(frozen=True)
class Batch:
    """One item of the Distributed Map: a batch of role members' Auth0 ids. The listing writes the
    run's batches to S3 as a JSON list of these; the Map passes each to ``provision_members``."""

    index: int
    user_ids: tuple[str, ...]

    @classmethod
    def from_payload(cls, data: Any) -> Batch:
        index = data.get("index") if isinstance(data, Mapping) else None
        user_ids = data.get("user_ids") if isinstance(data, Mapping) else None
        if (
            not isinstance(user_ids, list)
            or not all(isinstance(u, str) for u in user_ids)
            or not isinstance(index, int)
        ):
            raise InvalidInput('batch must be {"index": n, "user_ids": [...]}')
        return cls(index, tuple(user_ids))

    def to_payload(self) -> dict[str, Any]:
        return {"index": self.index, "user_ids": list(self.user_ids)}


@dataclass(frozen=True)
class Listing:
    """What listing a role's members found and wrote: the batches' S3 object (the Map's
    ``ItemReader`` reads ``bucket`` and ``key``, ``AnyWork?`` reads ``batches``) and the counts."""

    bucket: str
    key: str
    members: int
    pending: int  # members with work to do (in the batches)
    batches: int
    left_role: int  # provisioned by an earlier run, no longer in the role (drift)
    left_role_sample: tuple[str, ...]

    @property
    def unchanged(self) -> int:
        return self.members - self.pending

    def to_payload(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "members": self.members,
            "pending": self.pending,
            "unchanged": self.unchanged,
            "batches": self.batches,
            "left_role": self.left_role,
            "left_role_sample": list(self.left_role_sample),
        }


@dataclass(frozen=True)
class ListMembersResult:
    """``list_role_members``' answer: the run's options, the listing, and how many batches the Map
    provisions at once."""

    run: RunOptions
    listing: Listing
    concurrency: int

    def to_payload(self) -> dict[str, Any]:
        return {"run": self.run.to_payload(), "members": self.listing.to_payload(), "concurrency": self.concurrency}


@dataclass(frozen=True)
class BatchFailure:
    """The Map item's ``Catch`` output ``{"Error", "Cause"}``: the error's name, and the message
    inside the cause (at most 300 characters)."""

    error: str
    cause: str

    @classmethod
    def from_payload(cls, data: Any) -> BatchFailure:
        failure = optional_object(data, "failure")
        return cls(str(failure.get("Error", "Unknown")), (cause_message(failure.get("Cause")) or "")[:300])


@dataclass(frozen=True)
class BatchInput:
    """``provision_members``' input (the Map's ``ItemSelector``): ``{"run": {...}, "batch": {...}}``,
    plus ``"failure"`` when the item's ``Catch`` records the batch as failed."""

    run: RunOptions
    batch: Batch
    failure: BatchFailure | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> BatchInput:
        event = event_object(payload)
        run = RunOptions.from_payload(event.get("run") or {})
        batch = Batch.from_payload(event.get("batch") or {})
        return cls(run, batch, BatchFailure.from_payload(event["failure"]) if "failure" in event else None)


@dataclass(frozen=True)
class BatchResult:
    """``provision_members``' answer: the batch's counts per outcome (the details are in the state table)."""

    index: int
    counts: dict[str, int]

    def to_payload(self) -> dict[str, Any]:
        return {"index": self.index, "counts": self.counts}


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
        started_at = event.get("started_at") or None
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
