"""Listing a role's members: ``list_role_members``' input and answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.payloads import event_object, optional_object
from okta_auth0_sync.domain.provisioning import RunOptions


@dataclass(frozen=True)
class ListMembersInput:
    """``list_role_members``' input (``ListRoleMembers``): ``{"request": <the execution input>,
    "run_id": <the execution name>}``; with ``"failure": {"Error", "Cause"}`` (the step's Catch)
    the listing is marked failed instead, so the worker running beside it stops waiting."""

    run: RunOptions
    failed: bool = False

    @classmethod
    def from_payload(cls, payload: Any) -> ListMembersInput:
        event = event_object(payload)
        request = optional_object(event.get("request"), "request")
        failure = event.get("failure")
        if failure is not None and not isinstance(failure, dict):
            raise InvalidInput("failure must be {Error, Cause}")
        return cls(RunOptions.from_payload({**request, "run_id": event.get("run_id")}), failure is not None)


@dataclass(frozen=True)
class Listing:
    """What listing a role's members found: how many, how many with work (written as batches
    while the role was read), who departed (in the group by this package, no longer in the role
    or blocked; written to S3 for the deprovisioning step)."""

    members: int
    pending: int  # members with work to do (in the batches)
    batches: int
    managed: int  # members this mapping had in the group when the run began
    left_role: int  # in the group by this package, no longer in the role
    left_role_sample: tuple[str, ...]
    blocked: int = 0  # in the group and in the role, but blocked in Auth0
    blocked_complete: bool = True  # False: more than the 1,000 blocked users search serves

    @property
    def unchanged(self) -> int:
        return self.members - self.pending

    def to_payload(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "pending": self.pending,
            "unchanged": self.unchanged,
            "batches": self.batches,
            "managed": self.managed,
            "left_role": self.left_role,
            "left_role_sample": list(self.left_role_sample),
            "blocked": self.blocked,
            "blocked_complete": self.blocked_complete,
        }


@dataclass(frozen=True)
class ListMembersResult:
    """``list_role_members``' answer: the run's options and the listing (``left_role_sample``
    stays in the state table: the state payload carries counts only)."""

    run: RunOptions
    listing: Listing

    def to_payload(self) -> dict[str, Any]:
        listing = {k: v for k, v in self.listing.to_payload().items() if k != "left_role_sample"}
        return {"run": self.run.to_payload(), "members": listing}
