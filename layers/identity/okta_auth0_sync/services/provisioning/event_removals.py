"""Event-driven removals behind the safety stop.

The scheduled run's safety stop judges a run's removals at once (:func:`deprovision_departed`).
Auth0 log events remove one member per execution, so the same share
(:attr:`~okta_auth0_sync.domain.deprovisioning.DeprovisionPolicy.max_percent` of the members
the mapping has in the group) is held over a rolling window
(:attr:`~okta_auth0_sync.domain.deprovisioning.DeprovisionPolicy.event_window_seconds`) by
:class:`~okta_auth0_sync.store.removal_window.RemovalWindow`: each removal takes a slot first,
atomically; one without a slot is not made and answers ``safety_stop``. The next scheduled run
(which has its own stop) sees the member out of the role and decides again.
"""

from __future__ import annotations

from typing import Any

from okta_auth0_sync.clients.okta import OktaClient
from okta_auth0_sync.domain.deprovisioning import IN_GROUP, WindowVerdict, share_limit
from okta_auth0_sync.services.provisioning.deprovision import MemberContext, deprovision_member
from okta_auth0_sync.store.provisioning_state import StateTable
from okta_auth0_sync.store.removal_window import RemovalWindow

SAFETY_STOP = "safety_stop"


def deprovision_event_member(
    user_id: str,
    reason: str,
    *,
    context: MemberContext,
    okta: OktaClient,
    state: StateTable,
    window: RemovalWindow,
    claim_id: str,
) -> dict[str, Any]:
    """One departed member (an event), within the mapping's removal window.

    Outcomes: those of :func:`deprovision_member` (``removed``, ``would_remove``, ``not_in_group``,
    ``conflict``), ``not_removed`` (deprovisioning is off: drift only, as in a scheduled run) and
    ``safety_stop`` (the window is full: nobody removed). A member with nothing to remove takes no
    slot; ``claim_id`` (the execution and the decided state) takes one slot however often the
    task is retried."""
    policy = context.policy
    item = state.member(context.mapping, user_id)
    if not item or item.get("outcome") not in IN_GROUP or not item.get("okta_user_id"):
        return {"user_id": user_id, "outcome": "not_in_group"}
    if not policy.enabled:
        return {"user_id": user_id, "outcome": "not_removed", "departed": reason, "reason": "deprovisioning is off"}
    seconds = policy.event_window_seconds
    if context.dry_run:  # reads only: would this removal find a slot now?
        managed = window.count_in_group(context.mapping)
        limit = share_limit(managed, policy)
        held = window.count(context.mapping, seconds)
        verdict = WindowVerdict(held < limit, held + 1 if held < limit else held, limit, managed, seconds)
    else:
        claim = window.claim(
            context.mapping, claim_id, window_seconds=seconds, limit_for=lambda n: share_limit(n, policy)
        )
        verdict = WindowVerdict(claim.allowed, claim.removed_in_window, claim.limit, claim.managed, seconds)
    if not verdict.allowed:
        outcome = SAFETY_STOP if not context.dry_run else f"would_{SAFETY_STOP}"
        return {"user_id": user_id, "outcome": outcome, "departed": reason, "safety_stop": verdict.to_payload()}
    result = deprovision_member(user_id, reason, context=context, okta=okta, state=state, item=item)
    return {**result, "safety_stop": verdict.to_payload()}
