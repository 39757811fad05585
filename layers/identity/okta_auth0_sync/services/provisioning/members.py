"""Step 1 of a run: every member of the role, the ones with work to do written as batches *while
the role is still being read*, so the worker starts creating with the first page.

- The mapping's member items are read once (one query of the mapping's partition: outcomes,
  versions, Okta ids), not per member.
- Each role page's members that have work to do (not in the group by this package, or
  ``recheck``) are cut into batches of ``batch_size``; each batch is written to the state table
  (``run#{run}/batch#000042``) and the listing's progress (``run#{run}/list``: batches written,
  complete or not) updated, so the worker, running in parallel, takes it at once.
- At the end: who departed (in the group by this package but no longer in the role, or blocked
  in Auth0), written to S3 for the deprovisioning step, and the listing marked complete.

A retried listing starts over; pages come in the same order, so it writes the same batches again
(the worker skips members already done: their outcome is recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput, NotFound
from okta_auth0_sync.clients.auth0 import Auth0Client
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.deprovisioning import BLOCKED, LEFT_ROLE
from okta_auth0_sync.domain.payloads.provisioning.members import Listing
from okta_auth0_sync.domain.policies import ProvisioningPolicy
from okta_auth0_sync.domain.provisioning import RunOptions
from okta_auth0_sync.store.provisioning_state import DONE, StateTable

DRIFT_SAMPLE = 20


def departures_key(run_id: str) -> str:
    return f"runs/{run_id}/departures.json"


class ListingWriter:
    """Cuts pending members into batches and publishes each as soon as it is full."""

    def __init__(self, state: StateTable, run_id: str, batch_size: int, dry_run: bool) -> None:
        self.state, self.run_id, self.batch_size, self.dry_run = state, run_id, batch_size, dry_run
        self.buffer: list[str] = []
        self.batches = 0
        self.pending = 0
        self.members = 0

    def add(self, user_ids: Iterable[str]) -> None:
        for user_id in user_ids:
            self.buffer.append(user_id)
            self.pending += 1
            if len(self.buffer) >= self.batch_size:
                self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        self.state.put_summary(self.run_id, f"batch#{self.batches:06d}", {"user_ids": self.buffer})
        self.batches += 1
        self.buffer = []
        self.progress(complete=False)

    def progress(self, *, complete: bool, **extra: Any) -> None:
        self.state.put_summary(
            self.run_id,
            "progress",
            {"batches": self.batches, "complete": complete, "members": self.members, **extra},
        )


def list_members(
    options: RunOptions,
    *,
    auth0: Auth0Client,
    okta: OktaClient,
    state: StateTable,
    bucket: str,
    s3: Any,
    policy: ProvisioningPolicy,
) -> Listing:
    mapping = options.mapping
    try:
        okta.get_group(mapping.group_id)  # fail the run early and clearly, before any work
    except NotFound:
        raise InvalidInput(f"Okta group {mapping.group_id} does not exist (check OktaGroupId / the mapping)") from None
    known = {item["user_id"]: item for item in state.members(mapping)}
    writer = ListingWriter(state, options.run_id, policy.batch_size, options.dry_run)
    writer.progress(complete=False)
    seen: set[str] = set()
    page: list[str] = []
    try:
        for user_id in auth0.role_member_ids(mapping.role_id):
            if user_id in seen:
                continue
            seen.add(user_id)
            writer.members += 1
            if options.recheck or known.get(user_id, {}).get("outcome") not in DONE:
                page.append(user_id)
            if len(page) >= policy.batch_size:
                writer.add(page)
                page = []
    except NotFound:
        raise InvalidInput(f"Auth0 role {mapping.role_id} does not exist (check Auth0RoleId / the mapping)") from None
    writer.add(page)
    writer.flush()

    in_group = {uid for uid, item in known.items() if item.get("outcome") in DONE}
    left = sorted(in_group - seen)
    blocked_ids, blocked_complete = auth0.blocked_user_ids() if in_group & seen else (set(), True)
    blocked = sorted((in_group & seen) & blocked_ids)
    departures = [{"user_id": uid, "reason": LEFT_ROLE} for uid in left] + [
        {"user_id": uid, "reason": BLOCKED} for uid in blocked
    ]
    s3.put_object(
        Bucket=bucket,
        Key=departures_key(options.run_id),
        Body=json.dumps({"departures": departures, "managed": len(in_group), "role_members": len(seen)}).encode(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    listing = Listing(
        members=len(seen),
        pending=writer.pending,
        batches=writer.batches,
        managed=len(in_group),
        left_role=len(left),
        left_role_sample=tuple(left[:DRIFT_SAMPLE]),
        blocked=len(blocked),
        blocked_complete=blocked_complete,
    )
    writer.progress(complete=True, **listing.to_payload())
    return listing
