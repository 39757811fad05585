"""Okta event hook deliveries: authenticate, validate, and pick the lifecycle events we sync.

Pure logic (no AWS calls) so the receiver stays thin and fast: it must answer Okta within 3 s.
Okta authenticates deliveries only with a static shared secret echoed in the configured header
(no HMAC), so that header is compared in constant time against the current and the previous
secret (rotation without downtime).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from okta_auth0_sync.base.errors import ConfigurationError, InvalidInput

MAX_BODY_BYTES = 256 * 1024

# Event type -> what it means for the Auth0 side.
DEACTIVATE, REACTIVATE = "deactivate", "reactivate"
ACTIONS = {
    "user.lifecycle.deactivate": DEACTIVATE,
    "user.lifecycle.suspend": DEACTIVATE,
    "user.lifecycle.activate": REACTIVATE,
    "user.lifecycle.reactivate": REACTIVATE,
    "user.lifecycle.unsuspend": REACTIVATE,
}
DEFAULT_EVENT_TYPES = ("user.lifecycle.deactivate", "user.lifecycle.activate", "user.lifecycle.reactivate")
SUSPENSION_EVENT_TYPES = ("user.lifecycle.suspend", "user.lifecycle.unsuspend")

# Step Functions execution names: 1-80 characters, no whitespace, brackets, wildcards, control characters.
_EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_OKTA_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


class InvalidDelivery(InvalidInput):
    """The delivery cannot be processed at all (answered 4xx; Okta does not retry a 4xx)."""


def authorized(presented: str | None, secrets: Iterable[str]) -> bool:
    """Constant-time comparison of the ``Authorization`` header with each configured secret.
    Every candidate is compared (no early exit) so timing does not reveal which one matched."""
    if not presented:
        return False
    given = presented.encode()
    matched = False
    for secret in secrets:
        if secret:
            matched |= hmac.compare_digest(given, secret.encode())
    return matched


def hook_secrets(secret: Mapping[str, Any]) -> list[str]:
    """``{"current": "...", "previous": "..."}`` -> the values accepted now."""
    current, previous = secret.get("current"), secret.get("previous")
    if not isinstance(current, str) or not current:
        raise ConfigurationError("event hook secret: field 'current' is missing or empty")
    return [current] + ([previous] if isinstance(previous, str) and previous else [])


@dataclass(frozen=True)
class LifecycleEvent:
    """One Okta lifecycle event for one user, as it travels to the state machine."""

    uuid: str
    event_type: str
    published: str
    okta_user_id: str
    okta_login: str | None

    @property
    def action(self) -> str:
        return ACTIONS[self.event_type]

    def execution_name(self, index: int, targets: int) -> str:
        return self.uuid if targets == 1 else f"{self.uuid}-{index}"[:80]

    def to_input(self) -> dict[str, Any]:
        return {
            "event": {"uuid": self.uuid, "type": self.event_type, "published": self.published, "action": self.action},
            "okta_user": {"id": self.okta_user_id, "login": self.okta_login},
        }


@dataclass(frozen=True)
class Selection:
    """What a delivery holds: the events to sync (with their execution names) and what was skipped."""

    to_sync: list[tuple[str, LifecycleEvent]]
    skipped: list[dict[str, str]]


def parse_delivery(body: str | bytes | None) -> dict[str, Any]:
    """The delivery envelope, or :class:`InvalidDelivery` with a reason safe to return to Okta."""
    if body is None or body == "" or body == b"":
        raise InvalidDelivery("empty body")
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidDelivery(f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        envelope = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise InvalidDelivery("body is not valid JSON") from None
    if not isinstance(envelope, dict):
        raise InvalidDelivery("body must be a JSON object")
    data = envelope.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise InvalidDelivery("body must carry data.events as a list")
    return envelope


def select_events(envelope: Mapping[str, Any], handled_types: Iterable[str]) -> Selection:
    """Every event of the delivery that this package handles, one entry per User target.
    Malformed or unhandled events are skipped with a reason (the others still go through)."""
    handled = set(handled_types)
    to_sync: list[tuple[str, LifecycleEvent]] = []
    skipped: list[dict[str, str]] = []
    for position, event in enumerate(envelope["data"]["events"]):
        if not isinstance(event, dict):
            skipped.append({"event": f"#{position}", "reason": "not an object"})
            continue
        uuid = event.get("uuid")
        label = uuid if isinstance(uuid, str) else f"#{position}"
        event_type = event.get("eventType")
        if event_type not in handled:
            skipped.append({"event": label, "reason": f"event type {str(event_type)[:60]} not handled"})
            continue
        if not isinstance(uuid, str) or not _EXECUTION_NAME.match(uuid):
            skipped.append({"event": label, "reason": "missing or malformed uuid"})
            continue
        result = (event.get("outcome") or {}).get("result") if isinstance(event.get("outcome"), dict) else None
        if result not in (None, "SUCCESS"):
            skipped.append({"event": label, "reason": f"outcome {str(result)[:20]}"})
            continue
        published = event.get("published")
        if not isinstance(published, str) or parse_time(published) is None:
            skipped.append({"event": label, "reason": "missing or malformed published time"})
            continue
        targets = [t for t in (event.get("target") or []) if isinstance(t, dict) and t.get("type") == "User"]
        if not targets:
            skipped.append({"event": label, "reason": "no User target (console preview?)"})
            continue
        for index, target in enumerate(targets):
            user_id = target.get("id")
            if not isinstance(user_id, str) or not _OKTA_ID.match(user_id):
                skipped.append({"event": label, "reason": "User target without a valid id"})
                continue
            login = target.get("alternateId") if isinstance(target.get("alternateId"), str) else None
            lifecycle = LifecycleEvent(
                uuid=uuid, event_type=event_type, published=published, okta_user_id=user_id, okta_login=login
            )
            to_sync.append((lifecycle.execution_name(index, len(targets)), lifecycle))
    return Selection(to_sync=to_sync, skipped=skipped)


def parse_time(value: str) -> datetime | None:
    """Okta's ISO 8601 timestamps (``2024-05-02T09:14:01.862Z``) as aware datetimes."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


def utc_now_iso() -> str:
    """Now, in Okta's timestamp format (``2024-05-02T09:14:01.862Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handled_event_types(configured: str | None) -> tuple[str, ...]:
    """``HANDLED_EVENT_TYPES`` (comma separated) validated against what this package can sync."""
    if not configured:
        return DEFAULT_EVENT_TYPES
    types = tuple(t.strip() for t in configured.split(",") if t.strip())
    unknown = [t for t in types if t not in ACTIONS]
    if unknown:
        raise ConfigurationError(f"HANDLED_EVENT_TYPES: cannot sync {', '.join(unknown)}")
    return types
