"""Token minting's payloads: what ``mint_token`` is asked, and the reference it answers with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from okta_auth0_sync.base.errors import InvalidInput
from okta_auth0_sync.domain.payloads import event_object

CONNECTIONS = ("auth0", "okta")


@dataclass(frozen=True)
class TokenReference:
    """``mint_token``'s answer for one connection: a reference to the cached token and its expiry,
    never the token (payloads stay in the execution history for 90 days)."""

    connection: str
    token_type: str  # Bearer | DPoP | SSWS
    token_ref: str
    expires_at: str | None
    minted: int  # tokens this invocation had to mint for it (0: the shared cache had one)

    @classmethod
    def static(cls, connection: str) -> TokenReference:
        """An SSWS API token: nothing to mint, nothing that expires."""
        return cls(connection, "SSWS", "static", None, 0)

    def to_payload(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "token_type": self.token_type,
            "token_ref": self.token_ref,
            "expires_at": self.expires_at,
            "minted": self.minted,
        }


@dataclass(frozen=True)
class TokenRequest:
    """``mint_token``'s input: ``{"connection": "auth0"}`` (the default) answered with one
    reference, or ``{"connections": ["okta", "auth0"]}`` answered with one reference per name."""

    connections: tuple[str, ...]  # each once, in the order asked
    keyed: bool  # asked with "connections": the answer is keyed by connection name

    @classmethod
    def from_payload(cls, payload: Any) -> TokenRequest:
        event = event_object(payload)
        asked = event.get("connections")  # absent or null: one connection (a falsy list is refused)
        names = [event.get("connection", "auth0")] if asked is None else asked
        if (
            not isinstance(names, list)
            or not names
            or any(not isinstance(n, str) or n not in CONNECTIONS for n in names)
        ):
            raise InvalidInput("connection(s) must be 'auth0' and/or 'okta'")
        return cls(tuple(dict.fromkeys(names)), asked is not None)

    def result(self, references: Sequence[TokenReference]) -> dict[str, Any]:
        if self.keyed:
            return {reference.connection: reference.to_payload() for reference in references}
        return references[0].to_payload()
