"""Deactivation sync, Okta -> Auth0: every Auth0 account of the person ends in the state of the
newest lifecycle event, whatever the order, duplication or concurrency of the events.

The flag is one namespaced sub-object (default ``app_metadata.okta_sync``)::

    {"deactivated": true, "okta_user_id": "00u…", "event_type": "user.lifecycle.deactivate",
     "event_uuid": "…", "published": "2024-05-02T09:14:01.862Z", "synced_at": "…", "blocked": true}

How one execution converges (:func:`sync_person`):

1. **Record** the event in the per-user :mod:`ledger`. The ledger's desired state only moves
   forward (newest ``published``; at the same instant deactivation wins).
2. **Apply the desired state**, not the execution's own event, to every account whose email
   equals the Okta email ignoring case (:func:`lookup.auth0_users_for_email`, consistent reads):
   the PATCH carries the whole sub-object (no metadata loss: Auth0 merges at the top level only)
   and the ``blocked`` value decided from the same read. On deactivation, after the block, the
   account's sessions and refresh tokens are revoked (:mod:`revocation`).
3. **Commit** only if the desired state is still the one applied; otherwise apply again. So the
   last writer to any account always re-checks after writing, and a stale writer repairs its own
   write. The argument, and what happens when an execution dies: docs/deactivation-sync.md.

Rules for one account (:func:`plan_update`, pure):

- **Block.** ``blocked: true`` by default; the record notes that *we* blocked the user, so a
  reactivation unblocks only users this package blocked (an administrator's block stays).
- **Legacy.** The original Workflows template wrote ``user_metadata.okta.deactivated = "true"``;
  a reactivation removes that key too (keeping the rest of ``okta``), or the Action's legacy
  check would keep the user out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from okta_auth0_sync.domain.events import DEACTIVATE, REACTIVATE, LifecycleEvent, parse_time
from okta_auth0_sync.domain.identities import Auth0User
from okta_auth0_sync.domain.lifecycle import DesiredState
from okta_auth0_sync.domain.policies import LEGACY_CONTAINER, LEGACY_KEY, SyncPolicy


@dataclass
class UserOutcome:
    user_id: str
    outcome: str  # flagged | cleared | already_applied | stale_event | failed
    reason: str | None = None
    connections: list[str] = field(default_factory=list)
    access: dict[str, str] | None = None

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"user_id": self.user_id, "outcome": self.outcome, "connections": self.connections}
        if self.reason:
            out["reason"] = self.reason
        if self.access:
            out["access"] = self.access
        return out


@dataclass(frozen=True)
class SyncReport:
    """What one execution did for one Okta user: the metadata update's output, from which the
    state machine's ``SyncAuth0Users`` selects ``recorded``, ``outcome``, ``applied``, ``matches``,
    ``failed``, ``counts`` and ``results``."""

    event: LifecycleEvent  # the execution's own event
    recorded: str  # newest | duplicate | superseded: what the ledger made of that event
    applied: DesiredState  # the state applied to the accounts (the ledger's newest; maybe a newer event's)
    matches: int
    results: tuple[UserOutcome, ...]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        return counts

    @property
    def failed(self) -> int:
        return sum(1 for result in self.results if result.outcome == "failed")

    @property
    def outcome(self) -> str:
        return "synced" if self.matches else "no_auth0_user"

    def to_payload(self) -> dict[str, Any]:
        return {
            "okta_user_id": self.event.okta_user_id,
            "event_uuid": self.event.uuid,
            "action": self.event.action,
            "recorded": self.recorded,
            "outcome": self.outcome,
            "applied": {
                "event_uuid": self.applied.event_uuid,
                "event_type": self.applied.event_type,
                "published": self.applied.published,
                "version": self.applied.version,
            },
            "matches": self.matches,
            "failed": self.failed,
            "counts": self.counts,
            "results": [result.to_payload() for result in self.results],
        }


def _record_of(user: Auth0User, policy: SyncPolicy) -> dict[str, Any]:
    container = {"app_metadata": user.app_metadata, "user_metadata": user.user_metadata}.get(policy.target) or {}
    record = container.get(policy.key) if isinstance(container, dict) else None
    return record if isinstance(record, dict) else {}


def _is_stale(record: Mapping[str, Any], event: LifecycleEvent) -> bool:
    """The account carries a newer event than this one (same instant: deactivated wins)."""
    applied = parse_time(record["published"]) if isinstance(record.get("published"), str) else None
    if applied is None or record.get("event_uuid") == event.uuid:
        return False
    published = parse_time(event.published)
    assert published is not None  # validated on the way in
    return published < applied or (
        published == applied and event.action != DEACTIVATE and record.get("deactivated") is True
    )


def _target_block(
    user: Auth0User, record: Mapping[str, Any], deactivate: bool, policy: SyncPolicy
) -> tuple[bool, bool]:
    """``(blocked, blocked_by_us)`` the account must end with. Ours to set or clear only."""
    ours = record.get("blocked") is True and user.blocked
    if deactivate:
        if policy.block_users and not user.blocked:
            return True, True
        return user.blocked, ours
    return (False, False) if ours else (user.blocked, False)


def plan_update(
    user: Auth0User, event: LifecycleEvent, policy: SyncPolicy, now: datetime | None = None
) -> tuple[str, dict[str, Any] | None]:
    """Decide what to write for one Auth0 user: ``(outcome, PATCH body or None)``. Pure.

    The body always carries ``blocked`` with the sub-object, both decided from the same read: a
    PATCH racing another writer leaves the account self-consistent, never half of each."""
    record = _record_of(user, policy)
    if _is_stale(record, event):
        return "stale_event", None
    deactivate = event.action == DEACTIVATE
    blocked, ours = _target_block(user, record, deactivate, policy)
    legacy = _legacy_flag_to_clear(user, event, policy)
    if (
        record.get("event_uuid") == event.uuid
        and record.get("deactivated") is deactivate
        and record.get("blocked") is ours
        and user.blocked is blocked
        and legacy is None
    ):
        return "already_applied", None
    new_record = dict(record)  # keep every key we do not own
    new_record.update(
        {
            "deactivated": deactivate,
            "okta_user_id": event.okta_user_id,
            "event_type": event.event_type,
            "event_uuid": event.uuid,
            "published": event.published,
            "blocked": ours,
            "synced_at": (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
    )
    body: dict[str, Any] = {"blocked": blocked, policy.target: {policy.key: new_record}}
    if legacy is not None:
        body.setdefault(LEGACY_CONTAINER, {})[LEGACY_KEY] = legacy or None  # null deletes the key
    return ("flagged" if deactivate else "cleared"), body


def _legacy_flag_to_clear(user: Auth0User, event: LifecycleEvent, policy: SyncPolicy) -> dict[str, Any] | None:
    """On reactivation, the original template's ``user_metadata.okta`` without ``deactivated``
    (``{}`` when nothing else is left); None when there is nothing to clear."""
    if event.action != REACTIVATE or not policy.clear_legacy_flag:
        return None
    if policy.target == LEGACY_CONTAINER and policy.key == LEGACY_KEY:
        return None
    legacy = (user.user_metadata or {}).get(LEGACY_KEY)
    if not isinstance(legacy, dict) or "deactivated" not in legacy:
        return None
    return {k: v for k, v in legacy.items() if k != "deactivated"}
