"""The Auth0 -> Okta direction's payloads: the ``Auth0Lifecycle`` state machine's input (one
:class:`~okta_auth0_sync.domain.auth0_logs.Auth0LogEvent`) and its task's input
(:class:`LifecycleTask`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain import ids
from okta_auth0_sync.domain.auth0_logs import Auth0LogEvent
from okta_auth0_sync.domain.payloads import event_object

STEPS = ("reverse_sync", "decide_role", "deprovision_role", "commit_role")
_KEY = "auth0#"


@dataclass(frozen=True)
class LifecycleTask:
    """``auth0_lifecycle``'s input: ``{"step", "event", "execution_name"}`` and, for
    ``commit_role`` (and ``deprovision_role``), the ledger ``key`` and ``version`` that
    ``decide_role`` answered."""

    step: str
    event: Auth0LogEvent
    execution_name: str
    key: str | None = None
    version: int | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> LifecycleTask:
        data = event_object(payload)
        step = data.get("step")
        if step not in STEPS:
            raise InvalidInput(f"step must be one of {', '.join(STEPS)}")
        event = Auth0LogEvent.from_payload(data.get("event"))
        name = data.get("execution_name")
        if not ids.matches(ids.EXECUTION_NAME, name):
            raise InvalidInput("execution_name (the execution's name) is required")
        if (step == "reverse_sync") == event.is_role_event:
            raise InvalidInput(f"step {step} does not take a {event.kind} event")
        key, version = data.get("key"), data.get("version")
        if step in ("commit_role", "deprovision_role"):
            if not isinstance(key, str) or not key.startswith(_KEY) or len(key) > 700:
                raise InvalidInput("key must be the ledger key decide_role answered")
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise InvalidInput("version must be the ledger version decide_role answered")
            return cls(str(step), event, str(name), key, version)
        return cls(str(step), event, str(name))
