"""Deprovisioning: a member who departed (left the mapped role, blocked or deleted in Auth0) leaves
the Okta group; optionally their Okta user is suspended or deactivated (see
:mod:`okta_auth0_sync.domain.deprovisioning` for the rules). A member who comes back is restored.

Two entry points, sharing one implementation:

- :func:`deprovision_member` / :func:`restore_member`: **one member**, callable on its own (an
  event-driven caller: "member removed from the role in Auth0" -> this, "member added" -> the
  worker's provisioning, which restores a removed member). Same state table, same trust rule,
  same outcome items, same report as the scheduled run.
- :func:`deprovision_departed`: a scheduled run's departures, behind the safety stop (more than
  ``max_percent`` of the group in one run: nothing is removed, the report and an alarm say why).

Concurrency: every outcome is written conditionally on the version of the member's item that was
read (:meth:`StateTable.write_member`). When another writer changed the member meanwhile, the
result is ``conflict`` and nothing is recorded: the caller must decide again from a fresh read of
Auth0 (the next scheduled run does; an event-driven caller re-reads the member). Okta calls are
idempotent (a membership DELETE/PUT, a lifecycle change refused by status), so deciding again is
always safe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import NotFound, RequestRejected
from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.deprovisioning import (
    DID,
    IN_GROUP,
    LIFECYCLE_NONE,
    NOT_ROLE_MEMBERS,
    REMOVED,
    DeprovisionPolicy,
    SafetyStop,
    lifecycle_action,
    removal_limit,
    undo_action,
)
from okta_auth0_sync.domain.provisioning import RoleGroupMapping, RunOptions
from okta_auth0_sync.services.provisioning.members import read_departures
from okta_auth0_sync.store.provisioning_state import StateTable


@dataclass(frozen=True)
class MemberContext:
    """What a per-member call needs besides the member: the mapping, the run (or event) id the
    outcome is recorded under, the policy, the groups of every mapping (is another mapping
    still granting the user?), and whether to write anything."""

    mapping: RoleGroupMapping
    run_id: str
    policy: DeprovisionPolicy
    mapped_group_ids: frozenset[str] = frozenset()
    dry_run: bool = False


def deprovision_member(
    user_id: str,
    reason: str,
    *,
    context: MemberContext,
    okta: OktaClient,
    state: StateTable,
    item: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Take one departed member out of the mapping's Okta group (and suspend or deactivate the
    Okta user when the policy says so and the rules allow). ``reason``: left_role, blocked or
    deleted. ``item``: the member's state item if the caller read it already (else read here).

    Returns the member's outcome: ``removed`` (with ``okta_action`` suspended/deactivated/None),
    ``would_remove`` (dry run), ``not_in_group`` (this package never put them there, or already
    removed: nothing to do) or ``conflict`` (the member changed meanwhile: decide again)."""
    mapping = context.mapping
    item = item if item is not None else state.member(mapping, user_id)
    okta_user_id = (item or {}).get("okta_user_id")
    if not item or item.get("outcome") not in IN_GROUP or not okta_user_id:
        return {"user_id": user_id, "outcome": "not_in_group"}
    created = bool(item.get("created"))
    if context.dry_run:
        planned = _planned_action(context, okta, okta_user_id, created)
        return {"user_id": user_id, "outcome": "would_remove", "departed": reason, "okta_action": planned}
    with contextlib.suppress(NotFound):  # the user (or the membership) is gone already: same outcome
        okta.remove_from_group(mapping.group_id, okta_user_id)
    did = _apply_lifecycle(context, okta, okta_user_id, created)
    outcome = {
        "user_id": user_id,
        "outcome": REMOVED,
        "okta_user_id": okta_user_id,
        "departed": reason,
        "okta_action": did,
    }
    if not state.write_member(mapping, context.run_id, outcome, seen_version=int(item.get("v") or 0)):
        return {"user_id": user_id, "outcome": "conflict", "departed": reason}
    return outcome


def restore_member(
    user_id: str,
    item: dict[str, Any],
    *,
    context: MemberContext,
    okta: OktaClient,
    state: StateTable,
) -> dict[str, Any] | None:
    """A removed member is back (re-joined the role, unblocked): undo what *this package* did to
    the Okta user (unsuspend / activate), then put them back in the group. The caller has
    already applied the trust rule to the Auth0 profile. None when the Okta user no longer
    exists (the caller provisions the member afresh)."""
    okta_user_id = item.get("okta_user_id")
    if not okta_user_id:
        return None
    try:
        user = okta.get_user(okta_user_id)
    except NotFound:
        return None
    if context.dry_run:
        return {"user_id": user_id, "outcome": "would_restore", "okta_user_id": okta_user_id}
    undo = undo_action(item.get("okta_action"), user.status)
    if undo is not None:
        okta.lifecycle(okta_user_id, undo)
    okta.add_to_group(context.mapping.group_id, okta_user_id)
    outcome = {
        "user_id": user_id,
        "outcome": "restored",
        "okta_user_id": okta_user_id,
        "okta_action": None,
        "departed": None,
    }
    if not state.write_member(context.mapping, context.run_id, outcome, seen_version=int(item.get("v") or 0)):
        return {"user_id": user_id, "outcome": "conflict"}
    return outcome


def deprovision_departed(
    departures: Iterable[tuple[str, str, dict[str, Any]]],
    *,
    managed: int,
    role_members: int,
    context: MemberContext,
    okta: OktaClient,
    state: StateTable,
) -> dict[str, Any]:
    """A run's departures ``(user_id, reason, item)``, behind the safety stop. ``managed``: the
    members this mapping had in the group when the run listed the role; ``role_members``: how
    many the role read returned. Returns the run's deprovisioning summary: the safety stop's
    verdict, counts per outcome, ``removed_in_role`` (how many of the removed are still role
    members: blocked), and a sample of who was (or would be) removed.

    A retried or redriven step counts whole again: a member an earlier attempt of this run
    removed (its item names the run) counts as ``removed`` with what was done to the Okta user,
    once, and is not touched again."""
    planned = list(departures)
    stop: SafetyStop = removal_limit(len(planned), managed, role_members, context.policy)
    summary: dict[str, Any] = {"safety_stop": stop.to_payload(), "counts": {}, "sample": []}
    if stop.stopped or not context.policy.enabled:
        summary["counts"] = {"not_removed": len(planned)} if planned else {}
        summary["sample"] = [{"user_id": uid, "departed": reason} for uid, reason, _ in planned[:20]]
        summary["enabled"] = context.policy.enabled
        return summary
    counts: dict[str, int] = {}
    in_role = 0
    for user_id, reason, item in planned:
        result: dict[str, Any]
        if removed_by(context, item):
            result = {"user_id": user_id, "outcome": REMOVED, "departed": item.get("departed") or reason,
                      "okta_action": item.get("okta_action")}  # fmt: skip
        else:
            result = deprovision_member(user_id, reason, context=context, okta=okta, state=state, item=item)
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
        in_role += result["outcome"] == REMOVED and result.get("departed") not in NOT_ROLE_MEMBERS
        if result.get("okta_action"):
            key = result["okta_action"] if not context.dry_run else f"would_{result['okta_action']}"
            counts[key] = counts.get(key, 0) + 1
        if len(summary["sample"]) < 20:
            summary["sample"].append({"user_id": user_id, "departed": reason, "outcome": result["outcome"]})
    summary["counts"] = counts
    summary["removed_in_role"] = in_role
    summary["enabled"] = True
    return summary


def removed_by(context: MemberContext, item: dict[str, Any] | None) -> bool:
    """The member's item says this run removed them (an earlier attempt of the step)."""
    if not item or context.dry_run:
        return False
    return item.get("outcome") == REMOVED and item.get("run_id") == context.run_id


def _planned_action(context: MemberContext, okta: OktaClient, okta_user_id: str, created: bool) -> str | None:
    """What a real run would do to the Okta user (dry run: reads only)."""
    action = _eligible_action(context, okta, okta_user_id, created)
    return None if action == LIFECYCLE_NONE else DID[action]


def _eligible_action(context: MemberContext, okta: OktaClient, okta_user_id: str, created: bool) -> str:
    policy = context.policy
    if lifecycle_action(policy, created_by_us=created, other_mapped_groups=frozenset()) == LIFECYCLE_NONE:
        return LIFECYCLE_NONE  # decided without a call
    mapped = context.mapped_group_ids | {context.mapping.group_id}
    try:
        others = (okta.user_group_ids(okta_user_id) & mapped) - {context.mapping.group_id}
    except NotFound:
        return LIFECYCLE_NONE
    return lifecycle_action(policy, created_by_us=created, other_mapped_groups=others)


def _apply_lifecycle(context: MemberContext, okta: OktaClient, okta_user_id: str, created: bool) -> str | None:
    """Suspend or deactivate the Okta user when allowed; what was done (``okta_action``) or None.
    A user whose status does not allow it (suspended or deactivated by someone else) is left
    alone, and then nothing is recorded as done by this package (a rejoin will not undo it)."""
    action = _eligible_action(context, okta, okta_user_id, created)
    if action == LIFECYCLE_NONE:
        return None
    try:
        user = okta.get_user(okta_user_id)
    except NotFound:
        return None
    wanted_from = {"suspend": ("ACTIVE",), "deactivate": ("ACTIVE", "PROVISIONED", "RECOVERY")}
    if user.status not in wanted_from[action]:
        return None
    try:
        okta.lifecycle(okta_user_id, action)
    except RequestRejected:
        return None  # the status changed meanwhile: someone else's doing
    return DID[action]


def deprovision_run(
    options: RunOptions,
    *,
    context: MemberContext,
    okta: OktaClient,
    state: StateTable,
    s3: Any,
    bucket: str,
) -> dict[str, Any]:
    """A scheduled run's deprovisioning step, after the listing: the departures it found (S3),
    each member's item read again (consistently) from the state table, then
    :func:`deprovision_departed`. The summary is recorded as the run's ``deprovision`` part."""
    body = read_departures(s3, bucket, options.run_id)
    departures = [(d["user_id"], d["reason"]) for d in body.get("departures", [])]
    items = state.outcomes(options.mapping, [uid for uid, _ in departures])
    summary = deprovision_departed(
        [(uid, reason, {"user_id": uid, **items.get(uid, {})}) for uid, reason in departures],
        managed=int(body.get("managed", 0)),
        role_members=int(body.get("role_members", 0)),
        context=context,
        okta=okta,
        state=state,
    )
    state.put_summary(options.run_id, "deprovision", summary)
    return summary
