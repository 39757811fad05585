"""The desired lifecycle state of one Okta user: the newest event seen from any ingress, and
how far it has been applied. Pure; the ledger (:mod:`okta_auth0_sync.store.ledger`) persists it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.domain.hooks import ACTIONS, DEACTIVATE, parse_time

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

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> DesiredState:
        return cls(
            okta_user_id=item["okta_user_id"]["S"],
            event_uuid=item["event_uuid"]["S"],
            event_type=item["event_type"]["S"],
            published=item["published"]["S"],
            version=int(item["version"]["N"]),
            applied_version=int(item.get("applied_version", {"N": "0"})["N"]),
            revoked_version=int(item.get("revoked_version", {"N": "0"})["N"]),
        )


def published_ms(published: str) -> int:
    parsed = parse_time(published)
    if parsed is None:
        raise ValueError("published must be an ISO 8601 time with a zone")
    return round(parsed.timestamp() * 1000)
