"""The System Log ingresses' payloads: the sweep's input (:class:`SweepRequest`, from the
schedule) and answer (:class:`SweepReport`), and the Log Streaming receiver's answer
(:class:`StreamResult`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.events import parse_time


@dataclass(frozen=True)
class SweepRequest:
    """``{"scheduled_time": "<aws.scheduler.scheduled-time>"}`` from the schedule (optional: a
    sweep invoked by hand sends ``{}``). The time only labels the sweep's log line."""

    scheduled_time: str | None = None

    @classmethod
    def from_payload(cls, payload: Any) -> SweepRequest:
        if payload is None:
            return cls()
        if not isinstance(payload, Mapping):
            raise InvalidInput('the sweep\'s input must be an object such as {} or {"scheduled_time": "..."}')
        scheduled = payload.get("scheduled_time")
        if scheduled is not None and (not isinstance(scheduled, str) or parse_time(scheduled) is None):
            raise InvalidInput("scheduled_time must be an ISO 8601 time")
        return cls(scheduled)


@dataclass
class SweepReport:
    """What one sweep did: events ``read`` from the System Log; executions ``started``, found
    ``already_done`` (started before by any ingress) or ``failed`` to start; events ``skipped``
    (not handled, not SUCCESS, malformed); requests (``pages``). ``stopped``: caught_up |
    page_limit | time_limit | checkpoint_moved | start_failed."""

    read: int = 0
    started: int = 0
    already_done: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    first_run: bool = False
    stopped: str = ""
    checkpoint_version: int = 0
    errors: list[str] = field(default_factory=list)
    skipped_reasons: list[dict[str, str]] = field(default_factory=list)

    def to_payload(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "started": self.started,
            "already_done": self.already_done,
            "skipped": self.skipped,
            "failed": self.failed,
            "pages": self.pages,
            "first_run": self.first_run,
            "stopped": self.stopped,
            "checkpoint_version": self.checkpoint_version,
            "errors": self.errors[:10],
        }


@dataclass(frozen=True)
class StreamResult:
    """What the Log Streaming receiver did with one EventBridge event. ``rejected``: the event
    was not an Okta System Log event at all (reported, never retried)."""

    started: int = 0
    already_done: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    rejected: str | None = None

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"started": self.started, "already_done": self.already_done, "skipped": self.skipped}
        if self.rejected is not None:
            out["rejected"] = self.rejected
        return out
