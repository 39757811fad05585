"""The desired lifecycle state of one Okta user: the newest event seen from any ingress, and
how far it has been applied. Pure; the ledger (:mod:`okta_auth0_sync.store.ledger`) persists it."""

from __future__ import annotations

from dataclasses import dataclass

from okta_auth0_sync.domain.events import ACTIONS, DEACTIVATE, parse_time

RANK = {"deactivate": 1, "reactivate": 0}  # at the same instant, the safer state wins


@dataclass(frozen=True)
class DesiredState:
    """The newest lifecycle event for one Okta user, and how far it has been applied."""

    okta_user_id: str
    event_uuid: str
    event_type: str
    published: str
    version: int
    applied_version: int
    revoked_version: int = 0

    @property
    def action(self) -> str:
        return ACTIONS[self.event_type]

    @property
    def deactivated(self) -> bool:
        return self.action == DEACTIVATE

    @property
    def applied(self) -> bool:
        return self.applied_version >= self.version


def published_ms(published: str) -> int:
    parsed = parse_time(published)
    if parsed is None:
        raise ValueError("published must be an ISO 8601 time with a zone")
    return round(parsed.timestamp() * 1000)
