"""The worker's input and answer (``provision_members``, looped beside the listing), a batch of
role members as the listing writes it, and the deprovisioning step's input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput, cause_message
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.payloads import event_object, optional_object
from okta_auth0_sync.domain.provisioning import RunOptions


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
            or not all(ids.matches(ids.AUTH0_USER_ID, u) for u in user_ids)
            or isinstance(index, bool)
            or not isinstance(index, int)
            or index < 0
        ):
            raise InvalidInput('batch must be {"index": n, "user_ids": [...]}')
        return cls(index, tuple(user_ids))

    def to_payload(self) -> dict[str, Any]:
        return {"index": self.index, "user_ids": list(self.user_ids)}


@dataclass(frozen=True)
class BatchFailure:
    """The Map item's ``Catch`` output ``{"Error", "Cause"}``: the error's name, and the message
    inside the cause (at most 300 characters)."""

    error: str
    cause: str

    @classmethod
    def from_payload(cls, data: Any) -> BatchFailure:
        failure = optional_object(data, "failure")
        error, cause = failure.get("Error", "Unknown"), failure.get("Cause")
        if not isinstance(error, str) or not (cause is None or isinstance(cause, str)):
            raise InvalidInput("failure must be {Error, Cause} with string values")
        return cls(error[:200], (cause_message(cause) or "")[:300])


@dataclass(frozen=True)
class WorkerInput:
    """``provision_members``' input (``ProvisionMembers``, looped): ``{"request": <the execution
    input>, "run_id": <the execution name>, "next": <first batch not done>}``, plus ``"failure"``
    when the step's ``Catch`` records the batches not done as failed instead."""

    run: RunOptions
    next_batch: int
    failure: BatchFailure | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> WorkerInput:
        event = event_object(payload)
        request = optional_object(event.get("request"), "request")
        run = RunOptions.from_payload({**request, "run_id": event.get("run_id")})
        next_batch = event.get("next", 0)
        if isinstance(next_batch, bool) or not isinstance(next_batch, int) or next_batch < 0:
            raise InvalidInput("next must be a batch index (a whole number at least 0)")
        return cls(run, next_batch, BatchFailure.from_payload(event["failure"]) if "failure" in event else None)


@dataclass(frozen=True)
class WorkerResult:
    """``provision_members``' answer: where the next invocation starts, and whether one is needed."""

    next_batch: int
    more: bool

    def to_payload(self) -> dict[str, Any]:
        return {"next": self.next_batch, "more": self.more}


@dataclass(frozen=True)
class DeprovisionInput:
    """``deprovision_members``' input (``Deprovision``, after the listing): ``{"run": {...}}``."""

    run: RunOptions

    @classmethod
    def from_payload(cls, payload: Any) -> DeprovisionInput:
        event = event_object(payload)
        return cls(RunOptions.from_payload(event.get("run") or {}))


@dataclass(frozen=True)
class BatchInput:
    """``provision_members``' input for one given batch (an event-driven caller's batch of one):
    ``{"run": {...}, "batch": {...}}``, plus ``"failure"`` when its ``Catch`` records the batch
    as failed."""

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
