"""The schedule's fan-out: ``start_provisioning_runs``' input and answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.payloads import event_object, optional_object
from okta_auth0_sync.domain.provisioning import ProvisioningRequest, RoleGroupMapping, flag


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
    name for a run started by hand; ``dry_run`` and ``recheck`` are true or false (anything else
    is refused: a dry run asked as ``"true"`` must never run for real)."""

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
        scheduled = request.get("scheduled_time")  # a string or absent: [] or 0 is not an absent time
        occasion = scheduled or event.get("execution_name")
        if (
            not ids.matches(ids.STATE_MACHINE_ARN, arn)
            or not isinstance(scheduled, str | None)
            or not isinstance(occasion, str)
            or not occasion
        ):
            raise InvalidInput("state_machine_arn and a scheduled_time (a string) or execution_name are required")
        mappings = request.get("mappings")
        if not isinstance(mappings, list) or not mappings:
            raise InvalidInput("mappings must be a non-empty list of {role_id, group_id}")
        return cls(
            str(arn),
            occasion,
            tuple(dict.fromkeys(RoleGroupMapping.from_payload(m) for m in mappings)),
            flag(request, "dry_run"),
            flag(request, "recheck"),
        )

    def request(self, mapping: RoleGroupMapping) -> ProvisioningRequest:
        """The execution input of ``mapping``'s run."""
        return ProvisioningRequest(mapping, self.dry_run, self.recheck)


@dataclass(frozen=True)
class FanOutResult:
    runs: tuple[StartedRun, ...]

    def to_payload(self) -> dict[str, Any]:
        return {"runs": [run.to_payload() for run in self.runs]}
