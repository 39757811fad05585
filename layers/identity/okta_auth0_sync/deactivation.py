"""Deactivation sync, Okta -> Auth0: flag (or clear) every Auth0 user that shares the Okta
user's email, without losing metadata, in event order.

The flag is one namespaced sub-object (default ``app_metadata.okta_sync``)::

    {"deactivated": true, "okta_user_id": "00u…", "event_type": "user.lifecycle.deactivate",
     "event_uuid": "…", "published": "2024-05-02T09:14:01.862Z", "synced_at": "…", "blocked": true}

Rules:

- **No loss.** Auth0 merges metadata at the top level only, so the sub-object is read, updated
  and written back whole: every other key inside it (and every other top-level key) survives.
  The read (``users-by-email`` with the metadata fields) happens in the same task, right before
  the write (Auth0 has no ETag): one read and one PATCH per matching user.
- **Order.** Okta delivers at least once and possibly out of order: the applied event's
  ``published`` time is kept with the flag (also after a reactivation), and an event older than
  (or the same as) the one applied is ignored, so a late deactivate cannot undo a newer reactivate.
- **Block.** Optionally ``blocked: true`` too; the record notes that *we* blocked the user, so a
  reactivation unblocks only users this package blocked.
- **Legacy.** The original Workflows template wrote ``user_metadata.okta.deactivated = "true"``;
  a reactivation removes that key too (keeping the rest of ``okta``), or the Action's legacy
  check would keep the user out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .auth0 import Auth0Client, Auth0User
from .errors import ConfigurationError, InvalidInput, NotFound, RequestRejected
from .event_hooks import ACTIONS, DEACTIVATE, REACTIVATE, parse_time
from .lookup import auth0_users_for_email

TARGETS = ("app_metadata", "user_metadata")
LEGACY_CONTAINER, LEGACY_KEY = "user_metadata", "okta"


@dataclass(frozen=True)
class SyncPolicy:
    target: str = "app_metadata"
    key: str = "okta_sync"
    block_users: bool = False
    clear_legacy_flag: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SyncPolicy:
        env = os.environ if env is None else env
        target = env.get("METADATA_TARGET") or "app_metadata"
        key = env.get("METADATA_KEY") or "okta_sync"
        if target not in TARGETS:
            raise ConfigurationError(f"METADATA_TARGET must be one of {', '.join(TARGETS)}")
        if not key or any(c in key for c in ".$") or len(key) > 100:
            raise ConfigurationError("METADATA_KEY must be a plain key (no '.' or '$')")
        return cls(target=target, key=key, block_users=_flag(env.get("BLOCK_DEACTIVATED_USERS"), False),
                   clear_legacy_flag=_flag(env.get("CLEAR_LEGACY_FLAG"), True))

    @property
    def read_fields(self) -> tuple[str, ...]:
        fields = {"user_id", "email", "identities", "blocked", self.target}
        if self.clear_legacy_flag:
            fields.add(LEGACY_CONTAINER)
        return tuple(sorted(fields))


def _flag(value: str | None, default: bool) -> bool:
    if value in (None, ""):
        return default
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ConfigurationError(f"expected true or false, not {value[:20]!r}")


@dataclass(frozen=True)
class SyncEvent:
    uuid: str
    event_type: str
    published: str
    okta_user_id: str

    @property
    def action(self) -> str:
        return ACTIONS[self.event_type]

    @classmethod
    def from_input(cls, event: Mapping[str, Any], okta_user_id: str) -> SyncEvent:
        if not isinstance(event, Mapping):
            raise InvalidInput("event must be an object with uuid, type and published")
        uuid, event_type, published = event.get("uuid"), event.get("type"), event.get("published")
        if not isinstance(uuid, str) or not uuid:
            raise InvalidInput("event.uuid is required")
        if event_type not in ACTIONS:
            raise InvalidInput(f"event.type {str(event_type)[:60]!r} is not a lifecycle event this package syncs")
        if not isinstance(published, str) or parse_time(published) is None:
            raise InvalidInput("event.published must be an ISO 8601 time")
        return cls(uuid=uuid, event_type=event_type, published=published, okta_user_id=okta_user_id)


@dataclass
class UserOutcome:
    user_id: str
    outcome: str  # flagged | cleared | already_applied | stale_event | failed
    reason: str | None = None
    connections: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {"user_id": self.user_id, "outcome": self.outcome, "connections": self.connections}
        if self.reason:
            out["reason"] = self.reason
        return out


def plan_update(user: Auth0User, event: SyncEvent, policy: SyncPolicy,
                now: datetime | None = None) -> tuple[str, dict[str, Any] | None]:
    """Decide what to write for one Auth0 user: ``(outcome, PATCH body or None)``. Pure."""
    raw = {"app_metadata": user.app_metadata, "user_metadata": user.user_metadata}
    container = raw.get(policy.target) or {}
    record = container.get(policy.key) if isinstance(container.get(policy.key), dict) else {}
    if record.get("event_uuid") == event.uuid:
        return "already_applied", None
    deactivate = event.action == DEACTIVATE
    applied = parse_time(record["published"]) if isinstance(record.get("published"), str) else None
    if applied is not None:
        published = parse_time(event.published)
        # Older than what is applied: ignore. Same instant: the safer state (deactivated) wins.
        if published < applied or (published == applied and not deactivate):
            return "stale_event", None

    new_record = dict(record)  # keep every key we do not own
    new_record.update({
        "deactivated": deactivate,
        "okta_user_id": event.okta_user_id,
        "event_type": event.event_type,
        "event_uuid": event.uuid,
        "published": event.published,
        "synced_at": (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    })
    body: dict[str, Any] = {}
    we_blocked = record.get("blocked") is True
    if deactivate and policy.block_users and not user.blocked:
        body["blocked"] = True
        new_record["blocked"] = True
    elif deactivate:
        new_record["blocked"] = we_blocked  # blocked before by us: still ours to clear
    else:
        if we_blocked and user.blocked:
            body["blocked"] = False
        new_record["blocked"] = False
    body[policy.target] = {policy.key: new_record}

    if event.action == REACTIVATE and policy.clear_legacy_flag:
        legacy = (raw.get(LEGACY_CONTAINER) or {}).get(LEGACY_KEY)
        if isinstance(legacy, dict) and "deactivated" in legacy and \
                not (policy.target == LEGACY_CONTAINER and policy.key == LEGACY_KEY):
            rest = {k: v for k, v in legacy.items() if k != "deactivated"}
            body.setdefault(LEGACY_CONTAINER, {})[LEGACY_KEY] = rest or None  # null deletes the key
    return ("flagged" if deactivate else "cleared"), body


def sync_auth0_users(auth0: Auth0Client, email: str | None, event: SyncEvent, policy: SyncPolicy) -> dict[str, Any]:
    """Find every Auth0 user with this email and apply the event to each. Per-user outcomes; a
    user that vanished meanwhile is reported as failed and the others still go through. Rate
    limits and outages propagate (the task is retried; applied users then read as already_applied)."""
    matches = auth0_users_for_email(auth0, email, fields=policy.read_fields)
    results: list[UserOutcome] = []
    for match in matches:
        try:
            outcome, body = plan_update(match, event, policy)
            if body is not None:
                auth0.update_user(match.user_id, body)
        except NotFound:
            results.append(UserOutcome(match.user_id, "failed", "Auth0 user no longer exists",
                                       list(match.connections)))
            continue
        except RequestRejected as exc:  # e.g. metadata over the size limit: report it, go on
            results.append(UserOutcome(match.user_id, "failed", str(exc)[:300], list(match.connections)))
            continue
        results.append(UserOutcome(match.user_id, outcome, None, list(match.connections)))
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return {"okta_user_id": event.okta_user_id, "event_uuid": event.uuid, "action": event.action,
            "matches": len(matches), "failed": counts.get("failed", 0), "counts": counts,
            "results": [r.to_dict() for r in results]}

