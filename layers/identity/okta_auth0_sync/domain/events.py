"""Okta lifecycle events: the event types this package syncs, what each means for Auth0, and the
one model of an event for one user (:class:`LifecycleEvent`).

The same model is what the event hook selects from a delivery, what travels in the deactivation
sync's payloads (its ``event`` object) and what the ledger's newest state is applied as.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from okta_auth0_sync.base.errors import InvalidInput, shown

if TYPE_CHECKING:
    from okta_auth0_sync.domain.lifecycle import DesiredState

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


# Okta's timestamps: 2024-05-02T09:14:01.862Z (a zone is required; nothing before or after).
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")


def parse_time(value: str) -> datetime | None:
    """Okta's ISO 8601 timestamps (``2024-05-02T09:14:01.862Z``) as aware datetimes; anything
    else (no zone, a trailing control character, an impossible date) is None."""
    if not isinstance(value, str) or not _ISO_TIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def utc_now_iso() -> str:
    """Now, in Okta's timestamp format (``2024-05-02T09:14:01.862Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LifecycleEvent:
    """One Okta lifecycle event for one user. ``okta_login`` is the user's login as the event
    named it (the hook's ``alternateId``): the fallback email when the user is gone from Okta."""

    uuid: str
    event_type: str
    published: str
    okta_user_id: str
    okta_login: str | None = None

    @property
    def action(self) -> str:
        return ACTIONS[self.event_type]

    def execution_name(self, index: int, targets: int) -> str:
        """The deactivation sync's execution name: the event's uuid (a repeated delivery starts
        nothing new), suffixed with the target's index when the event names several users."""
        return self.uuid if targets == 1 else f"{self.uuid}-{index}"[:80]

    def to_payload(self) -> dict[str, str]:
        """The ``event`` object of the deactivation sync's payloads."""
        return {"uuid": self.uuid, "type": self.event_type, "published": self.published, "action": self.action}

    @classmethod
    def from_payload(cls, event: Any, okta_user_id: str, okta_login: str | None = None) -> LifecycleEvent:
        """The ``event`` object (``{"uuid", "type", "published"}``; ``action`` is derived, not read)
        for the user ``okta_user_id``, or :class:`InvalidInput` naming the field."""
        if not isinstance(event, Mapping):
            raise InvalidInput("event must be an object with uuid, type and published")
        uuid, event_type, published = event.get("uuid"), event.get("type"), event.get("published")
        if not isinstance(uuid, str) or not uuid:
            raise InvalidInput("event.uuid is required")
        if not isinstance(event_type, str) or event_type not in ACTIONS:
            raise InvalidInput(f"event.type {shown(event_type, 60)!r} is not a lifecycle event this package syncs")
        if not isinstance(published, str) or parse_time(published) is None:
            raise InvalidInput("event.published must be an ISO 8601 time")
        return cls(uuid, event_type, published, okta_user_id, okta_login)

    @classmethod
    def from_state(cls, state: DesiredState) -> LifecycleEvent:
        """The event a ledger state records (what a pass of the deactivation sync applies)."""
        return cls(state.event_uuid, state.event_type, state.published, state.okta_user_id)
