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

Each member is given to one part of a run only (a batch, or deprovisioning), so the report can
add the parts' counts up (each part recounts its own members when it is redone):

- A retried (or redriven) listing reads the role again but keeps the batches an earlier attempt
  published (the worker may have taken them): their members are not published again, and new
  batches follow them. Members published by this run are not departures of it either (a member
  this run provisioned who has left the role since is the next run's departure).
- On a ``recheck``, the blocked users are read first: a member in the group and blocked departs
  (deprovisioning's), and is not published for the worker too.
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
    """Cuts pending members into batches and publishes each as soon as it is full, after the
    batches an earlier attempt of the listing published (``published``: their members)."""

    def __init__(
        self, state: StateTable, run_id: str, batch_size: int, dry_run: bool, *, batches: int = 0,
        published: Iterable[str] = (),
    ) -> None:  # fmt: skip
        self.state, self.run_id, self.batch_size, self.dry_run = state, run_id, batch_size, dry_run
        self.buffer: list[str] = []
        self.batches = batches
        self.published = set(published)
        self.members = 0

    def add(self, user_ids: Iterable[str]) -> None:
        for user_id in user_ids:
            self.buffer.append(user_id)
            self.published.add(user_id)
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


def published_members(state: StateTable, run_id: str, batches: int) -> set[str]:
    """The members of a run's first ``batches`` batches (those an earlier attempt published)."""
    parts = state.parts(run_id, [f"batch#{i:06d}" for i in range(batches)]) if batches else {}
    return {user_id for part in parts.values() for user_id in part.get("user_ids", [])}


def read_departures(s3: Any, bucket: str, run_id: str) -> dict[str, Any]:
    """The departures the run's listing wrote (``{"departures": [{"user_id", "reason"}], "managed",
    "role_members"}``)."""
    body: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=departures_key(run_id))["Body"].read())
    return body


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
    in_group = {uid for uid, item in known.items() if item.get("outcome") in DONE}
    earlier = int((state.part(options.run_id, "progress") or {}).get("batches", 0))
    writer = ListingWriter(
        state, options.run_id, policy.batch_size, options.dry_run, batches=earlier,
        published=published_members(state, options.run_id, earlier),
    )  # fmt: skip
    writer.progress(complete=False)
    blocked_ids: set[str] | None = None
    blocked_complete = True
    if options.recheck and in_group:
        blocked_ids, blocked_complete = auth0.blocked_user_ids()
    seen: set[str] = set()
    page: list[str] = []
    try:
        for user_id in auth0.role_member_ids(mapping.role_id):
            if user_id in seen:
                continue
            seen.add(user_id)
            writer.members += 1
            if user_id in writer.published or (blocked_ids and user_id in in_group and user_id in blocked_ids):
                continue  # in a batch already (an earlier attempt), or departing (blocked, on a recheck)
            if options.recheck or known.get(user_id, {}).get("outcome") not in DONE:
                page.append(user_id)
            if len(page) >= policy.batch_size:
                writer.add(page)
                page = []
    except NotFound:
        raise InvalidInput(f"Auth0 role {mapping.role_id} does not exist (check Auth0RoleId / the mapping)") from None
    writer.add(page)
    writer.flush()

    departing = in_group - writer.published  # the worker's members are not deprovisioning's too
    left = sorted(departing - seen)
    if blocked_ids is None:
        blocked_ids, blocked_complete = auth0.blocked_user_ids() if departing & seen else (set(), True)
    blocked = sorted((departing & seen) & blocked_ids)
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
        pending=len(writer.published & seen),
        batches=writer.batches,
        managed=len(in_group),
        left_role=len(left),
        left_role_sample=tuple(left[:DRIFT_SAMPLE]),
        blocked=len(blocked),
        blocked_complete=blocked_complete,
    )
    writer.progress(complete=True, **listing.to_payload())
    return listing
