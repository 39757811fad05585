"""Listing a role's members: ``list_role_members``' input and answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.domain.payloads import event_object, optional_object
from okta_auth0_sync.domain.provisioning import RunOptions


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
