"""The deactivation sync's payloads: the execution input (from the event hook or the invoke API)
and what the metadata update reads. Its answer is :class:`~okta_auth0_sync.domain.deactivation.SyncReport`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.events import LifecycleEvent
from okta_auth0_sync.domain.payloads import event_object


@dataclass(frozen=True)
class DeactivationSyncInput:
    """The deactivation sync's execution input. From the event hook, the event with the user's id
    and login: ``{"event": {...}, "okta_user": {"id", "login"}}``. From the invoke API, the user
    alone: ``{"okta_user": {"id"}, "requested_by"}``; the state machine then types the event from
    the user's current status (``HasEvent?`` -> ``EventFromStatus``)."""

    okta_user_id: str
    event: LifecycleEvent | None = None
    requested_by: str | None = None

    @classmethod
    def of_event(cls, event: LifecycleEvent) -> DeactivationSyncInput:
        return cls(event.okta_user_id, event)

    @classmethod
    def on_demand(cls, okta_user_id: str, requested_by: str) -> DeactivationSyncInput:
        return cls(okta_user_id, None, requested_by)

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any]
        if self.event is None:
            out = {"okta_user": {"id": self.okta_user_id}}
        else:
            out = {
                "event": self.event.to_payload(),
                "okta_user": {"id": self.okta_user_id, "login": self.event.okta_login},
            }
        if self.requested_by is not None:
            out["requested_by"] = self.requested_by
        return out


@dataclass(frozen=True)
class MetadataUpdateRequest:
    """``update_metadata``'s input (``SyncAuth0Users``): ``{"event": {"uuid", "type", "published"},
    "okta_user": {"id", "login", "email", ...}}``. ``email`` may be null (nothing to match)."""

    event: LifecycleEvent
    email: str | None

    @classmethod
    def from_payload(cls, payload: Any) -> MetadataUpdateRequest:
        event = event_object(payload)
        okta_user = event.get("okta_user") or {}
        if not isinstance(okta_user, Mapping):
            raise InvalidInput("okta_user.id is required")
        ids.okta_user_id(okta_user.get("id"), "okta_user.id")
        login = okta_user.get("login")
        lifecycle = LifecycleEvent.from_payload(
            event.get("event"), okta_user["id"], login if isinstance(login, str) else None
        )
        email = okta_user.get("email")
        if email is not None and not isinstance(email, str):
            raise InvalidInput("okta_user.email must be a string")
        return cls(lifecycle, email)
