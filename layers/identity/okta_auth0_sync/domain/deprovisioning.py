"""Deprovisioning, the other half of a role -> group mapping: the rules, no I/O.

A member this package put in the Okta group (outcome ``provisioned``, ``existing_added`` or
``restored`` in the state table) *departs* when they

- left the Auth0 role (deleting an Auth0 user also removes its role assignments),
- were blocked in Auth0, or
- no longer exist in Auth0.

A departed member is removed from the mapping's Okta group. Optionally
(:attr:`DeprovisionPolicy.lifecycle`, off by default) the Okta user is also suspended or
deactivated, but only when this package created it (``created`` in the state table) or the
operator opted in for adopted users (:attr:`DeprovisionPolicy.adopted_users`), and only when it
belongs to no *other* mapped group. A member who comes back (re-joins the role, is unblocked) is
restored: unsuspended or activated again if, and only if, this package suspended or deactivated
them (``okta_action`` in the state table), then put back in the group.

The safety stop (:func:`removal_limit`) refuses a run's removals when there are more than a
share of the group (default 10 %): an empty or truncated role read must never empty the group.
Removals driven by Auth0 log events (one member at a time) are held to the same share within a
rolling window (:attr:`DeprovisionPolicy.event_window_seconds`, :func:`window_bucket`): a burst of
removal logs cannot empty the group either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Departure reasons, as reported
LEFT_ROLE = "left_role"
BLOCKED = "blocked"
DELETED = "deleted"
REASONS = (LEFT_ROLE, BLOCKED, DELETED)
NOT_ROLE_MEMBERS = frozenset({LEFT_ROLE, DELETED})  # departed and no longer in the role (blocked still is)

# What may happen to a departed member's Okta user beyond the group removal
LIFECYCLE_NONE, SUSPEND, DEACTIVATE = "none", "suspend", "deactivate"
LIFECYCLE_ACTIONS = (LIFECYCLE_NONE, SUSPEND, DEACTIVATE)
# ``okta_action`` recorded when this package changed the user's status (what a rejoin undoes)
DID = {SUSPEND: "suspended", DEACTIVATE: "deactivated"}

# Outcomes of the member items (``outcome`` in the state table)
IN_GROUP = frozenset({"provisioned", "existing_added", "restored"})  # this package put them there
REMOVED = "removed"


MIN_EVENT_WINDOW_SECONDS, MAX_EVENT_WINDOW_SECONDS = 60, 24 * 3600
WINDOW_BUCKETS = 60  # the rolling window is counted in this many buckets (a minute each for an hour)


@dataclass(frozen=True)
class DeprovisionPolicy:
    """What an operator configures (``DEPROVISIONING``, ``DEPROVISION_LIFECYCLE``,
    ``DEPROVISION_ADOPTED_USERS``, ``DEPROVISION_MAX_PERCENT``; template parameters of the same
    names in CamelCase), validated by :mod:`okta_auth0_sync.settings`."""

    enabled: bool = True  # remove departed members from the group (off: report them as drift only)
    lifecycle: str = LIFECYCLE_NONE  # suspend | deactivate the Okta user too (none: group only)
    adopted_users: bool = False  # may the lifecycle action touch users this package did not create?
    max_percent: float = 10.0  # the safety stop: most of the group one run may remove
    # event-driven removals: at most ``max_percent`` of the group within this rolling window
    event_window_seconds: int = 3600

    def __post_init__(self) -> None:
        if self.lifecycle not in LIFECYCLE_ACTIONS:
            raise ValueError(f"lifecycle must be one of {LIFECYCLE_ACTIONS}")
        if not 0.0 <= self.max_percent <= 100.0:
            raise ValueError("max_percent must be within 0..100")
        if not MIN_EVENT_WINDOW_SECONDS <= self.event_window_seconds <= MAX_EVENT_WINDOW_SECONDS:
            raise ValueError(
                f"event_window_seconds must be within {MIN_EVENT_WINDOW_SECONDS}..{MAX_EVENT_WINDOW_SECONDS}"
            )


def lifecycle_action(
    policy: DeprovisionPolicy, *, created_by_us: bool, other_mapped_groups: frozenset[str] | set[str]
) -> str:
    """What to do to a departed member's Okta user beyond removing the membership:
    ``none``, ``suspend`` or ``deactivate``. Never to a user this package did not create unless
    the operator opted in; never while the user is in another mapped group (another role still
    grants it)."""
    if policy.lifecycle == LIFECYCLE_NONE:
        return LIFECYCLE_NONE
    if not created_by_us and not policy.adopted_users:
        return LIFECYCLE_NONE
    if other_mapped_groups:
        return LIFECYCLE_NONE
    return policy.lifecycle


def undo_action(okta_action: str | None, okta_status: str) -> str | None:
    """On a rejoin: the Okta lifecycle operation that undoes what *this package* did
    (``unsuspend`` / ``activate``), or None. A user suspended or deactivated by someone else
    stays as it is (the group membership is still restored: Okta keeps it out anyway)."""
    if okta_action == DID[SUSPEND] and okta_status == "SUSPENDED":
        return "unsuspend"
    if okta_action == DID[DEACTIVATE] and okta_status == "DEPROVISIONED":
        return "activate"
    return None


@dataclass(frozen=True)
class SafetyStop:
    """The safety stop's verdict for one run: ``allowed`` removals at most; ``stopped`` when the
    run planned more (then none are made, and the report and an alarm say why)."""

    planned: int
    managed: int  # members this mapping has in the group (the denominator)
    limit: int
    stopped: bool
    reason: str | None = None

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "planned": self.planned,
            "managed": self.managed,
            "limit": self.limit,
            "stopped": self.stopped,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


def removal_limit(planned: int, managed: int, role_members: int, policy: DeprovisionPolicy) -> SafetyStop:
    """Check a run's planned removals against the safety stop.

    ``managed`` is how many members this mapping has in the group (the state table's in-group
    members, before the run); the limit is ``max_percent`` of it, rounded down, and at least 1
    (a group of 5 may lose one member a run). A role read that came back empty while the group
    has members is always stopped: it is far likelier a broken read than everyone leaving.
    """
    limit = share_limit(managed, policy)
    if planned == 0:
        return SafetyStop(planned, managed, limit, False)
    if role_members == 0 and managed > 1:
        return SafetyStop(
            planned, managed, limit, True, "the role read returned no members while the group has several"
        )
    if planned > limit:
        return SafetyStop(
            planned,
            managed,
            limit,
            True,
            f"{planned} removals exceed {policy.max_percent:g}% of the {managed} members this mapping "
            f"has in the group (at most {limit} a run)",
        )
    return SafetyStop(planned, managed, limit, False)


def share_limit(managed: int, policy: DeprovisionPolicy) -> int:
    """The most removals ``max_percent`` of ``managed`` members allows (rounded down, at least 1;
    0 when the share is 0): a run's limit, and an event window's."""
    return max(1, math.floor(managed * policy.max_percent / 100.0)) if policy.max_percent > 0 else 0


def bucket_width(window_seconds: int) -> int:
    """Seconds per bucket of a rolling window (:data:`WINDOW_BUCKETS` of them)."""
    return max(1, window_seconds // WINDOW_BUCKETS)


def window_bucket(now: float, window_seconds: int) -> int:
    """The start (epoch seconds) of the bucket a removal made at ``now`` is counted in."""
    width = bucket_width(window_seconds)
    return int(now // width) * width


def expired_buckets(starts: Iterable[int], now: float, window_seconds: int) -> list[int]:
    """The buckets whose every removal is older than the window (no longer counted). A removal
    therefore counts for the window and at most one bucket more: never less than the window."""
    width = bucket_width(window_seconds)
    return sorted(start for start in starts if start + width <= now - window_seconds)


@dataclass(frozen=True)
class WindowVerdict:
    """The event safety stop's verdict for one removal: ``allowed``, and how many removals the
    window holds (this one included when allowed) against its ``limit``."""

    allowed: bool
    removed_in_window: int
    limit: int
    managed: int
    window_seconds: int

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stopped": not self.allowed,
            "removed_in_window": self.removed_in_window,
            "limit": self.limit,
            "managed": self.managed,
            "window_seconds": self.window_seconds,
        }
        if not self.allowed:
            out["reason"] = (
                f"{self.removed_in_window} event-driven removals in the last {self.window_seconds // 60} min reach "
                f"the limit of {self.limit} ({self.managed} members this mapping has in the group); "
                "the next scheduled run decides again"
            )
        return out


def departure(user: Mapping[str, Any] | None, *, in_role: bool) -> str | None:
    """Why a member this package put in the group should leave it (a reason from :data:`REASONS`),
    or None. ``user`` is the Auth0 profile (None: Auth0 does not know the id any more)."""
    if not in_role:
        return LEFT_ROLE
    if user is None:
        return DELETED
    if user.get("blocked") is True:
        return BLOCKED
    return None
